/**
 * @module The embedded store's log writer thread: appends batches of log entries to the SQLite file on
 * its own connection, so the inserts (a few microseconds a row) do not run on the thread that serves
 * requests. WAL lets the main connection read while this one writes; busy_timeout queues either side.
 */
import { Database } from 'bun:sqlite'

declare const self: Worker

interface AppendMessage {
  readonly id: number
  readonly stream: string
  /** Entries as [timeMs, data] pairs (cheaper to send than objects). */
  readonly entries: readonly (readonly [number, string])[]
}

let db: Database | null = null
let append: ((stream: string, entries: readonly (readonly [number, string])[]) => void) | null = null

self.onmessage = (event: MessageEvent<{ open: string } | AppendMessage | { close: true }>) => {
  const message = event.data
  if ('open' in message) {
    db = new Database(message.open, { strict: true })
    db.exec('PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;')
    const insert = db.prepare('INSERT INTO log (stream, time_ms, data) VALUES (?, ?, ?)')
    append = db.transaction((stream: string, entries: readonly (readonly [number, string])[]) => {
      for (const [timeMs, data] of entries) insert.run(stream, timeMs, data)
    }).immediate
    self.postMessage({ opened: true })
    return
  }
  if ('close' in message) {
    db?.close(true)
    db = null
    self.postMessage({ closed: true })
    return
  }
  try {
    append!(message.stream, message.entries)
    self.postMessage({ id: message.id })
  } catch (error) {
    self.postMessage({ id: message.id, error: String(error) })
  }
}
