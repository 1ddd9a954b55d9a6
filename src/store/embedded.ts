/**
 * @module The embedded Store adapter: two SQLite files (bun:sqlite) under DATA_DIR, or ":memory:": the
 * documents in store.sqlite, the log in LOG_FILE, each on a connection of its own, so that neither
 * waits for the other's writes. Several processes may open the same files; each conditional write runs
 * in a BEGIN IMMEDIATE transaction, so compare-and-set, ifAbsent and take are atomic across them. Log
 * entries are kept hundreds to a row (log-chunks*.ts) and written by a thread of their own
 * (log-append-thread.ts).
 */
import { Database, type Statement } from 'bun:sqlite'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startLogAppendThread, type TrimKind } from './log-append-thread.ts'
import { createChunkWriter, LOG_FILE, packEntries, packRows, type ChunkRow } from './log-chunks.ts'
import { moveEarlierLog, openLogFile } from './log-chunks-migrate.ts'
import { createChunkReader } from './log-chunks-query.ts'
import { createChunkTrimmer } from './log-chunks-trim.ts'
import { systemClock, type Clock } from '../lib/index.ts'
import {
  clampLimit,
  logIdNumber,
  StoreUnavailableError,
  type DeleteOptions,
  type LogQuery,
  type LogTailQuery,
  type PutOptions,
  type RowBatch,
  type Store,
  type StoredDocument,
} from './store.ts'

/** The files the embedded store keeps in DATA_DIR (each with its -wal and -shm while open). */
export const EMBEDDED_STORE_FILES = ['store.sqlite', LOG_FILE] as const

