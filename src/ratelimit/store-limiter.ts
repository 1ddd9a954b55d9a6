/**
 * @module A rate limit held in the store, so that it holds across every node sharing it (Redis, or
 * processes on one SQLite file): GCRA (gcra.ts) with one document per (scope, client), its value the
 * theoretical arrival time, written by compare-and-set and expiring when the bucket would be full
 * again. Refused clients are remembered in memory until their retry-after (blocked-cache.ts), and the
 * checks of one client on one node run one at a time, so a node never races itself; only another
 * node's write can make a compare-and-set fail, and the check is then read and tried again.
 *
 * A store that does not answer admits the request (logged, at most every 10 s): the limit protects
 * the store, and refusing everyone while it is down would turn its outage into ours as well. The
 * request itself then fails on the store or not, as it would have without a limit.
 */
import type { Clock, Logger } from '../lib/index.ts'
import { keys, StoreUnavailableError, type Store } from '../store/index.ts'
import { createBlockedCache } from './blocked-cache.ts'
import type { RateLimitCounts, RateLimitScope } from './counts.ts'
import { emissionIntervalMs, gcraStep, type RateLimit } from './gcra.ts'

/** Compare-and-set attempts before a check gives up: each failure means another node admitted one of this client's requests meanwhile. */
export const MAX_CAS_ATTEMPTS = 16
const OUTAGE_LOG_INTERVAL_MS = 10_000

export type RateVerdict = { readonly isAdmitted: true } | { readonly isAdmitted: false; readonly retryAfterMs: number }

const ADMITTED: RateVerdict = { isAdmitted: true }

export interface StoreRateLimiter {
  readonly scope: RateLimitScope
  readonly limit: RateLimit
  /** Counts one request of `identity` (an address identity or a token subject) and says whether it may proceed. */
  check(identity: string): Promise<RateVerdict>
}

export interface StoreRateLimiterDeps {
  readonly store: Store
  /** The wall clock: theoretical arrival times are shared by nodes, so they are epoch milliseconds. */
  readonly clock: Clock
  readonly logger: Logger
  readonly counts: RateLimitCounts
}

export function createStoreRateLimiter(scope: RateLimitScope, limit: RateLimit, deps: StoreRateLimiterDeps): StoreRateLimiter {
  const { store, clock, logger, counts } = deps
  const blocked = createBlockedCache()
  /** The check in flight per key on this node: the next one for the same key waits for it. */
  const inFlight = new Map<string, Promise<RateVerdict>>()
  let lastOutageLogMs = -Infinity

  const refuse = (key: string, identity: string, retryAfterMs: number, nowMs: number, isNewBlock: boolean): RateVerdict => {
    counts.refused(scope)
    if (isNewBlock) {
      blocked.block(key, nowMs + retryAfterMs, nowMs)
      // Once per block, not per request: a flood must not flood the log too.
      logger.info('rate limited', { scope, client: identity, retry_after_ms: Math.ceil(retryAfterMs) })
    }
    return { isAdmitted: false, retryAfterMs }
  }

  /** Reads the TAT, steps it, writes it back if nobody else wrote meanwhile; again on a conflict. */
  const checkInStore = async (key: string, identity: string): Promise<RateVerdict> => {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const nowMs = clock.nowMs()
      const remaining = blocked.remainingMs(key, nowMs)
      if (remaining > 0) return refuse(key, identity, remaining, nowMs, false)
      const current = await store.get(key)
      const stored = current === null ? NaN : Number(current.value)
      const step = gcraStep(Number.isFinite(stored) ? stored : null, nowMs, limit)
      if (!step.isAdmitted) return refuse(key, identity, step.retryAfterMs, nowMs, true)
      // Expires when the bucket is full again: an absent document means exactly that.
      const ttlMs = Math.ceil(step.tat - nowMs) + 1
      const written = current === null ? await store.put(key, String(step.tat), { ifAbsent: true, ttlMs }) : await store.put(key, String(step.tat), { ifVersion: current.version, ttlMs })
      if (written !== null) return ADMITTED
    }
    // Other nodes kept admitting this client's requests between our read and write: it is sending fast.
    return refuse(key, identity, emissionIntervalMs(limit), clock.nowMs(), false)
  }

  const admitOnOutage = (error: unknown): RateVerdict => {
    if (!(error instanceof StoreUnavailableError)) throw error
    const nowMs = clock.nowMs()
    if (nowMs - lastOutageLogMs >= OUTAGE_LOG_INTERVAL_MS) {
      lastOutageLogMs = nowMs
      logger.warn('rate limit not checked: the store is unavailable', { scope, error: error.message })
    }
    return ADMITTED
  }

  return {
    scope,
    limit,
    check(identity) {
      const key = keys.rateLimit(scope, identity)
      const nowMs = clock.nowMs()
      const remaining = blocked.remainingMs(key, nowMs)
      if (remaining > 0) return Promise.resolve(refuse(key, identity, remaining, nowMs, false))
      const previous = inFlight.get(key)
      const run = () => checkInStore(key, identity).catch(admitOnOutage)
      const checked = previous ? previous.then(run, run) : run()
      inFlight.set(key, checked)
      const forget = () => {
        if (inFlight.get(key) === checked) inFlight.delete(key)
      }
      checked.then(forget, forget)
      return checked
    },
  }
}
