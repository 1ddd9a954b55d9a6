/**
 * @module The clients a limiter has refused, until their retry-after: a blocked client's next requests
 * are refused from memory, costing no store round trip (a flood from one address then costs the store
 * one read and write per retry-after, not one per request). Bounded; what it forgets is only asked of
 * the store again, which refuses it just the same.
 */

/** Blocked clients kept per limiter; past it, expired entries go, then the oldest. */
export const MAX_BLOCKED = 10_000

export interface BlockedCache {
  /** Milliseconds until the key may try again, or 0 when it is not (or no longer) blocked. */
  remainingMs(key: string, nowMs: number): number
  block(key: string, untilMs: number, nowMs: number): void
}

export function createBlockedCache(maxEntries = MAX_BLOCKED): BlockedCache {
  const until = new Map<string, number>()
  const evict = (nowMs: number) => {
    for (const [key, atMs] of until) if (atMs <= nowMs) until.delete(key)
    // Still full of live blocks: the oldest go first (Map keeps insertion order).
    for (const key of until.keys()) {
      if (until.size < maxEntries) break
      until.delete(key)
    }
  }
  return {
    remainingMs(key, nowMs) {
      const atMs = until.get(key)
      if (atMs === undefined) return 0
      if (atMs > nowMs) return atMs - nowMs
      until.delete(key)
      return 0
    },
    block(key, untilMs, nowMs) {
      until.delete(key)
      if (until.size >= maxEntries) evict(nowMs)
      until.set(key, untilMs)
    },
  }
}
