/**
 * @module The main side of the embedded store's log writer thread (log-append-worker.ts): batches go
 * to the thread in order, each promise settles when its rows are committed. appendMany's entries are
 * packed into chunk rows here (log-chunks.ts: a few strings cross the thread boundary, not hundreds);
 * appendRows' batches cross as they are (a few typed arrays and a short list of strings, RowBatch) and are packed
 * there, so the thread serving requests does not pay for the packing. If the thread cannot start (a
 * build without its file) or dies, the batches in flight and every later one are written on this
 * thread instead, so nothing is lost and nothing waits forever. The thread runs in the background
 * (SCHED_IDLE) where it can be moved out again: each batch sent is timed (writer-scheduling.ts).
 */
import type { LogAppendMessage, TrimMessage, WriterOpened } from './log-append-worker.ts'
import type { ChunkRow } from './log-chunks.ts'
import type { RowBatch } from './store.ts'
import { createWriterScheduling, type WriterScheduling } from './writer-scheduling.ts'

export interface LogAppendThread {
  /** Writes one batch packed by packEntries. */
  append(stream: string, batch: readonly ChunkRow[]): Promise<void>
  /** Writes one batch of rows (packed by packRows on the thread). */
  appendRows(stream: string, rows: RowBatch): Promise<void>
  /** Retention on the thread (log-chunks-trim.ts): entries before `value` ms (age), or all but the newest `value` (count); resolves to how many went. */
  trim(stream: string, kind: TrimKind, value: number): Promise<number>
  close(): Promise<void>
}

export type TrimKind = TrimMessage['trim']

/** How this thread writes what it sent, if the writer thread is gone. */
export interface WriteHere {
  chunks(stream: string, batch: readonly ChunkRow[]): void
  rows(stream: string, rows: RowBatch): void
  trim(stream: string, kind: TrimKind, value: number): Promise<number>
}

/** Worker.ref/unref: in bun (and Node), missing from the DOM typings the project uses. */
interface RefCounted {
  ref(): void
  unref(): void
}

interface Pending {
  /** Does the work on this thread (the fallback). */
  readonly runHere: () => unknown
  readonly resolve: (value: unknown) => void
  readonly reject: (error: Error) => void
  /** Tells the thread's scheduling the batch is done with. */
  readonly settled?: () => void
}

/** `writeHere` is the store's own writer, used when the thread is unavailable. */
export function startLogAppendThread(path: string, writeHere: WriteHere): LogAppendThread {
  const pending = new Map<number, Pending>()
  let nextId = 1
  let worker: Worker | null = null
  let closed: (() => void) | null = null
  let scheduling: WriterScheduling | null = null

  const fallBack = (why: unknown) => {
    if (worker === null) return
    worker.terminate()
    worker = null
    console.warn(JSON.stringify({ level: 'warn', msg: 'store: the log writer thread stopped; writing log entries on the main thread', detail: String(why) }))
    scheduling?.close()
    for (const [id, item] of pending) {
      pending.delete(id)
      try {
        Promise.resolve(item.runHere()).then(item.resolve, item.reject)
      } catch (error) {
        item.reject(error as Error)
      }
    }
    closed?.()
  }

  try {
    // A single-file build names its extra entry points by their path below the entry points' common folder (src/).
    const isCompiled = import.meta.url.includes('/$bunfs/')
    worker = new Worker(isCompiled ? './store/log-append-worker.ts' : new URL('./log-append-worker.ts', import.meta.url).href)
    // An idle thread must not keep the process alive: the store closes it, and an exit ends it. While
    // batches are in flight it is referenced: awaiting an unreferenced worker with nothing else
    // keeping the event loop alive makes bun poll without sleeping (a core at 100 % until the reply).
    ;(worker as unknown as RefCounted).unref()
    worker.onmessage = (event: MessageEvent<{ id?: number; error?: string; removed?: number; closed?: true } | WriterOpened>) => {
      const message = event.data
      if ('opened' in message) {
        if (message.backgroundThreadId !== null) scheduling = createWriterScheduling({ threadId: message.backgroundThreadId })
        return
      }
      const { id, error } = message
      if (message.closed) return closed?.()
      if (id === undefined) return
      const item = pending.get(id)
      if (!item) return
      pending.delete(id)
      item.settled?.()
      if (pending.size === 0) (worker as unknown as RefCounted | null)?.unref()
      if (error === undefined) item.resolve(message.removed)
      else item.reject(new Error(error))
    }
    worker.onerror = (event) => fallBack(event.message)
    worker.postMessage({ open: path })
  } catch (error) {
    fallBack(error)
    worker = null
  }

  /**
   * Sends work as its messages (by send), or does it here when there is no thread. A batch is timed
   * for the thread's scheduling; a trim is not (it takes seconds when there is much to remove).
   */
  const submit = <T>(runHere: () => T | Promise<T>, send: (worker: Worker, id: number) => void, isBatch = true): Promise<T> => {
    if (worker === null) return Promise.resolve().then(runHere)
    const id = nextId++
    const { promise, resolve, reject } = Promise.withResolvers<T>()
    if (pending.size === 0) (worker as unknown as RefCounted).ref()
    pending.set(id, { runHere, resolve: resolve as (value: unknown) => void, reject, settled: isBatch ? scheduling?.sent() : undefined })
    send(worker, id)
    return promise
  }

  return {
    append(stream, batch) {
      if (batch.length === 0) return Promise.resolve()
      // A chunk of rows (bytes) is copied, not transferred: the batch is kept for the fallback until it is written.
      return submit(
        () => writeHere.chunks(stream, batch),
        (worker, id) => {
          for (const row of batch) worker.postMessage({ id, stream, rows: batch.length, firstId: row.firstId, timeMin: row.timeMin, timeMax: row.timeMax, entries: row.entries, meta: row.meta, data: row.data } satisfies LogAppendMessage)
        },
      )
    },
    appendRows(stream, rows) {
      if (rows.count === 0) return Promise.resolve()
      // Its dictionary is copied; its arrays too, unless they are on a SharedArrayBuffer (the
      // ring's are): either way the batch stays readable here for the fallback.
      return submit(
        () => writeHere.rows(stream, rows),
        (worker, id) => worker.postMessage({ id, stream, batch: rows } satisfies LogAppendMessage),
      )
    },
    trim(stream, kind, value) {
      return submit(
        () => writeHere.trim(stream, kind, value),
        (worker, id) => worker.postMessage({ id, stream, trim: kind, value } satisfies LogAppendMessage),
        false,
      )
    },
    async close() {
      if (worker === null) return
      const { promise, resolve } = Promise.withResolvers<void>()
      closed = resolve
      // Timed like a batch: a thread starved in the background (a trim's step to end first, then the
      // file to close) is moved out of it, and ends within the limit below instead of being cut off.
      scheduling?.sent()
      worker.postMessage({ close: true })
      // A thread that does not answer within 2 s is stopped: the store is closing either way.
      const timer = setTimeout(resolve, 2_000)
      await promise
      clearTimeout(timer)
      scheduling?.close()
      worker?.terminate()
      worker = null
      // The thread answers everything before it closes (a trim cut short answers 0); if it did not
      // within the 2 s, what is still in flight fails.
      for (const item of pending.values()) item.reject(new Error('the store is closed'))
      pending.clear()
    },
  }
}
