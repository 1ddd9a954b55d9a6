/**
 * @module Retention over chunked log entries (log-chunks.ts). Both trims delete every entry at or
 * before a position (timeMs, id): whole chunks whose time_max is earlier go in steps of
 * TRIM_CHUNK_ROWS rows, yielding between steps (SQLite calls block the thread the data plane runs
 * on, and retention may have millions of entries to remove); the few chunks that straddle the position
 * are rewritten without the entries that go, keeping their ids. trimToCount finds its position by
 * walking from the oldest end, so the common case (a little over the cap) reads a few chunks.
 */
import type { Database, Statement } from 'bun:sqlite'
import { CHUNK_SPAN_MS, filterChunk, forEachEntry, type StoredChunk } from './log-chunks.ts'
import { clampSafe } from './log-chunks-query.ts'

/** Chunk rows deleted per statement (about 10 ms of work, some 5,000 entries). */
const TRIM_CHUNK_ROWS = 20
/** Chunk rows read per step while looking for trimToCount's boundary. */
const BOUNDARY_PAGE_ROWS = 200

/** Runs one synchronous step against the store (the caller maps its errors). */
export type Step = <T>(work: () => T) => T

interface Position {
  readonly timeMs: number
  readonly id: number
}

export interface ChunkTrimmer {
  trim(stream: string, beforeMs: number): Promise<number>
  trimToCount(stream: string, keep: number): Promise<number>
}

export function createChunkTrimmer(db: Database, step: Step): ChunkTrimmer {
  const s = (sql: string): Statement => db.prepare(sql)
  const q = {
    deleteBefore: s(
      'DELETE FROM log_chunks WHERE first_id IN (SELECT first_id FROM log_chunks INDEXED BY log_chunks_by_max WHERE stream = ?1 AND time_max < ?2 LIMIT ?3) RETURNING entries',
    ),
    // Chunks holding entries on both sides of ?2 (their time_min is within the span below it).
    straddling: s(
      'SELECT first_id, time_min, meta, data FROM log_chunks INDEXED BY log_chunks_by_min WHERE stream = ?1 AND time_min BETWEEN ?3 AND ?2 AND time_max >= ?2',
    ),
    insert: s('INSERT INTO log_chunks (first_id, stream, time_min, time_max, entries, meta, data) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    deleteOne: s('DELETE FROM log_chunks WHERE first_id = ?'),
    countAll: s('SELECT coalesce(sum(entries), 0) AS n FROM log_chunks INDEXED BY log_chunks_by_id WHERE stream = ?1'),
    // Keyset paging in the by_min index's own order (time_min, time_max, rowid).
    oldestPage: s(
      'SELECT first_id, time_min, time_max, meta FROM log_chunks INDEXED BY log_chunks_by_min WHERE stream = ?1 AND (time_min, time_max, first_id) > (?2, ?3, ?4) ' +
        'ORDER BY time_min, time_max, first_id LIMIT ?5',
    ),
  }

  const rewriteStraddling = db.transaction((stream: string, through: Position): number => {
    let removed = 0
    const isAfter = (id: number, timeMs: number) => timeMs > through.timeMs || (timeMs === through.timeMs && id > through.id)
    for (const chunk of q.straddling.all(stream, through.timeMs, clampSafe(through.timeMs - CHUNK_SPAN_MS)) as StoredChunk[]) {
      const kept = filterChunk(chunk, isAfter)
      if (kept.removed === 0) continue
      removed += kept.removed
      // The kept entries keep their ids; the row is replaced (its first_id may be a later id now).
      q.deleteOne.run(chunk.first_id)
      for (const row of kept.rows) q.insert.run(row.firstId, stream, row.timeMin, row.timeMax, row.entries, row.meta, row.data)
    }
    return removed
  })

  /** Deletes every entry at or before `through` in (timeMs, id) order. */
  const deleteThrough = async (stream: string, through: Position): Promise<number> => {
    let total = 0
    for (;;) {
      const rows = step(() => q.deleteBefore.all(stream, through.timeMs, TRIM_CHUNK_ROWS) as { entries: number }[])
      for (const row of rows) total += row.entries
      if (rows.length < TRIM_CHUNK_ROWS) break
      await new Promise((resolve) => setImmediate(resolve))
    }
    // In one write transaction, so of two nodes trimming at once only one rewrites (and counts) a chunk.
    return total + step(() => rewriteStraddling.immediate(stream, through))
  }

  /**
   * The `rank`-th oldest entry's position (1-based), or null when there are fewer. Walks chunks by
   * time_min: before a chunk is read, every entry in hand stamped before its time_min is final (no
   * unread chunk holds an earlier one), and only entries not yet final are kept in memory.
   */
  const findOldest = async (stream: string, rank: number): Promise<Position | null> => {
    let finalCount = 0
    let pending: Position[] = []
    let from = { timeMin: Number.MIN_SAFE_INTEGER, timeMax: Number.MIN_SAFE_INTEGER, firstId: -1 }
    const settle = (frontier: number): Position | null => {
      const final = pending.filter((entry) => entry.timeMs < frontier)
      if (finalCount + final.length >= rank) return final.sort(oldestFirst)[rank - finalCount - 1]!
      finalCount += final.length
      pending = pending.filter((entry) => entry.timeMs >= frontier)
      return null
    }
    for (;;) {
      type Row = { first_id: number; time_min: number; time_max: number; meta: string }
      const rows = step(() => q.oldestPage.all(stream, from.timeMin, from.timeMax, from.firstId, BOUNDARY_PAGE_ROWS) as Row[])
      for (const chunk of rows) {
        const found = settle(chunk.time_min)
        if (found) return found
        forEachEntry(chunk, (id, timeMs) => pending.push({ timeMs, id }))
      }
      if (rows.length < BOUNDARY_PAGE_ROWS) return settle(Number.POSITIVE_INFINITY)
      const last = rows.at(-1)!
      from = { timeMin: last.time_min, timeMax: last.time_max, firstId: last.first_id }
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  return {
    // Entries stamped before beforeMs: every position up to (beforeMs, id 0), ids being positive.
    trim: (stream, beforeMs) => deleteThrough(stream, { timeMs: beforeMs, id: 0 }),
    async trimToCount(stream, keep) {
      const total = step(() => (q.countAll.get(stream) as { n: number }).n)
      const excess = total - Math.max(0, Math.floor(keep))
      if (excess <= 0) return 0
      // The newest entry that has to go is the excess-th oldest; everything up to it goes.
      const boundary = await findOldest(stream, excess)
      return boundary ? deleteThrough(stream, boundary) : 0
    },
  }
}

const oldestFirst = (a: Position, b: Position) => a.timeMs - b.timeMs || a.id - b.id
