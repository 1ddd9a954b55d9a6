/**
 * @module The generic cell rate algorithm (GCRA, ITU-T I.371 §4.4.2; the "virtual scheduling" form):
 * a token bucket kept as one number per client, its theoretical arrival time (TAT). A request is
 * admitted when, scheduled at one emission interval after the later of now and the TAT, it lands no
 * more than `burst` intervals ahead of now. Pure arithmetic: the limiters hold the TATs.
 * @see https://www.itu.int/rec/T-REC-I.371
 */

/** A rate: `burst` requests at once, then one every 1/perSecond seconds. */
export interface RateLimit {
  readonly perSecond: number
  readonly burst: number
}

export type GcraStep =
  /** Admitted: `tat` is the new theoretical arrival time to keep (epoch or monotonic ms, as now was). */
  | { readonly isAdmitted: true; readonly tat: number }
  /** Refused: the earliest moment a retry can be admitted is `retryAfterMs` from now (always > 0). */
  | { readonly isAdmitted: false; readonly retryAfterMs: number }

/** Milliseconds between two requests at the sustained rate. */
export function emissionIntervalMs(limit: RateLimit): number {
  return 1000 / limit.perSecond
}

/**
 * One request at `nowMs` against the client's TAT (`tat` ≤ now, or absent: a full bucket). The TAT
 * kept is never more than burst × interval ahead of now, so it expires from a store after that long.
 */
export function gcraStep(tat: number | null, nowMs: number, limit: RateLimit): GcraStep {
  const interval = emissionIntervalMs(limit)
  const next = Math.max(tat ?? nowMs, nowMs) + interval
  const allowedAt = next - interval * limit.burst
  if (allowedAt > nowMs) return { isAdmitted: false, retryAfterMs: allowedAt - nowMs }
  return { isAdmitted: true, tat: next }
}

/** RFC 9110 §10.2.3: Retry-After in whole seconds, at least 1 (a client told 0 would retry at once). */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000))
}
