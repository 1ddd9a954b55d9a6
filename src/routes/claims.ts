/**
 * @module Duplicate routes refused on every node at once: a route holds a claim document named after its
 * (path_pattern, is_regex, priority, scope, proxy_hostnames), written with `ifAbsent`, so of two
 * concurrent creations of the same route exactly one gets it. The original enforced (path, priority) with
 * a key that a path change left behind (original-behaviour §3.4); here an update moves the claim.
 */
import * as v from 'valibot'
import type { Clock } from '../lib/index.ts'
import { sha256Hex } from '../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'
import { RouteError } from './errors.ts'
import type { Route } from './model.ts'

/**
 * A claim newer than this may belong to a write in flight (claim first, route document second), so it is
 * respected even though its route is not (yet) there. Older claims whose route is gone or no longer has
 * these fields were left by a crash and are taken over.
 */
const CLAIM_GRACE_MS = 30_000
const MAX_ATTEMPTS = 5

const ClaimSchema = v.object({ route_id: v.string(), claimed_at_ms: v.number() })

export type RouteIdentity = Pick<Route, 'path_pattern' | 'is_regex' | 'priority' | 'scope' | 'proxy_hostnames'>

/** What makes two routes duplicates; proxy_hostnames sorted, so their order does not matter. */
export function routeFingerprint(route: RouteIdentity): string {
  return sha256Hex(JSON.stringify([route.path_pattern, route.is_regex, route.priority, route.scope, [...route.proxy_hostnames].sort()]))
}

export interface RouteClaims {
  /** Claims the fingerprint for routeId. Returns null when it now holds it, else the id of the live route that does. */
  claim(fingerprint: string, routeId: string): Promise<string | null>
  /** Deletes the claim only while it still names routeId, so a successor's claim is never freed. */
  release(fingerprint: string, routeId: string): Promise<void>
}

/** `isLive(routeId, fingerprint)`: the route exists and still has these fields. */
export function createRouteClaims(store: Store, clock: Clock, isLive: (routeId: string, fingerprint: string) => Promise<boolean>): RouteClaims {
  const claims = createCollection(store, COLLECTIONS.routeClaims, ClaimSchema)
  return {
    async claim(fingerprint, routeId) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const mine = { route_id: routeId, claimed_at_ms: clock.nowMs() }
        if ((await claims.put(fingerprint, mine, { ifAbsent: true })) !== null) return null
        const held = await claims.get(fingerprint)
        if (!held) continue
        if (held.value.route_id === routeId) return null
        const isFresh = clock.nowMs() - held.value.claimed_at_ms < CLAIM_GRACE_MS
        if (isFresh || (await isLive(held.value.route_id, fingerprint))) return held.value.route_id
        // Compare-and-set: of several nodes taking over the same stale claim, one wins.
        if ((await claims.put(fingerprint, mine, { ifVersion: held.version })) !== null) return null
      }
      throw new RouteError('conflict', 'an equal route is being changed concurrently; retry')
    },
    async release(fingerprint, routeId) {
      const held = await claims.get(fingerprint)
      if (held?.value.route_id === routeId) await claims.del(fingerprint, { ifVersion: held.version })
    },
  }
}
