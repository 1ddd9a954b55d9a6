/**
 * @module Reading chunked log entries (log-chunks.ts) back one entry at a time, in the orders the
 * Store port promises: query by (timeMs, id) through a time window, tail by id.
 *
 * A chunk's entries are not ordered by time, and chunks overlap in time, so a query merges: it walks
 * the chunks that can hold an entry of the window by time_max, newest first (time_min, oldest first),
 * and an entry read is final once no chunk still unread can hold a later one in the query's order:
 * newest first, every unread chunk has time_max <= the next chunk's time_max, so entries stamped
 * after that are final. The walk stops as soon as `limit` entries are final. CHUNK_SPAN_MS bounds the
 * walk's start: a chunk holding an entry at time t has time_max <= t + CHUNK_SPAN_MS.
 */
import type { Database, Statement } from 'bun:sqlite'
import { CHUNK_SPAN_MS, entryText, forEachEntry, type StoredChunk } from './log-chunks.ts'
import type { LogEntry } from './store.ts'

/** A query with its bounds resolved: the cursor (if any) as numbers. */
export interface ChunkQuery {
  readonly fromMs: number
  readonly toMs: number
  readonly limit: number
  readonly isOldest: boolean
  readonly after: { readonly timeMs: number; readonly id: number } | null
}

interface Candidate {
  readonly timeMs: number
  readonly id: number
  readonly data: string
}

/** An entry found by a query's walk: where its data is, read only if it makes the page. */
interface Located {
  readonly timeMs: number
  readonly id: number
  readonly firstId: number
  readonly start: number
  readonly length: number
}

type WalkedChunk = Pick<StoredChunk, 'first_id' | 'time_min' | 'meta'> & { readonly frontier: number }

export interface ChunkReader {
  query(stream: string, query: ChunkQuery): LogEntry[]
  tail(stream: string, afterId: number | null, limit: number): LogEntry[]
}

