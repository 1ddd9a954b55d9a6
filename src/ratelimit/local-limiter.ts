/**
 * @module The data plane's rate limits (a proxy's rate_limit, per client address): GCRA in this
 * node's memory, checked synchronously with no store round trip, so a limited proxy's requests cost
 * one or two Map reads more and the relay stays on its fast path. The limit is therefore per node:
 * N nodes behind a load balancer admit up to N times the rate in total.
 *
 * Memory is bounded per proxy: past MAX_CLIENTS_PER_GROUP clients, those whose buckets are full again
 * (which is all that forgetting them loses) go first; if every one is still in use (a flood from that
 * many addresses), the proxy's table starts over.
 */
import type { RateLimitCounts } from './counts.ts'
import { addressIdentity } from './client-identity.ts'
import { gcraStep, type RateLimit } from './gcra.ts'

export const MAX_CLIENTS_PER_GROUP = 100_000

export interface LocalRateLimiter {
  /**
   * Counts one request of `address` to `group` (a proxy) and returns 0 when it may proceed, else the
   * milliseconds until a retry can be admitted. Synchronous, never throws.
   */
  admit(group: string, address: string, limit: RateLimit): number
}

export interface LocalRateLimiterDeps {
  /** A monotonic millisecond clock (performance.now()): the buckets are this node's alone, so a wall clock stepped by NTP must not refill or drain them. */
  readonly nowMs: () => number
  /** RATE_LIMIT_EXEMPT: addresses never limited. */
  readonly isExempt: (address: string) => boolean
  readonly counts: RateLimitCounts
  readonly maxClientsPerGroup?: number
}

export function createLocalRateLimiter(deps: LocalRateLimiterDeps): LocalRateLimiter {
  const maxClients = deps.maxClientsPerGroup ?? MAX_CLIENTS_PER_GROUP
  /** Per group: the theoretical arrival time of each client identity. */
  const groups = new Map<string, Map<string, number>>()
  /** Whether an address is exempt, so the CIDR list is searched once per address, not per request. */
  const exemptions = new Map<string, boolean>()

  const isExempt = (address: string): boolean => {
    let exempt = exemptions.get(address)
    if (exempt === undefined) {
      if (exemptions.size >= maxClients) exemptions.clear()
      exemptions.set(address, (exempt = deps.isExempt(address)))
    }
    return exempt
  }

  return {
    admit(group, address, limit) {
      if (isExempt(address)) return 0
      let clients = groups.get(group)
      if (!clients) groups.set(group, (clients = new Map()))
      const identity = addressIdentity(address)
      const tat = clients.get(identity)
      const nowMs = deps.nowMs()
      const step = gcraStep(tat ?? null, nowMs, limit)
      if (!step.isAdmitted) {
        deps.counts.refused('proxy')
        return step.retryAfterMs
      }
      if (tat === undefined && clients.size >= maxClients) makeRoom(clients, nowMs, maxClients)
      clients.set(identity, step.tat)
      return 0
    },
  }
}

/** Forgets the clients whose buckets are full again; if that frees nothing, every client. */
function makeRoom(clients: Map<string, number>, nowMs: number, maxClients: number): void {
  for (const [identity, tat] of clients) if (tat <= nowMs) clients.delete(identity)
  if (clients.size >= maxClients) clients.clear()
}
