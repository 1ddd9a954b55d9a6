/**
 * @module A bounded queue in front of one log stream, for low-volume writers (OAuth activity, header
 * captures): add() is synchronous, never throws and never waits; entries are written in batches by
 * one writer at a time, in the order they were added. When the queue is full, or the store refuses a
 * batch, entries are dropped and counted: the request that produced them goes on.
 */
import type { Logger } from '../lib/index.ts'
import type { NewLogEntry, Store } from '../store/index.ts'

export interface QueuedAppends {
  /** Queues one entry; false (and counted) when the queue is full. */
  add(entry: NewLogEntry): boolean
  /** Resolves once every entry queued before the call is written (or dropped). */
  flush(): Promise<void>
  /** Entries lost so far. */
  readonly dropped: number
}

/** One round trip per batch. */
const BATCH = 500

export function createQueuedAppends(store: Store, stream: string, options: { readonly maxPending: number; readonly logger: Logger; readonly what: string }): QueuedAppends {
  let pending: NewLogEntry[] = []
  let dropped = 0
  let writing: Promise<void> | null = null

  async function drain(): Promise<void> {
    while (pending.length > 0) {
      const batch = pending.slice(0, BATCH)
      pending = pending.slice(batch.length)
      try {
        await store.appendMany(stream, batch)
      } catch (error) {
        dropped += batch.length
        options.logger.warn(`${options.what} dropped: the store did not take them`, { entries: batch.length, error: String(error) })
      }
    }
  }

  function startWriting(): Promise<void> {
    writing ??= drain().finally(() => {
      writing = null
    })
    return writing
  }

  return {
    add(entry) {
      if (pending.length >= options.maxPending) {
        dropped++
        return false
      }
      pending.push(entry)
      // After the current turn, so what one request adds goes out in one batch.
      if (writing === null) queueMicrotask(() => void startWriting())
      return true
    },
    async flush() {
      // A batch taken before this call may still be in flight, and the queue may have refilled behind it.
      while (writing !== null || pending.length > 0) await startWriting()
    },
    get dropped() {
      return dropped
    },
  }
}
