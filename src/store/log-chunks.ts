/**
 * @module How the embedded store keeps log entries: packed into chunk rows, up to CHUNK_ENTRIES
 * entries of one stream and one appendMany call per row, so one insert and one index entry serve
 * hundreds of entries (a row per entry cost ~3.5 µs: the row, its AUTOINCREMENT and its index entry).
 * Shared by the store's connection (embedded.ts) and the log writer thread (log-append-worker.ts).
 *
 * A chunk row: `first_id` (its entries' id base, the primary key), `stream`, `time_min`/`time_max`
 * (the bounds of its entries' times), `entries` (how many), `data` (the entries' data concatenated)
 * and `meta`, a JSON array of numbers, three per entry: id - first_id, timeMs - time_min, length of its
 * data (small numbers: a shorter text, quicker to write and to parse). Lengths, not separators,
 * delimit entries, so data may hold any character.
 *
 * An appendMany batch is packed where it is handed over (packEntries, on the thread that serves
 * requests: a few strings cross to the log writer thread instead of hundreds), an appendRows batch
 * on the log writer thread (packRows: its columns cross as they are), with ids relative to the batch;
 * the writer adds the base it takes from the counter (createChunkWriter).
 *
 * Rows (Store.appendRows) are kept the same way, but a chunk's data is then a binary chunk of rows
 * (log-rows.ts, a BLOB, stored compressed), and its meta is `r` and a JSON array of one number per
 * entry, timeMs - time_min: the entries' ids are first_id, first_id + 1, … and each one's "offset" is
 * its row.
 *
 * Entry ids come from the `log-id` counter, taken in the write's transaction: unique, and increasing
 * in commit order across every connection, like the AUTOINCREMENT ids they replace. Inside a chunk
 * entries keep their append order; their times need not be ordered (a record is written when its
 * request ends and stamped with when it started), which is why queries merge chunks (log-chunks-query.ts).
 */
import type { Database } from 'bun:sqlite'
import { batchText, compressRows, decodeRows, encodeRows, type DecodedRows } from './log-rows.ts'
import type { NewLogEntry, RowBatch } from './store.ts'

/** Entries per chunk row at most. */
export const CHUNK_ENTRIES = 256
/** Rows per chunk of rows at most: a row's share of the chunk is some 100 bytes, not a text entry's 400. */
export const ROWS_CHUNK_ENTRIES = 1_024

/**
 * A chunk's time_max - time_min never exceeds this: an entry that would stretch a chunk further
 * starts a new one (a long request's record alone, usually). Queries rely on it to bound their index
 * range: a chunk holding an entry at time t has time_max in [t, t + CHUNK_SPAN_MS].
 */
export const CHUNK_SPAN_MS = 10_000

/**
 * The log's own SQLite file, beside the store's, so that writing the log never waits for a document
 * write's lock or makes one wait (embedded.ts), with pages of its own size. A compressed chunk of rows
 * is some 20 KB: five pages of 4 KiB. Every transaction also writes again each page it changes (the
 * table's and its indexes' last leaves, the counter's), whole, to the WAL, so small pages write least:
 * with 64 KiB pages (chosen when chunks were stored as they are, 115 KB) the writer handed write()
 * 155 bytes a record, with 4 KiB pages 45, for the same CPU (bench/log-cost.ts). A file made with
 * other pages keeps them (SQLite changes a page size only by rewriting the file).
 */
export const LOG_FILE = 'logs.sqlite'
export const LOG_PAGE_BYTES = 4_096

/** The log file's tables: chunk rows and their id counter (createChunkWriter). */
export const LOG_SCHEMA = `
  CREATE TABLE IF NOT EXISTS log_chunks (first_id INTEGER PRIMARY KEY, stream TEXT NOT NULL, time_min INTEGER NOT NULL, time_max INTEGER NOT NULL, entries INTEGER NOT NULL, meta TEXT NOT NULL, data TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS log_chunks_by_max ON log_chunks (stream, time_max, time_min);
  CREATE INDEX IF NOT EXISTS log_chunks_by_min ON log_chunks (stream, time_min, time_max);
  CREATE INDEX IF NOT EXISTS log_chunks_by_id ON log_chunks (stream, first_id, entries);
  CREATE TABLE IF NOT EXISTS log_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`

/** A chunk row as written (meta and data already encoded). */
export interface ChunkRow {
  /** Absolute, or relative to the batch (packEntries): then the writer adds the batch's base. */
  readonly firstId: number
  readonly timeMin: number
  readonly timeMax: number
  readonly entries: number
  readonly meta: string
  /** The entries' text concatenated, or a chunk of rows (log-rows.ts). */
  readonly data: string | Uint8Array
}

/** Entries to pack, by index: ids must increase along the indexes. */
export interface EntrySource {
  readonly count: number
  idAt(index: number): number
  timeAt(index: number): number
  dataAt(index: number): string
}

/**
 * Cuts a run of entries into chunk rows, keeping their order: a row ends at CHUNK_ENTRIES entries or
 * where the next entry would stretch its time span past CHUNK_SPAN_MS.
 */
export function packChunks(source: EntrySource): ChunkRow[] {
  const rows: ChunkRow[] = []
  let start = 0
  while (start < source.count) {
    const firstId = source.idAt(start)
    const { end, timeMin, timeMax } = chunkEnd(source.count, start, (i) => source.timeAt(i), CHUNK_ENTRIES)
    const meta: number[] = []
    const data: string[] = []
    for (let i = start; i < end; i++) {
      const text = source.dataAt(i)
      meta.push(source.idAt(i) - firstId, source.timeAt(i) - timeMin, text.length)
      data.push(text)
    }
    rows.push({ firstId, timeMin, timeMax, entries: end - start, meta: JSON.stringify(meta), data: data.join('') })
    start = end
  }
  return rows
}

