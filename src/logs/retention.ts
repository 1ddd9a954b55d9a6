/**
 * @module Retention of the request log: by age (LOG_RETENTION) and by count (LOG_MAX_RECORDS), on a
 * timer. Every node runs it; trimming is idempotent, so nodes sharing a store need no lock.
 */
import type { Clock, Logger } from '../lib/index.ts'
import type { Store } from '../store/index.ts'

export interface RetentionOptions {
  readonly store: Store
  readonly stream: string
  readonly clock: Clock
  readonly logger: Logger
  readonly retentionMs: number
  readonly maxRecords: number
  readonly intervalMs: number
  /** What the log lines call the stream ("request log", "OAuth activity"). */
  readonly what: string
}

export interface RetentionResult {
  readonly byAge: number
  readonly byCount: number
}

export interface Retention {
  start(): void
  /** Trims now; rejects when the store does not answer. */
  enforce(): Promise<RetentionResult>
  stop(): void
}

export function createRetention(options: RetentionOptions): Retention {
  const { store, stream, clock, logger } = options
  let timer: ReturnType<typeof setInterval> | null = null
  let isRunning = false
  let isStopped = false

  const enforce = async (): Promise<RetentionResult> => {
    const byAge = await store.trim(stream, clock.nowMs() - options.retentionMs)
    const byCount = await store.trimToCount(stream, options.maxRecords)
    if (byAge + byCount > 0) logger.debug(`${options.what}: retention removed records`, { byAge, byCount })
    return { byAge, byCount }
  }

  const tick = async () => {
    if (isRunning) return
    isRunning = true
    try {
      // A pass begun before a stop may meet the store closed under it (a server that could not bind
      // its ports stops at once): that is the stop, not a failure to report.
      await enforce()
    } catch (error) {
      if (!isStopped) logger.warn(`${options.what}: retention failed; trying again later`, { error: String(error) })
    } finally {
      isRunning = false
    }
  }

  return {
    start() {
      if (timer) return
      isStopped = false
      timer = setInterval(() => void tick(), options.intervalMs)
      timer.unref?.()
      void tick()
    },
    enforce,
    stop() {
      isStopped = true
      if (timer) clearInterval(timer)
      timer = null
    },
  }
}
