/**
 * @module Creating, changing and deleting routes. Every change is stored first and then announced
 * (route_changed), so every node's data plane recompiles its route table without a restart. Duplicates are
 * refused across nodes by claims (claims.ts); creation order across nodes comes from sequence.ts.
 */
import type { AppEvent, EventBus } from '../events/index.ts'
import { parseServiceRef, type Clock } from '../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'
import { createRouteClaims, routeFingerprint } from './claims.ts'
import { RouteError } from './errors.ts'
import { RouteSchema, type Route } from './model.ts'
import { byMatchingOrder } from './order.ts'
import { checkRouteFields, type CreateRoute, type RawRouteFields, type RouteFields, type UpdateRoute } from './schemas.ts'
import { nextRouteSequence } from './sequence.ts'

/** What the route store asks of other modules, injected by the composition root (routes imports no sibling). */
export interface RouteTargetChecks {
  /** Whether the service a `service` target names exists (`name`, or `name:port` for a Docker service's port): it must. */
  serviceExists(ref: string): Promise<boolean>
  /** Whether a proxy with this hostname exists: a `hostname` target must name one. */
  proxyExists(hostname: string): Promise<boolean>
}

export interface RouteStore {
  /** Every route, enabled or not, in matching order: priority descending, then creation order (sequence), then route_id. */
  list(): Promise<Route[]>
  get(routeId: string): Promise<Route | null>
  /**
   * Throws RouteError('conflict') when a route with the same path_pattern, is_regex, priority, scope and
   * proxy_hostnames exists, RouteError('invalid', …, 'target_value') when the target names no service or proxy.
   */
  create(input: CreateRoute, actor: string | null): Promise<Route>
  /**
   * Creates a route under the id it had elsewhere (configuration import), so proxies' enabled_routes and
   * disabled_routes still name it. It gets a new sequence: routes imported in matching order keep their
   * order. Throws RouteError('conflict') when the id exists or an equal route holds the claim, and what
   * create throws for a missing target.
   */
  importRoute(input: CreateRoute & { readonly route_id: string }, actor: string | null): Promise<Route>
  /** Applies every field given and keeps the others; throws RouteError('not_found' | 'conflict' | 'invalid'). */
  update(routeId: string, changes: UpdateRoute): Promise<Route>
  /** Throws RouteError('not_found'). */
  remove(routeId: string): Promise<void>
}

const MAX_ATTEMPTS = 5

