/**
 * @module The embedded store's log writer thread: appends batches of log entries to the SQLite file on
 * its own connection, as chunk rows (log-chunks.ts), so the inserts do not run on the thread that
 * serves requests. WAL lets the main connection read while this one writes; busy_timeout queues either side.
 * A batch arrives as one message per chunk row: a flat object of strings and numbers is copied between
 * threads in about a microsecond, an array of objects in hundreds (bun's postMessage fast path).
 */
import { Database } from 'bun:sqlite'
import { createChunkWriter, type ChunkRow, type ChunkWriter } from './log-chunks.ts'

declare const self: Worker

/** One chunk row of batch `id` (packEntries on the sending side: ids relative to the batch). */
export interface ChunkRowMessage extends ChunkRow {
  readonly id: number
  readonly stream: string
  /** How many rows the batch has; it is written when the last one has arrived. */
  readonly rows: number
}

let db: Database | null = null
let append: ChunkWriter | null = null
/** The rows of the batch being received (messages arrive in the order they were posted). */
let batch: ChunkRow[] = []

self.onmessage = (event: MessageEvent<{ open: string } | ChunkRowMessage | { close: true }>) => {
  const message = event.data
  if ('open' in message) {
    db = new Database(message.open, { strict: true })
    db.exec('PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;')
    // Written exactly as the store's own connection would (log-chunks.ts).
    append = createChunkWriter(db)
    self.postMessage({ opened: true })
    return
  }
  if ('close' in message) {
    db?.close(true)
    db = null
    self.postMessage({ closed: true })
    return
  }
  batch.push(message)
  if (batch.length < message.rows) return
  const rows = batch
  batch = []
  try {
    append!(message.stream, rows)
    self.postMessage({ id: message.id })
  } catch (error) {
    self.postMessage({ id: message.id, error: String(error) })
  }
}