/** Where the chunk starting at `start` ends: at maxEntries entries, or before one that would stretch its span past CHUNK_SPAN_MS. */
function chunkEnd(count: number, start: number, timeAt: (index: number) => number, maxEntries: number): { end: number; timeMin: number; timeMax: number } {
  let timeMin = timeAt(start)
  let timeMax = timeMin
  let end = start + 1
  for (; end < count && end - start < maxEntries; end++) {
    const time = timeAt(end)
    const nextMin = time < timeMin ? time : timeMin
    const nextMax = time > timeMax ? time : timeMax
    if (nextMax - nextMin > CHUNK_SPAN_MS) break
    timeMin = nextMin
    timeMax = nextMax
  }
  return { end, timeMin, timeMax }
}

/** Packs one appendRows batch into chunks of rows, ids relative to it, as packEntries does. */
export function packRows(batch: RowBatch): ChunkRow[] {
  const chunks: ChunkRow[] = []
  const times = batch.timesMs
  const text = batchText(batch)
  let start = 0
  let textAt = 0
  while (start < batch.count) {
    const { end, timeMin, timeMax } = chunkEnd(batch.count, start, (i) => times[i]!, ROWS_CHUNK_ENTRIES)
    const offsets = new Array<number>(end - start)
    for (let i = start; i < end; i++) offsets[i - start] = times[i]! - timeMin
    const { chunk, textEnd } = encodeRows(batch, text, start, end, textAt)
    chunks.push({ firstId: start, timeMin, timeMax, entries: end - start, meta: ROWS_META + JSON.stringify(offsets), data: compressRows(chunk) })
    textAt = textEnd
    start = end
  }
  return chunks
}

/** Marks the meta of a chunk of rows. */
const ROWS_META = 'r'

const decoded = new WeakMap<Uint8Array, DecodedRows>()

/** The text of the entry at (start, length) of a chunk's data (forEachEntry's offsets). */
export function entryText(data: string | Uint8Array, start: number, length: number): string {
  if (typeof data === 'string') return data.slice(start, start + length)
  let rows = decoded.get(data)
  if (!rows) decoded.set(data, (rows = decodeRows(data)))
  return rows.rowText(start)
}

/** Packs one appendMany batch, ids relative to it (0, 1, …) for createChunkWriter to place. */
export function packEntries(entries: readonly NewLogEntry[]): ChunkRow[] {
  return packChunks({ count: entries.length, idAt: (i) => i, timeAt: (i) => entries[i]!.timeMs, dataAt: (i) => entries[i]!.data })
}

/** Writes one packed batch (packEntries) in one transaction; its ids come from the `log-id` counter (in `log_counters`, the log file's). */
export type ChunkWriter = (stream: string, batch: readonly ChunkRow[]) => void

export function createChunkWriter(db: Database): ChunkWriter {
  const takeIds = db.prepare("UPDATE log_counters SET value = value + ?1 WHERE name = 'log-id' RETURNING value")
  const insert = db.prepare('INSERT INTO log_chunks (first_id, stream, time_min, time_max, entries, meta, data) VALUES (?, ?, ?, ?, ?, ?, ?)')
  const writeTx = db.transaction((stream: string, batch: readonly ChunkRow[]) => {
    let count = 0
    for (const row of batch) count += row.entries
    const base = (takeIds.get(count) as { value: number }).value - count + 1
    for (const row of batch) insert.run(base + row.firstId, stream, row.timeMin, row.timeMax, row.entries, row.meta, row.data)
  })
  return (stream, batch) => {
    if (batch.length > 0) writeTx.immediate(stream, batch)
  }
}

/** A chunk row as read back; meta and data are decoded lazily by forEachEntry. */
export interface StoredChunk {
  readonly first_id: number
  readonly time_min: number
  readonly meta: string
  readonly data: string | Uint8Array
}

/** Calls visit for each entry of a chunk, in append order; data is sliced only when asked for. */
export function forEachEntry(chunk: Pick<StoredChunk, 'first_id' | 'time_min' | 'meta'>, visit: (id: number, timeMs: number, start: number, length: number) => void): void {
  if (chunk.meta.startsWith(ROWS_META)) {
    const offsets = JSON.parse(chunk.meta.slice(ROWS_META.length)) as number[]
    for (let row = 0; row < offsets.length; row++) visit(chunk.first_id + row, chunk.time_min + offsets[row]!, row, 1)
    return
  }
  const meta = JSON.parse(chunk.meta) as number[]
  let start = 0
  for (let i = 0; i < meta.length; i += 3) {
    const length = meta[i + 2]!
    visit(chunk.first_id + meta[i]!, chunk.time_min + meta[i + 1]!, start, length)
    start += length
  }
}

/**
 * The entries of `chunk` that `keep` accepts, packed again with their ids (so the first kept entry's
 * id becomes the row's first_id), and how many were left out.
 */
export function filterChunk(chunk: StoredChunk, keep: (id: number, timeMs: number) => boolean): { rows: ChunkRow[]; removed: number } {
  const ids: number[] = []
  const times: number[] = []
  const data: string[] = []
  let removed = 0
  forEachEntry(chunk, (id, timeMs, start, length) => {
    if (!keep(id, timeMs)) return void removed++
    ids.push(id)
    times.push(timeMs)
    data.push(entryText(chunk.data, start, length))
  })
  return { rows: packChunks({ count: ids.length, idAt: (i) => ids[i]!, timeAt: (i) => times[i]!, dataAt: (i) => data[i]! }), removed }
}
