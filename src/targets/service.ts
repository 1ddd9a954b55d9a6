/**
 * @module Creating, changing and deleting proxy targets. Every change is stored first and then
 * announced (proxy_created / proxy_updated / proxy_deleted), so the edge of every node applies it
 * without a restart; the edge's periodic reconcile repairs any event that was missed.
 */
import * as v from 'valibot'
import type { AppEvent, EventBus } from '../events/index.ts'
import type { Clock } from '../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'
import type { GitHubApp } from './auth-settings.ts'
import { TargetError } from './errors.ts'
import { withRouteUse, type RouteUse } from './route-settings.ts'
import {
  CreateProxyTargetSchema,
  StoredProxyTargetSchema,
  toPublicTarget,
  type CreateProxyTarget,
  type ProxyTarget,
  type StoredProxyTarget,
  type UpdateProxyTarget,
} from './model.ts'

/** Reads never carry the GitHub client secret; only githubApp() does, for the GitHub login. */
export interface ProxyTargets {
  list(): Promise<ProxyTarget[]>
  get(hostname: string): Promise<ProxyTarget | null>
  /** Throws TargetError('conflict') when the hostname exists. */
  create(input: CreateProxyTarget, actor: string | null): Promise<ProxyTarget>
  /** Applies every field given and keeps the others (the auth fields included); throws TargetError('not_found'). */
  update(hostname: string, changes: UpdateProxyTarget): Promise<ProxyTarget>
  /** Sets the proxy's own GitHub app, or with null clears it (the global app applies again); throws TargetError('not_found'). */
  setGitHubApp(hostname: string, app: GitHubApp | null): Promise<ProxyTarget>
  /** The proxy's own GitHub app with its secret; null when it has none (or does not exist). The only read of the secret. */
  gitHubApp(hostname: string): Promise<GitHubApp | null>
  /**
   * Makes one route apply to the proxy or not, editing the list its route_mode reads (enabled_routes
   * in `selective`, disabled_routes in `all`). Throws TargetError('not_found'), or 'invalid' in `none` mode.
   * Whether the route exists is the caller's to check.
   */
  setRouteUse(hostname: string, routeId: string, use: RouteUse): Promise<ProxyTarget>
  /** Throws TargetError('not_found'). */
  remove(hostname: string): Promise<void>
  /** Creates the target, with the schema's defaults, only when the hostname is free; for built-in proxies such as localhost. */
  ensure(input: v.InferInput<typeof CreateProxyTargetSchema>): Promise<void>
}

const MAX_UPDATE_ATTEMPTS = 5

export function createProxyTargets(store: Store, bus: EventBus, clock: Clock): ProxyTargets {
  const collection = createCollection(store, COLLECTIONS.proxyTargets, StoredProxyTargetSchema)
  const now = () => new Date(clock.nowMs()).toISOString()
  const announce = (event: AppEvent) => bus.publish(event)

  const create = async (input: CreateProxyTarget, actor: string | null): Promise<ProxyTarget | null> => {
    const stamp = now()
    const target: StoredProxyTarget = {
      ...input,
      github_client_id: null,
      github_client_secret: null,
      created_by: actor,
      created_at: stamp,
      updated_at: stamp,
      config_version: 1,
    }
    if ((await collection.put(target.proxy_hostname, target, { ifAbsent: true })) === null) return null
    await announce({ type: 'proxy_created', hostname: target.proxy_hostname })
    return toPublicTarget(target)
  }

  /** Compare-and-set, so two concurrent changes both apply instead of one silently losing. */
  const change = async (hostname: string, apply: (current: StoredProxyTarget) => StoredProxyTarget): Promise<ProxyTarget> => {
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const current = await collection.get(hostname)
      if (!current) throw new TargetError('not_found', `no proxy for ${hostname}`)
      const next: StoredProxyTarget = { ...apply(current.value), updated_at: now(), config_version: current.value.config_version + 1 }
      if ((await collection.put(hostname, next, { ifVersion: current.version })) !== null) {
        await announce({ type: 'proxy_updated', hostname })
        return toPublicTarget(next)
      }
    }
    throw new TargetError('conflict', `${hostname} is being changed concurrently; retry`)
  }

  return {
    async list() {
      return (await collection.list()).map(({ value }) => toPublicTarget(value))
    },
    async get(hostname) {
      const stored = await collection.get(hostname)
      return stored ? toPublicTarget(stored.value) : null
    },
    async create(input, actor) {
      const target = await create(input, actor)
      if (!target) throw new TargetError('conflict', `a proxy for ${input.proxy_hostname} already exists`)
      return target
    },
    async ensure(input) {
      await create(v.parse(CreateProxyTargetSchema, input), 'system')
    },
    update(hostname, changes) {
      const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
      return change(hostname, (current) => ({ ...current, ...defined }))
    },
    setGitHubApp(hostname, app) {
      return change(hostname, (current) => ({ ...current, github_client_id: app?.clientId ?? null, github_client_secret: app?.clientSecret ?? null }))
    },
    setRouteUse(hostname, routeId, use) {
      return change(hostname, (current) => ({ ...current, ...withRouteUse(current, routeId, use) }))
    },
    async gitHubApp(hostname) {
      const stored = (await collection.get(hostname))?.value
      return stored?.github_client_id && stored.github_client_secret ? { clientId: stored.github_client_id, clientSecret: stored.github_client_secret } : null
    },
    async remove(hostname) {
      if (!(await collection.del(hostname))) throw new TargetError('not_found', `no proxy for ${hostname}`)
      await announce({ type: 'proxy_deleted', hostname })
    },
  }
}
