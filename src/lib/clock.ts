/** @module The one source of "now" for domain code, so tests can freeze or advance time. */

export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number
}

export const systemClock: Clock = { nowMs: () => Date.now() }

/** A clock that only moves when told to; for tests. */
export function createManualClock(startMs = Date.UTC(2026, 0, 1)): Clock & { advanceMs(ms: number): void } {
  let now = startMs
  return {
    nowMs: () => now,
    advanceMs: (ms) => {
      now += ms
    },
  }
}