export function createChunkReader(db: Database): ChunkReader {
  const s = (sql: string): Statement => db.prepare(sql)
  // ?2..?3: the range of the walk's index column; ?4: the other bound of the window.
  const newest = s(
    'SELECT first_id, time_min, time_max AS frontier, meta FROM log_chunks INDEXED BY log_chunks_by_max ' +
      'WHERE stream = ?1 AND time_max BETWEEN ?2 AND ?3 AND time_min <= ?4 ORDER BY time_max DESC',
  )
  const oldest = s(
    'SELECT first_id, time_min, time_min AS frontier, meta FROM log_chunks INDEXED BY log_chunks_by_min ' +
      'WHERE stream = ?1 AND time_min BETWEEN ?2 AND ?3 AND time_max >= ?4 ORDER BY time_min ASC',
  )
  const chunkData = s('SELECT data FROM log_chunks WHERE first_id = ?')
  // The chunk holding ?2 (the one with the largest first_id <= ?2) and every later one of the stream.
  const tailAfter = s(
    'SELECT first_id, time_min, meta, data FROM log_chunks INDEXED BY log_chunks_by_id WHERE stream = ?1 AND ' +
      'first_id >= coalesce((SELECT max(first_id) FROM log_chunks INDEXED BY log_chunks_by_id WHERE stream = ?1 AND first_id <= ?2), 0) ORDER BY first_id ASC',
  )
  const tailLast = s('SELECT first_id, time_min, meta, data FROM log_chunks INDEXED BY log_chunks_by_id WHERE stream = ?1 ORDER BY first_id DESC')

  /**
   * The walk reads meta only (a chunk's data is some 100 KB, its meta 5 KB); the data of the chunks
   * that hold the page's entries is read at the end, in the same read transaction, so a trim
   * rewriting a chunk meanwhile cannot shift the offsets.
   */
  const query = db.transaction((stream: string, query: ChunkQuery): LogEntry[] => {
    const { after, limit } = query
    let rows: Iterable<WalkedChunk>
    let accept: (timeMs: number, id: number) => boolean
    let isFinal: (timeMs: number, frontier: number) => boolean
    if (query.isOldest) {
      const low = after ? Math.max(query.fromMs, after.timeMs) : query.fromMs
      rows = oldest.iterate(stream, clampSafe(low - CHUNK_SPAN_MS), query.toMs, low) as Iterable<WalkedChunk>
      accept = (timeMs, id) => timeMs >= query.fromMs && timeMs <= query.toMs && (after === null || timeMs > after.timeMs || (timeMs === after.timeMs && id > after.id))
      isFinal = (timeMs, frontier) => timeMs < frontier
    } else {
      const high = after ? Math.min(query.toMs, after.timeMs) : query.toMs
      rows = newest.iterate(stream, query.fromMs, clampSafe(high + CHUNK_SPAN_MS), high) as Iterable<WalkedChunk>
      accept = (timeMs, id) => timeMs >= query.fromMs && timeMs <= query.toMs && (after === null || timeMs < after.timeMs || (timeMs === after.timeMs && id < after.id))
      isFinal = (timeMs, frontier) => timeMs > frontier
    }
    const found: Located[] = []
    for (const chunk of rows) {
      // Before reading this chunk: are `limit` of the entries in hand already beyond its reach?
      if (found.length >= limit && countFinal(found, chunk.frontier, isFinal) >= limit) break
      forEachEntry(chunk, (id, timeMs, start, length) => {
        if (accept(timeMs, id)) found.push({ timeMs, id, firstId: chunk.first_id, start, length })
      })
    }
    const page = found.sort(query.isOldest ? oldestFirst : newestFirst).slice(0, limit)
    const data = new Map<number, StoredChunk['data']>()
    for (const { firstId } of page) if (!data.has(firstId)) data.set(firstId, (chunkData.get(firstId) as Pick<StoredChunk, 'data'>).data)
    return page.map((entry) => ({ id: String(entry.id), timeMs: entry.timeMs, data: entryText(data.get(entry.firstId)!, entry.start, entry.length) }))
  })

  return {
    query: (stream, resolved) => query.deferred(stream, resolved),

    tail(stream, afterId, limit) {
      const found: Candidate[] = []
      if (afterId === null) {
        // The last `limit` appended: chunks newest first, each chunk's entries from its end.
        for (const chunk of tailLast.iterate(stream) as Iterable<StoredChunk>) {
          const entries = entriesOf(chunk)
          for (let i = entries.length - 1; i >= 0 && found.length < limit; i--) found.push(entries[i]!)
          if (found.length >= limit) break
        }
        return found.reverse().map(toLogEntry)
      }
      for (const chunk of tailAfter.iterate(stream, afterId) as Iterable<StoredChunk>) {
        for (const entry of entriesOf(chunk)) if (entry.id > afterId && found.length < limit) found.push(entry)
        if (found.length >= limit) break
      }
      return found.map(toLogEntry)
    },
  }
}

function entriesOf(chunk: StoredChunk): Candidate[] {
  const entries: Candidate[] = []
  forEachEntry(chunk, (id, timeMs, start, length) => entries.push({ timeMs, id, data: entryText(chunk.data, start, length) }))
  return entries
}

function countFinal(found: readonly Located[], frontier: number, isFinal: (timeMs: number, frontier: number) => boolean): number {
  let count = 0
  for (const entry of found) if (isFinal(entry.timeMs, frontier)) count++
  return count
}

const newestFirst = (a: Located, b: Located) => b.timeMs - a.timeMs || b.id - a.id
const oldestFirst = (a: Located, b: Located) => a.timeMs - b.timeMs || a.id - b.id

const toLogEntry = (entry: Candidate): LogEntry => ({ id: String(entry.id), timeMs: entry.timeMs, data: entry.data })

/** Window bounds default to ±MAX_SAFE_INTEGER; widening them by the span must stay a safe integer. */
export function clampSafe(value: number): number {
  return Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, value))
}
