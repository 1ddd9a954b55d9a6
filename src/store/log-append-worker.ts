/**
 * @module The embedded store's log writer thread: appends batches of log entries to the log's SQLite
 * file (LOG_FILE, log-chunks.ts) on its own connection, as chunk rows, so the packing of rows and the
 * inserts do not run on the thread that serves requests. WAL lets the store's own connection to that
 * file read while this one writes; busy_timeout queues either side. appendMany's batch arrives as one message per chunk row, packed by
 * the sender (a flat object of strings and numbers is copied between threads in about a microsecond,
 * an array of objects in hundreds: bun's postMessage fast path); appendRows' batch as one message (a
 * few typed arrays, the ring's on one SharedArrayBuffer, and the dictionary). Retention's trims run
 * here too (runTrim).
 */
import { Database } from 'bun:sqlite'
import { createChunkWriter, packRows, type ChunkRow, type ChunkWriter } from './log-chunks.ts'
import { createChunkTrimmer, type ChunkTrimmer } from './log-chunks-trim.ts'
import { canLeaveBackground, currentThreadId, setThreadPolicy } from './thread-priority.ts'
import type { RowBatch } from './store.ts'

declare const self: Worker

/** One chunk row of batch `id` (packEntries on the sending side: ids relative to the batch). */
export interface ChunkRowMessage extends ChunkRow {
  readonly id: number
  readonly stream: string
  /** How many rows the batch has; it is written when the last one has arrived. */
  readonly rows: number
}

/** A whole appendRows batch `id`, packed here. */
export interface RowBatchMessage {
  readonly id: number
  readonly stream: string
  readonly batch: RowBatch
}

/** Retention of a stream (log-chunks-trim.ts): by age (entries before `value`, epoch ms) or by count (keep `value`). */
export interface TrimMessage {
  readonly id: number
  readonly stream: string
  readonly trim: 'age' | 'count'
  readonly value: number
}

export type LogAppendMessage = ChunkRowMessage | RowBatchMessage | TrimMessage

/** The thread's first answer: its kernel id when it runs in the background (thread-priority.ts). */
export interface WriterOpened {
  readonly opened: true
  readonly backgroundThreadId: number | null
}

let db: Database | null = null
let append: ChunkWriter | null = null
let trimmer: ChunkTrimmer | null = null
/** The rows of the batch being received (messages arrive in the order they were posted). */
let chunkRows: ChunkRow[] = []

const write = (id: number, stream: string, rows: () => readonly ChunkRow[]) => {
  try {
    append!(stream, rows())
    self.postMessage({ id })
  } catch (error) {
    self.postMessage({ id, error: String(error) })
  }
}

/** Set by close: a running trim ends at its next step, with what it deleted so far committed. */
let isStopping = false
const trimsRunning = new Set<Promise<void>>()

class TrimStopped extends Error {}

/** Each step of a trim: refused once the thread is closing. */
const trimStep = <T>(work: () => T): T => {
  if (isStopping) throw new TrimStopped('the store is closing')
  return work()
}

/**
 * A trim runs here, not on the thread serving requests: at 35,000 requests/s over LOG_MAX_RECORDS,
 * retention deletes some two million entries a minute, in steps of several milliseconds each, which
 * requests used to queue behind. Its steps still yield, so batches that arrive are written between them.
 * One that close cuts short answers 0 (what it deleted stays deleted; the next pass goes on from there):
 * a stop is not a store failure.
 */
const runTrim = async (message: TrimMessage) => {
  try {
    const removed = message.trim === 'age' ? await trimmer!.trim(message.stream, message.value) : await trimmer!.trimToCount(message.stream, message.value)
    self.postMessage({ id: message.id, removed })
  } catch (error) {
    self.postMessage(error instanceof TrimStopped ? { id: message.id, removed: 0 } : { id: message.id, error: String(error) })
  }
}

/** Closes once the running trims have stopped at a step boundary, so none is cut in the middle of one. */
const closeWhenIdle = async () => {
  isStopping = true
  await Promise.all(trimsRunning)
  db?.close(true)
  db = null
  self.postMessage({ closed: true })
}

self.onmessage = (event: MessageEvent<{ open: string } | LogAppendMessage | { close: true }>) => {
  const message = event.data
  if ('open' in message) {
    db = new Database(message.open, { strict: true })
    db.exec('PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;')
    // Writing the log yields to serving requests (thread-priority.ts): in the background where this
    // thread's owner can move it out again if it starves (writer-scheduling.ts), else at nice 10.
    const threadId = currentThreadId()
    const isBackground = threadId !== null && canLeaveBackground() && setThreadPolicy(threadId, 'background')
    if (threadId !== null && !isBackground) setThreadPolicy(threadId, 'yielding')
    // Written exactly as the store's own connection would (log-chunks.ts).
    append = createChunkWriter(db)
    trimmer = createChunkTrimmer(db, trimStep)
    self.postMessage({ opened: true, backgroundThreadId: isBackground ? threadId : null } satisfies WriterOpened)
    return
  }
  if ('close' in message) return void closeWhenIdle()
  if ('trim' in message) {
    const running = runTrim(message).finally(() => trimsRunning.delete(running))
    trimsRunning.add(running)
    return
  }
  if ('batch' in message) return write(message.id, message.stream, () => packRows(message.batch))
  chunkRows.push(message)
  if (chunkRows.length < message.rows) return
  const rows = chunkRows
  chunkRows = []
  write(message.id, message.stream, () => rows)
}