export function createRouteStore(store: Store, bus: EventBus, clock: Clock, checks: RouteTargetChecks): RouteStore {
  const collection = createCollection(store, COLLECTIONS.routes, RouteSchema)
  const claims = createRouteClaims(store, clock, async (routeId, fingerprint) => {
    const route = await collection.get(routeId)
    return route !== null && routeFingerprint(route.value) === fingerprint
  })
  const now = () => new Date(clock.nowMs()).toISOString()
  const announce = (routeId: string) => bus.publish({ type: 'route_changed', routeId } satisfies AppEvent)
  const duplicateOf = (holder: string) => new RouteError('conflict', `route ${holder} already has this path_pattern, is_regex, priority, scope and proxy_hostnames`)

  /** A service or hostname target must exist when it is set; later deletions are guarded where they happen (routesTargeting). */
  const checkTargetExists = async ({ target_type: type, target_value: value }: RouteFields) => {
    if (type === 'service' && !(await checks.serviceExists(value))) throw new RouteError('invalid', `no service ${value}`, 'target_value')
    if (type === 'hostname' && !(await checks.proxyExists(value))) throw new RouteError('invalid', `no proxy for ${value}`, 'target_value')
  }

  /** Claims the route's fields for routeId and writes it; null when the id is taken (the claim is given back). */
  const insert = async (input: CreateRoute, routeId: string, actor: string | null): Promise<Route | null> => {
    const fingerprint = routeFingerprint(input)
    const holder = await claims.claim(fingerprint, routeId)
    if (holder !== null) throw duplicateOf(holder)
    try {
      const stamp = now()
      const route: Route = { ...input, route_id: routeId, created_by: actor, created_at: stamp, updated_at: stamp, sequence: await nextRouteSequence(store) }
      if ((await collection.put(routeId, route, { ifAbsent: true })) !== null) {
        await announce(routeId)
        return route
      }
    } catch (error) {
      await claims.release(fingerprint, routeId).catch(() => {})
      throw error
    }
    // The id is taken. Its claim is given back only if it is ours: the route holding the id may have these very fields.
    const holderOfId = await collection.get(routeId)
    if (!holderOfId || routeFingerprint(holderOfId.value) !== fingerprint) await claims.release(fingerprint, routeId)
    return null
  }

  return {
    async list() {
      return (await collection.list()).map(({ value }) => value).sort(byMatchingOrder)
    },
    async get(routeId) {
      return (await collection.get(routeId))?.value ?? null
    },
    async create(input, actor) {
      await checkTargetExists(input)
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const route = await insert(input, newRouteId(input.path_pattern), actor)
        if (route) return route
        // The random id was taken (32 bits): draw another.
      }
      throw new RouteError('conflict', 'no free route id; retry')
    },
    async importRoute({ route_id: routeId, ...input }, actor) {
      await checkTargetExists(input)
      const route = await insert(input, routeId, actor)
      if (!route) throw new RouteError('conflict', `a route ${routeId} already exists`)
      return route
    },
    async update(routeId, changes) {
      const given = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<RawRouteFields>
      // Compare-and-set, so two concurrent changes both apply instead of one silently losing.
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const current = await collection.get(routeId)
        if (!current) throw new RouteError('not_found', `no route ${routeId}`)
        const checked = checkRouteFields({ ...current.value, ...given })
        if (!checked.ok) throw new RouteError('invalid', checked.message, checked.field)
        if (given.target_type !== undefined || given.target_value !== undefined) await checkTargetExists(checked.fields)
        const next: Route = { ...current.value, ...checked.fields, updated_at: now() }
        const [before, after] = [routeFingerprint(current.value), routeFingerprint(next)]
        const moves = before !== after
        if (moves) {
          const holder = await claims.claim(after, routeId)
          if (holder !== null) throw duplicateOf(holder)
        }
        if ((await collection.put(routeId, next, { ifVersion: current.version })) !== null) {
          if (moves) await claims.release(before, routeId)
          await announce(routeId)
          return next
        }
        if (moves) await claims.release(after, routeId)
      }
      throw new RouteError('conflict', `route ${routeId} is being changed concurrently; retry`)
    },
    async remove(routeId) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const current = await collection.get(routeId)
        if (!current) throw new RouteError('not_found', `no route ${routeId}`)
        if (await collection.del(routeId, { ifVersion: current.version })) {
          await claims.release(routeFingerprint(current.value), routeId)
          await announce(routeId)
          return
        }
      }
      throw new RouteError('conflict', `route ${routeId} is being changed concurrently; retry`)
    },
  }
}

/**
 * The routes whose target is this service (any of its ports) or proxy hostname, for refusing (or listing)
 * what a deletion would break. Routes merely scoped to a proxy (proxy_hostnames) are not counted: they only stop applying.
 */
export function routesTargeting(routes: readonly Route[], kind: 'hostname' | 'service', value: string): Route[] {
  if (kind === 'service') return routes.filter((route) => route.target_type === 'service' && parseServiceRef(route.target_value)?.name === value)
  const wanted = value.toLowerCase()
  return routes.filter((route) => route.target_type === kind && route.target_value === wanted)
}

/** Readable ids, as the original made them: "/api/v1/" → "api-v1-3fa2c9d1", "/" → "root-…". */
export function newRouteId(pathPattern: string): string {
  const slug = pathPattern.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+/, '').slice(0, 60).replace(/-+$/, '')
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(4)), (byte) => byte.toString(16).padStart(2, '0')).join('')
  return `${slug || 'root'}-${suffix}`
}
