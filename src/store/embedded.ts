/**
 * @module The embedded Store adapter: one SQLite file (bun:sqlite) under DATA_DIR, or ":memory:".
 * Several processes may open the same file; each conditional write runs in a BEGIN IMMEDIATE
 * transaction, so compare-and-set, ifAbsent and take are atomic across them.
 */
import { Database, type Statement } from 'bun:sqlite'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startLogAppendThread } from './log-append-thread.ts'
import { systemClock, type Clock } from '../lib/index.ts'
import {
  clampLimit,
  logIdNumber,
  StoreUnavailableError,
  type DeleteOptions,
  type LogEntry,
  type LogQuery,
  type LogTailQuery,
  type NewLogEntry,
  type PutOptions,
  type Store,
  type StoredDocument,
} from './store.ts'

export interface EmbeddedStoreOptions {
  /** A directory (the file is store.sqlite inside it) or ":memory:". */
  readonly dataDir: string
  readonly clock?: Clock
  /** How often expired documents are swept; reads never return them either way. */
  readonly sweepIntervalMs?: number
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS documents (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL, expires_at INTEGER);
  CREATE INDEX IF NOT EXISTS documents_expiry ON documents (expires_at) WHERE expires_at IS NOT NULL;
  CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  INSERT OR IGNORE INTO counters (name, value) VALUES ('version', 0);
  CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, time_ms INTEGER NOT NULL, data TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS log_by_time ON log (stream, time_ms, id);
`

type DocRow = { value: string; version: number; expires_at: number | null }

export function createEmbeddedStore(options: EmbeddedStoreOptions): Store {
  const clock = options.clock ?? systemClock
  const db = openDatabase(options.dataDir)
  const q = prepareStatements(db)

  const now = () => clock.nowMs()
  const live = (row: DocRow | null): row is DocRow => row !== null && (row.expires_at === null || row.expires_at > now())
  const nextVersion = () => (q.bumpVersion.get() as { value: number }).value

  const putTx = db.transaction((key: string, value: string, opts: PutOptions): number | null => {
    const current = q.getDoc.get(key) as DocRow | null
    const exists = live(current)
    if (opts.ifAbsent && exists) return null
    if (opts.ifVersion !== undefined && (!exists || current.version !== opts.ifVersion)) return null
    const version = nextVersion()
    const expiresAt = opts.ttlMs === undefined ? null : now() + opts.ttlMs
    q.upsertDoc.run(key, value, version, expiresAt)
    return version
  })

  const delTx = db.transaction((key: string, opts: DeleteOptions): boolean => {
    const current = q.getDoc.get(key) as DocRow | null
    if (!live(current)) return false
    if (opts.ifVersion !== undefined && current.version !== opts.ifVersion) return false
    q.deleteDoc.run(key)
    return true
  })

  const takeTx = db.transaction((key: string): string | null => {
    const current = q.getDoc.get(key) as DocRow | null
    if (!live(current)) return null
    q.deleteDoc.run(key)
    return current.value
  })

  const appendManyTx = db.transaction((stream: string, entries: readonly NewLogEntry[]) => {
    for (const entry of entries) q.appendLog.run(stream, entry.timeMs, entry.data)
  })
  // ":memory:" is this connection's alone; a file another connection can write to.
  const appendThread = options.dataDir === ':memory:' ? null : startLogAppendThread(db.filename, (stream, entries) => guard(() => void appendManyTx.immediate(stream, entries)))

  /**
   * Deletes in chunks of TRIM_CHUNK rows, yielding to the event loop between them: SQLite calls block
   * the thread the data plane runs on, and retention may have millions of rows to remove.
   */
  const inChunks = async (deleteChunk: () => number): Promise<number> => {
    let total = 0
    for (;;) {
      const removed = guard(deleteChunk)
      total += removed
      if (removed < TRIM_CHUNK) return total
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  const sweep = () => q.sweepExpired.run(now())
  const sweepTimer = setInterval(() => guard(sweep), options.sweepIntervalMs ?? 60_000)
  sweepTimer.unref()

  return {
    kind: 'embedded',
    get: async (key) => guard(() => {
      const row = q.getDoc.get(key) as DocRow | null
      return live(row) ? ({ value: row.value, version: row.version } satisfies StoredDocument) : null
    }),
    put: async (key, value, opts = {}) => guard(() => putTx.immediate(key, value, opts)),
    del: async (key, opts = {}) => guard(() => delTx.immediate(key, opts)),
    take: async (key) => guard(() => takeTx.immediate(key)),
    list: async (prefix) => guard(() => {
      const rows = q.listKeys.all(prefix, prefixUpperBound(prefix), now()) as { key: string }[]
      return rows.map((row) => row.key)
    }),
    append: async (stream, timeMs, data) => guard(() => void q.appendLog.run(stream, timeMs, data)),
    // A file's log entries are written by a thread of their own (log-append-thread.ts): off the request path.
    appendMany: async (stream, entries) => {
      if (appendThread) return appendThread.appendMany(stream, entries).catch((error: unknown) => Promise.reject(new StoreUnavailableError('embedded', error)))
      guard(() => void (entries.length > 0 && appendManyTx.immediate(stream, entries)))
    },
    query: async (stream, query: LogQuery = {}) => {
      const isOldest = query.order === 'oldest'
      // Without a cursor, a position before the first (or after the last) entry: one statement serves both.
      const after = query.startAfter
        ? [query.startAfter.timeMs, logIdNumber(query.startAfter.id)]
        : isOldest ? [Number.MIN_SAFE_INTEGER, 0] : [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]
      return guard(() => {
        const statement = isOldest ? q.queryLogOldest : q.queryLogNewest
        const rows = statement.all(stream, query.fromMs ?? Number.MIN_SAFE_INTEGER, query.toMs ?? Number.MAX_SAFE_INTEGER, clampLimit(query.limit), after[0]!, after[1]!) as LogRow[]
        return rows.map(toLogEntry)
      })
    },
    tail: async (stream, query: LogTailQuery = {}) => {
      const afterId = query.afterId === undefined ? null : logIdNumber(query.afterId)
      return guard(() => {
        const limit = clampLimit(query.limit)
        const rows = afterId === null ? (q.tailLast.all(stream, limit) as LogRow[]).reverse() : (q.tailAfter.all(stream, afterId, limit) as LogRow[])
        return rows.map(toLogEntry)
      })
    },
    trim: (stream, beforeMs) => inChunks(() => q.trimLogChunk.run(stream, beforeMs, TRIM_CHUNK).changes),
    trimToCount: async (stream, keep) => {
      // The newest entry that has to go is the (keep + 1)-th newest; everything up to it goes.
      const boundary = guard(() => q.nthNewestLog.get(stream, Math.max(0, Math.floor(keep))) as { time_ms: number; id: number } | null)
      return boundary ? inChunks(() => q.trimLogThroughChunk.run(stream, boundary.time_ms, boundary.id, TRIM_CHUNK).changes) : 0
    },
    ping: async () => guard(() => void q.ping.get()),
    close: async () => {
      clearInterval(sweepTimer)
      await appendThread?.close()
      // close(true) finalizes the prepared statements; plain close() would leave the connection (and
      // its file handles and WAL) open, and the store answering, until they were garbage collected.
      db.close(true)
    },
  }
}

type LogRow = { id: number; time_ms: number; data: string }

/** Rows removed per statement by trim and trimToCount (about 10 ms of work each). */
const TRIM_CHUNK = 5_000

const toLogEntry = (row: LogRow): LogEntry => ({ id: String(row.id), timeMs: row.time_ms, data: row.data })

function openDatabase(dataDir: string): Database {
  let path = ':memory:'
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true })
    path = join(dataDir, 'store.sqlite')
  }
  const db = new Database(path, { create: true, strict: true })
  // WAL lets readers in other processes run beside a writer; busy_timeout makes writers queue, not fail.
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;')
  db.transaction(() => db.exec(SCHEMA)).immediate()
  return db
}

function prepareStatements(db: Database) {
  const s = (sql: string): Statement => db.prepare(sql)
  return {
    ping: s('SELECT 1'),
    getDoc: s('SELECT value, version, expires_at FROM documents WHERE key = ?'),
    upsertDoc: s(
      'INSERT INTO documents (key, value, version, expires_at) VALUES (?1, ?2, ?3, ?4) ' +
        'ON CONFLICT (key) DO UPDATE SET value = ?2, version = ?3, expires_at = ?4',
    ),
    deleteDoc: s('DELETE FROM documents WHERE key = ?'),
    bumpVersion: s("UPDATE counters SET value = value + 1 WHERE name = 'version' RETURNING value"),
    listKeys: s('SELECT key FROM documents WHERE key >= ?1 AND key < ?2 AND (expires_at IS NULL OR expires_at > ?3) ORDER BY key'),
    sweepExpired: s('DELETE FROM documents WHERE expires_at IS NOT NULL AND expires_at <= ?'),
    appendLog: s('INSERT INTO log (stream, time_ms, data) VALUES (?, ?, ?)'),
    // ?5, ?6: the cursor (time_ms, id); the scan starts strictly past it.
    queryLogNewest: s(
      'SELECT id, time_ms, data FROM log WHERE stream = ?1 AND time_ms BETWEEN ?2 AND ?3 AND time_ms <= ?5 AND (time_ms < ?5 OR id < ?6) ' +
        'ORDER BY time_ms DESC, id DESC LIMIT ?4',
    ),
    queryLogOldest: s(
      'SELECT id, time_ms, data FROM log WHERE stream = ?1 AND time_ms BETWEEN ?2 AND ?3 AND time_ms >= ?5 AND (time_ms > ?5 OR id > ?6) ' +
        'ORDER BY time_ms ASC, id ASC LIMIT ?4',
    ),
    // "+stream" keeps SQLite off the (stream, time_ms) index: these walk the rowid, which is append order.
    tailAfter: s('SELECT id, time_ms, data FROM log WHERE id > ?2 AND +stream = ?1 ORDER BY id ASC LIMIT ?3'),
    tailLast: s('SELECT id, time_ms, data FROM log WHERE +stream = ?1 ORDER BY id DESC LIMIT ?2'),
    trimLogChunk: s('DELETE FROM log WHERE id IN (SELECT id FROM log WHERE stream = ?1 AND time_ms < ?2 LIMIT ?3)'),
    nthNewestLog: s('SELECT time_ms, id FROM log WHERE stream = ?1 ORDER BY time_ms DESC, id DESC LIMIT 1 OFFSET ?2'),
    trimLogThroughChunk: s('DELETE FROM log WHERE id IN (SELECT id FROM log WHERE stream = ?1 AND time_ms <= ?2 AND (time_ms < ?2 OR id <= ?3) LIMIT ?4)'),
  }
}

/** The smallest string greater than every string that starts with prefix. */
function prefixUpperBound(prefix: string): string {
  return prefix + '\u{10FFFF}'
}

function guard<T>(work: () => T): T {
  try {
    return work()
  } catch (error) {
    throw new StoreUnavailableError('embedded', error)
  }
}
