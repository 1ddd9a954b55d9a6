/**
 * @module Drains the ring into the store in batches (one appendRows per batch, the ring's columns as
 * they are: no object or string per record is made here), every flushIntervalMs
 * or as soon as a batch is full, and writes the access log lines (ACCESS_LOG=stdout) from here, never
 * from the request's path. A store outage never reaches the data plane: the batch in hand is kept and
 * retried with backoff while the ring fills, and once the ring is full new records are dropped and
 * counted.
 */
import { yieldToEventLoop, type Logger } from '../lib/index.ts'
import type { RowBatch, Store } from '../store/index.ts'
import { accessLogLine } from './access-log.ts'
import { recordsOf } from './record-row.ts'
import type { RecordRing } from './ring.ts'

export interface LogWriterOptions {
  readonly ring: RecordRing
  readonly store: Store
  readonly stream: string
  readonly logger: Logger
  /** Where access log lines go; absent = no access log. */
  readonly accessLog?: (text: string) => void
  readonly flushIntervalMs: number
  readonly batchSize: number
}

/** What the log has done since start; read by /metrics and the tests. */
export interface LogWriterCounters {
  /** Records waiting in memory (the ring and a batch being retried). */
  readonly queued: number
  /** Records the store has accepted. */
  readonly written: number
  /** Records refused because the ring was full, or lost at stop while the store was down. */
  readonly dropped: number
  /** Batch writes the store refused (each is retried). */
  readonly writeFailures: number
}

export interface LogWriter {
  start(): void
  /** Writes what is queued now; resolves when that is done (or has failed and is kept for retry). */
  flush(): Promise<void>
  /** Called by the sink after a push: starts a flush early when a full batch is waiting. */
  notePushed(): void
  counters(): LogWriterCounters
  /** Stops the timer and writes what is left, once; what the store refuses then is counted as dropped. */
  stop(): Promise<void>
}

const MAX_RETRY_DELAY_MS = 5_000

export function createLogWriter(options: LogWriterOptions): LogWriter {
  const { ring, store, stream, logger, batchSize } = options
  /**
   * How many waiting records make a write due at once: a batch, or half the ring if that is less. A
   * ring smaller than a batch (LOG_RING_SIZE 5,000, batches of 8,192) otherwise waited for the timer
   * and overflowed at 28,000 requests/s with the store idle.
   */
  const dueAt = Math.max(1, Math.min(batchSize, Math.ceil(ring.capacity / 2)))
  let pending: RowBatch | null = null
  let written = 0
  let lostAtStop = 0
  let writeFailures = 0
  let consecutiveFailures = 0
  let retryAtMs = 0
  let running: Promise<void> | null = null
  let isEarlyFlushScheduled = false
  let timer: ReturnType<typeof setInterval> | null = null

  /**
   * One pass: the retried batch first, then the records queued when it began, then only full batches
   * (or everything, untilEmpty), until a write fails. Records that arrive while a batch is written wait
   * for a full batch or the next pass: a write per few hundred records cost a message to the store's
   * thread, a promise and a transaction each.
   */
  const drain = async (ignoreBackoff: boolean, untilEmpty: boolean) => {
    if (!ignoreBackoff && consecutiveFailures > 0 && performance.now() < retryAtMs) return
    let due = ring.size
    for (;;) {
      if (!pending) {
        if (ring.size === 0 || (due <= 0 && ring.size < dueAt && !untilEmpty)) return
        pending = ring.take(batchSize)
        due -= pending.count
        // The access log is written once per record, when it leaves the ring, whatever the store does.
        if (options.accessLog) writeAccessLog(options.accessLog, pending, logger)
      }
      try {
        await store.appendRows(stream, pending)
      } catch (error) {
        writeFailures++
        consecutiveFailures++
        retryAtMs = performance.now() + Math.min(MAX_RETRY_DELAY_MS, options.flushIntervalMs * 2 ** consecutiveFailures)
        if (consecutiveFailures === 1) logger.warn('request log: the store refused a batch; keeping it and retrying', { records: pending.count, error: String(error) })
        return
      }
      written += pending.count
      // Written: its memory serves the next take (the store keeps no reference to a batch it has written).
      ring.recycle(pending)
      pending = null
      if (consecutiveFailures > 0) logger.info('request log: the store takes records again', { failures: consecutiveFailures })
      consecutiveFailures = 0
      // The embedded store writes synchronously: requests get the thread between batches.
      if (ring.size > 0) await yieldToEventLoop()
    }
  }

  const flush = (ignoreBackoff = false, untilEmpty = false): Promise<void> => {
    // One drain at a time: a second caller waits for the running one, then drains what came since.
    if (running) return running.then(() => flush(ignoreBackoff, untilEmpty))
    running = drain(ignoreBackoff, untilEmpty).finally(() => {
      running = null
    })
    return running
  }

  return {
    start() {
      if (timer) return
      timer = setInterval(() => void flush(), options.flushIntervalMs)
      timer.unref?.()
    },
    flush: () => flush(true),
    notePushed() {
      if ((ring.size < dueAt && !ring.isTextHalfFull) || isEarlyFlushScheduled || consecutiveFailures > 0) return
      isEarlyFlushScheduled = true
      setImmediate(() => {
        isEarlyFlushScheduled = false
        void flush()
      })
    },
    counters: () => ({
      queued: ring.size + (pending?.count ?? 0),
      written,
      dropped: ring.dropped + lostAtStop,
      writeFailures,
    }),
    async stop() {
      if (timer) clearInterval(timer)
      timer = null
      await flush(true, true)
      if (pending || ring.size > 0) {
        const lost = (pending?.count ?? 0) + ring.size
        lostAtStop += lost
        pending = null
        ring.take(ring.size)
        logger.warn('request log: records not written at stop (the store did not take them)', { records: lost })
      }
    },
  }
}

function writeAccessLog(write: (text: string) => void, batch: RowBatch, logger: Logger): void {
  try {
    write(recordsOf(batch).map(accessLogLine).join(''))
  } catch (error) {
    logger.warn('request log: the access log could not be written', { error: String(error) })
  }
}