export interface EmbeddedStoreOptions {
  /** A directory (EMBEDDED_STORE_FILES are inside it) or ":memory:". */
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
`

type DocRow = { value: string; version: number; expires_at: number | null }

export function createEmbeddedStore(options: EmbeddedStoreOptions): Store {
  const clock = options.clock ?? systemClock
  const { db, logDb, logPath } = openDatabase(options.dataDir)
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

  // Log entries live in chunk rows (log-chunks.ts), hundreds per row.
  const writeChunks = createChunkWriter(logDb)
  const writeHere = (stream: string, batch: readonly ChunkRow[]) => guard(() => writeChunks(stream, batch))
  const writeRowsHere = (stream: string, rows: RowBatch) => guard(() => writeChunks(stream, packRows(rows)))
  const reader = createChunkReader(logDb)
  const trimmer = createChunkTrimmer(logDb, guard)
  // ":memory:" is this connection's alone; a file another connection can write to.
  const trimHere = (stream: string, kind: TrimKind, value: number) => (kind === 'age' ? trimmer.trim(stream, value) : trimmer.trimToCount(stream, value))
  const appendThread = options.dataDir === ':memory:' ? null : startLogAppendThread(logPath, { chunks: writeHere, rows: writeRowsHere, trim: trimHere })
  // Retention runs where the log is written: on that thread, off the request path (log-append-worker.ts).
  const trim = (stream: string, kind: TrimKind, value: number) =>
    appendThread ? appendThread.trim(stream, kind, value).catch((error: unknown) => Promise.reject(new StoreUnavailableError('embedded', error))) : trimHere(stream, kind, value)

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
    append: async (stream, timeMs, data) => writeHere(stream, packEntries([{ timeMs, data }])),
    // A file's log entries are written by a thread of their own (log-append-thread.ts): off the request path.
    // They are packed here, written by that thread: a few strings cross to it, not one per entry.
    appendMany: async (stream, entries) => {
      const batch = guard(() => packEntries(entries))
      if (appendThread) return appendThread.append(stream, batch).catch((error: unknown) => Promise.reject(new StoreUnavailableError('embedded', error)))
      writeHere(stream, batch)
    },
    // Rows are packed by that thread too (log-chunks.ts packRows): here they are only handed over.
    appendRows: async (stream, rows) => {
      if (appendThread) return appendThread.appendRows(stream, rows).catch((error: unknown) => Promise.reject(new StoreUnavailableError('embedded', error)))
      writeRowsHere(stream, rows)
    },
    query: async (stream, query: LogQuery = {}) => {
      const after = query.startAfter ? { timeMs: query.startAfter.timeMs, id: logIdNumber(query.startAfter.id) } : null
      const resolved = {
        fromMs: query.fromMs ?? Number.MIN_SAFE_INTEGER,
        toMs: query.toMs ?? Number.MAX_SAFE_INTEGER,
        limit: clampLimit(query.limit),
        isOldest: query.order === 'oldest',
        after,
      }
      return guard(() => reader.query(stream, resolved))
    },
    tail: async (stream, query: LogTailQuery = {}) => {
      const afterId = query.afterId === undefined ? null : logIdNumber(query.afterId)
      return guard(() => reader.tail(stream, afterId, clampLimit(query.limit)))
    },
    trim: (stream, beforeMs) => trim(stream, 'age', beforeMs),
    trimToCount: (stream, keep) => trim(stream, 'count', keep),
    ping: async () => guard(() => void q.ping.get()),
    close: async () => {
      clearInterval(sweepTimer)
      await appendThread?.close()
      // close(true) finalizes the prepared statements; plain close() would leave the connection (and
      // its file handles and WAL) open, and the store answering, until they were garbage collected.
      db.close(true)
      logDb.close(true)
    },
  }
}

/**
 * The connections to the documents' file and to the log's, and the log file's path for its writer
 * thread. A connection with the log's file attached would not do: its BEGIN IMMEDIATE locks every
 * attached file, so each document write would wait for the log's commits.
 */
function openDatabase(dataDir: string): { db: Database; logDb: Database; logPath: string } {
  let path = ':memory:'
  let logPath = ':memory:'
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true })
    path = join(dataDir, EMBEDDED_STORE_FILES[0])
    logPath = join(dataDir, EMBEDDED_STORE_FILES[1])
  }
  const db = naming(path, () => new Database(path, { create: true, strict: true }))
  // WAL lets readers in other processes run beside a writer; busy_timeout makes writers queue, not fail.
  // busy_timeout first: processes opening a new file at once (serve --workers) queue for switching it to WAL too.
  let logDb: Database | null = null
  try {
    naming(path, () => {
      db.exec('PRAGMA busy_timeout = 5000;')
      whileLockedAtOpen(() => db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;'))
      db.transaction(() => db.exec(SCHEMA)).immediate()
    })
    logDb = naming(logPath, () => whileLockedAtOpen(() => openLogFile(logPath)))
    moveEarlierLog(db, logDb)
    return { db, logDb, logPath }
  } catch (error) {
    logDb?.close()
    db.close()
    throw error
  }
}

/** How long processes opening one new file at once retry SQLite's "database is locked". */
const OPEN_LOCKED_MS = 5_000

/**
 * Runs `step`, again while SQLite answers "database is locked", for up to OPEN_LOCKED_MS. Two processes
 * switching a new file to WAL at once (serve --workers on an empty DATA_DIR) can get that answer
 * without the busy handler being asked (seen in CI: a worker failed to start); the switch itself is
 * the same whoever makes it, so trying again is safe.
 */
function whileLockedAtOpen<T>(step: () => T): T {
  const deadline = performance.now() + OPEN_LOCKED_MS
  for (;;) {
    try {
      return step()
    } catch (error) {
      if (!/database is locked/i.test((error as Error).message) || performance.now() >= deadline) throw error
      Bun.sleepSync(10 + Math.random() * 40)
    }
  }
}

/** Runs `open`; what SQLite says of a file it cannot use ("file is not a database") names the file, since there are two. */
function naming<T>(path: string, open: () => T): T {
  try {
    return open()
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error })
  }
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
