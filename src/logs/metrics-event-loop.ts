/**
 * @module Event-loop lag, by timer drift: a timer asks to fire after a fixed interval, and how much
 * later than that it fires is how long the loop was busy with something else (a long synchronous
 * task, a GC pause). Each sample goes to a histogram, so a scraper sees the distribution between two
 * scrapes rather than one lucky or unlucky instant.
 */
import type { HistogramChild } from './metrics-registry.ts'

/** Often enough to catch a stall of a few tens of milliseconds, rarely enough to cost nothing measurable. */
export const DEFAULT_LAG_SAMPLE_INTERVAL_MS = 250

export interface EventLoopLagSampler {
  stop(): void
}

/**
 * Samples until stopped. The timer is unref'd: it never keeps the process alive. Times come from the
 * monotonic clock (performance.now), not an injected wall clock: drift is a property of the real loop.
 */
export function startEventLoopLagSampler(lagSeconds: HistogramChild, intervalMs = DEFAULT_LAG_SAMPLE_INTERVAL_MS): EventLoopLagSampler {
  let timer: Timer | undefined
  let expectedAt = 0
  const arm = () => {
    expectedAt = performance.now() + intervalMs
    timer = setTimeout(tick, intervalMs)
    timer.unref()
  }
  const tick = () => {
    lagSeconds.observe(Math.max(0, performance.now() - expectedAt) / 1000)
    arm()
  }
  arm()
  return {
    stop() {
      clearTimeout(timer)
    },
  }
}
