/**
 * @module Opening a store file: the chunk table (log-chunks.ts), the `log-id` counter, and the move of
 * a `log` table written by earlier versions (one row per entry) into chunks. Entries keep their ids
 * (a chunk's meta holds each entry's id offset, so gaps left by other streams are kept), so ids stay
 * unique and in append order, and cursors handed out before the upgrade still point where they did.
 * The move runs in transactions of MIGRATE_ROWS rows, oldest first; processes opening the file at the
 * same time share the work, and the last one drops the empty table.
 */
import type { Database } from 'bun:sqlite'
import { LOG_CHUNKS_SCHEMA, packChunks } from './log-chunks.ts'

/** Old rows moved per transaction. */
const MIGRATE_ROWS = 20_000

/** Creates the chunk table and the id counter; call inside the schema's write transaction. */
export function createLogChunkSchema(db: Database): void {
  db.exec(LOG_CHUNKS_SCHEMA)
  // New ids start after every id the old table ever handed out (AUTOINCREMENT's high-water mark).
  const oldMax = tableExists(db, 'log') ? ((db.query("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'log'), 0) AS n").get() as { n: number }).n) : 0
  db.query("INSERT OR IGNORE INTO counters (name, value) VALUES ('log-id', ?)").run(oldMax)
}

/** Moves the rows of an earlier version's `log` table into chunks, then drops it. */
export function migrateRowLog(db: Database): void {
  const moveSome = db.transaction((): boolean => {
    if (!tableExists(db, 'log')) return false
    type OldRow = { id: number; stream: string; time_ms: number; data: string }
    const rows = db.query('SELECT id, stream, time_ms, data FROM log ORDER BY id LIMIT ?').all(MIGRATE_ROWS) as OldRow[]
    if (rows.length === 0) {
      db.exec('DROP TABLE log')
      return false
    }
    const byStream = new Map<string, OldRow[]>()
    for (const row of rows) {
      const list = byStream.get(row.stream)
      if (list) list.push(row)
      else byStream.set(row.stream, [row])
    }
    const insert = db.query('INSERT INTO log_chunks (first_id, stream, time_min, time_max, entries, meta, data) VALUES (?, ?, ?, ?, ?, ?, ?)')
    for (const [stream, list] of byStream) {
      const chunks = packChunks({ count: list.length, idAt: (i) => list[i]!.id, timeAt: (i) => list[i]!.time_ms, dataAt: (i) => list[i]!.data })
      for (const chunk of chunks) insert.run(chunk.firstId, stream, chunk.timeMin, chunk.timeMax, chunk.entries, chunk.meta, chunk.data)
    }
    db.query('DELETE FROM log WHERE id <= ?').run(rows.at(-1)!.id)
    return true
  })
  while (moveSome.immediate()) {
    // Each transaction is short, so other processes' writes (and their log threads) get their turn.
  }
}

function tableExists(db: Database, name: string): boolean {
  return db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== null
}
