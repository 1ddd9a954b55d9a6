/**
 * @module Opening the log's file (LOG_FILE, log-chunks.ts), and moving into it what earlier versions kept
 * in the store's file: the chunk table and its `log-id` counter (until the log had a file of its own),
 * and before that a `log` table of one row per entry, packed into chunks on the way. Entries keep their
 * ids (a chunk's meta holds each entry's id offset, so gaps left by other streams are kept), so ids stay
 * unique and in append order, and cursors handed out before the upgrade still point where they did.
 *
 * Each step copies into the log's file first (INSERT OR IGNORE, in transactions of their own) and
 * removes from the store's file after: a crash in between leaves entries in both, and the next opening
 * copies again, ignoring what is there, before it removes. Processes opening the files at the same
 * time share the work; whichever finds the old table gone stops.
 */
import { Database } from 'bun:sqlite'
import { LOG_PAGE_BYTES, LOG_SCHEMA, packChunks, type ChunkRow } from './log-chunks.ts'

/** Old rows moved per transaction. */
const MIGRATE_ROWS = 20_000
/** Old chunk rows copied per transaction (some 100 KB each). */
const MOVE_CHUNKS = 200

/** The log's connection: a new file gets LOG_PAGE_BYTES pages; WAL, synchronous and busy_timeout as the store's file. */
export function openLogFile(path: string): Database {
  const db = new Database(path, { create: true, strict: true })
  try {
    // busy_timeout first, as for the store's file: processes opening a new file at once queue for WAL.
    // The page size takes effect only in a file that has no table yet.
    db.exec(`PRAGMA busy_timeout = 5000; PRAGMA page_size = ${LOG_PAGE_BYTES}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;`)
    db.transaction(() => {
      db.exec(LOG_SCHEMA)
      db.exec("INSERT OR IGNORE INTO log_counters (name, value) VALUES ('log-id', 0)")
    }).immediate()
    return db
  } catch (error) {
    // The caller may try again (a file another process is switching to WAL): no connection is left open.
    db.close()
    throw error
  }
}

/** Moves what the store's file (`documents`) holds of an earlier version's log into the log's file. */
export function moveEarlierLog(documents: Database, log: Database): void {
  moveChunkTable(documents, log)
  moveRowLog(documents, log)
}

const insertChunk = (log: Database) => log.query('INSERT OR IGNORE INTO log_chunks (first_id, stream, time_min, time_max, entries, meta, data) VALUES (?, ?, ?, ?, ?, ?, ?)')

/** New ids start after every id handed out before: the log's counter is raised to `value` if below it. */
function raiseCounter(log: Database, value: number): void {
  log.query("UPDATE log_counters SET value = max(value, ?) WHERE name = 'log-id'").run(value)
}

/** The chunk table (and its counter) of the version before the log had a file of its own. */
function moveChunkTable(documents: Database, log: Database): void {
  type OldChunk = { first_id: number; stream: string; time_min: number; time_max: number; entries: number; meta: string; data: string | Uint8Array }
  const insert = insertChunk(log)
  let after = Number.MIN_SAFE_INTEGER
  for (;;) {
    // Read in a transaction, so that the table cannot go (another process done with the move) between the check and the read.
    const chunks = documents.transaction(() => {
      if (!tableExists(documents, 'log_chunks')) return null
      const counter = documents.query("SELECT value FROM counters WHERE name = 'log-id'").get() as { value: number } | null
      raiseCounter(log, counter?.value ?? 0)
      return documents.query('SELECT first_id, stream, time_min, time_max, entries, meta, data FROM log_chunks WHERE first_id > ? ORDER BY first_id LIMIT ?').all(after, MOVE_CHUNKS) as OldChunk[]
    })()
    if (chunks === null) return
    if (chunks.length === 0) break
    log.transaction(() => {
      for (const chunk of chunks) insert.run(chunk.first_id, chunk.stream, chunk.time_min, chunk.time_max, chunk.entries, chunk.meta, chunk.data)
    }).immediate()
    after = chunks.at(-1)!.first_id
  }
  documents.transaction(() => {
    if (tableExists(documents, 'log_chunks')) documents.exec("DROP TABLE log_chunks; DELETE FROM counters WHERE name = 'log-id';")
  }).immediate()
}

/** The `log` table of one row per entry, packed into chunks, MIGRATE_ROWS rows at a time, oldest first. */
function moveRowLog(documents: Database, log: Database): void {
  type OldRow = { id: number; stream: string; time_ms: number; data: string }
  const insert = insertChunk(log)
  for (;;) {
    const rows = documents.transaction(() => {
      if (!tableExists(documents, 'log')) return null
      // AUTOINCREMENT's high-water mark: ids of rows deleted before the upgrade are not handed out again either.
      raiseCounter(log, (documents.query("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'log'), 0) AS n").get() as { n: number }).n)
      return documents.query('SELECT id, stream, time_ms, data FROM log ORDER BY id LIMIT ?').all(MIGRATE_ROWS) as OldRow[]
    })()
    if (rows === null) return
    if (rows.length === 0) {
      documents.transaction(() => {
        if (tableExists(documents, 'log')) documents.exec('DROP TABLE log')
      }).immediate()
      return
    }
    // The same rows always make the same chunks (each named by its first entry's id): a copy repeated after a crash is ignored.
    const chunks: [string, ChunkRow][] = []
    for (const [stream, list] of Map.groupBy(rows, (row) => row.stream)) {
      for (const chunk of packChunks({ count: list.length, idAt: (i) => list[i]!.id, timeAt: (i) => list[i]!.time_ms, dataAt: (i) => list[i]!.data })) chunks.push([stream, chunk])
    }
    log.transaction(() => {
      for (const [stream, chunk] of chunks) insert.run(chunk.firstId, stream, chunk.timeMin, chunk.timeMax, chunk.entries, chunk.meta, chunk.data)
    }).immediate()
    documents.transaction(() => {
      if (tableExists(documents, 'log')) documents.query('DELETE FROM log WHERE id <= ?').run(rows.at(-1)!.id)
    }).immediate()
  }
}

function tableExists(db: Database, name: string): boolean {
  return db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== null
}
