/**
 * @module The main side of the embedded store's log writer thread (log-append-worker.ts): batches go
 * to the thread in order, each promise settles when its rows are committed. If the thread cannot start
 * (a build without its file) or dies, the batches in flight and every later one are written on this
 * thread instead, so nothing is lost and nothing waits forever.
 */
import type { NewLogEntry } from './store.ts'

export interface LogAppendThread {
  appendMany(stream: string, entries: readonly NewLogEntry[]): Promise<void>
  close(): Promise<void>
}

interface Pending {
  readonly stream: string
  readonly entries: readonly NewLogEntry[]
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/** `writeHere` is the store's own appendMany, used when the thread is unavailable. */
export function startLogAppendThread(path: string, writeHere: (stream: string, entries: readonly NewLogEntry[]) => void): LogAppendThread {
  const pending = new Map<number, Pending>()
  let nextId = 1
  let worker: Worker | null = null
  let closed: (() => void) | null = null

  const fallBack = (why: unknown) => {
    if (worker === null) return
    worker.terminate()
    worker = null
    console.warn(JSON.stringify({ level: 'warn', msg: 'store: the log writer thread stopped; writing log entries on the main thread', detail: String(why) }))
    for (const [id, item] of pending) {
      pending.delete(id)
      try {
        writeHere(item.stream, item.entries)
        item.resolve()
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
    // The thread must not keep the process alive: the store closes it, and an exit ends it.
    ;(worker as unknown as { unref(): void }).unref()
    worker.onmessage = (event: MessageEvent<{ id?: number; error?: string; closed?: true }>) => {
      const { id, error } = event.data
      if (event.data.closed) return closed?.()
      if (id === undefined) return
      const item = pending.get(id)
      if (!item) return
      pending.delete(id)
      if (error === undefined) item.resolve()
      else item.reject(new Error(error))
    }
    worker.onerror = (event) => fallBack(event.message)
    worker.postMessage({ open: path })
  } catch (error) {
    fallBack(error)
    worker = null
  }

  return {
    appendMany(stream, entries) {
      if (entries.length === 0) return Promise.resolve()
      if (worker === null) {
        writeHere(stream, entries)
        return Promise.resolve()
      }
      const id = nextId++
      const { promise, resolve, reject } = Promise.withResolvers<void>()
      pending.set(id, { stream, entries, resolve, reject })
      worker.postMessage({ id, stream, entries: entries.map((entry) => [entry.timeMs, entry.data]) })
      return promise
    },
    async close() {
      if (worker === null) return
      const { promise, resolve } = Promise.withResolvers<void>()
      closed = resolve
      worker.postMessage({ close: true })
      // A thread that does not answer within 2 s is stopped: the store is closing either way.
      const timer = setTimeout(resolve, 2_000)
      await promise
      clearTimeout(timer)
      worker?.terminate()
      worker = null
    },
  }
}
