/**
 * The embedded store keeps its log in a file of its own (LOG_FILE beside store.sqlite, pages of LOG_PAGE_BYTES),
 * so log writes take neither the documents' WAL nor their locks. These tests check where entries land,
 * and that a data directory of the version before (the chunk table and its `log-id` counter inside
 * store.sqlite) is moved over when opened: every entry keeps its id and data, new ids come after the old
 * ones, and a move interrupted between its two commits (the chunks in both files) doubles nothing.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedStore } from '../../src/store/embedded.ts'
import { LOG_FILE, LOG_PAGE_BYTES } from '../../src/store/log-chunks.ts'
import { rowBatchOf } from '../../src/store/log-rows.ts'
import type { Store } from '../../src/store/store.ts'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-log-file-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function tableNames(path: string): string[] {
  const db = new Database(path, { readonly: true })
  const names = (db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((row) => row.name)
  db.close()
  return names
}

/** Text entries in one stream and rows (the request log's binary chunks) in another, as a server writes them. */
async function writeEntries(store: Store): Promise<void> {
  await store.appendMany('oauth', Array.from({ length: 600 }, (_, i) => ({ timeMs: 1_000 + i, data: `event ${i}` })))
  await store.appendRows('requests', rowBatchOf(Array.from({ length: 2_500 }, (_, i) => 2_000 + i), 1, Array.from({ length: 2_500 }, (_, i) => i), 1, Array.from({ length: 2_500 }, (_, i) => `path /${i}`)))
}

async function everything(store: Store): Promise<{ stream: string; id: string; timeMs: number; data: string }[]> {
  const all = []
  for (const stream of ['oauth', 'requests']) {
    for (const entry of await store.query(stream, { order: 'oldest', limit: 10_000 })) all.push({ stream, id: entry.id, timeMs: entry.timeMs, data: entry.data })
  }
  return all
}

/**
 * Rewrites a data directory into the layout of the version before: the chunks and the `log-id` counter
 * inside store.sqlite (the chunk format itself did not change). `keepLogFile` leaves the log file as it
 * is too, as a move interrupted after its copy and before its drop would.
 */
function toEarlierLayout(dataDir: string, keepLogFile = false): void {
  const db = new Database(join(dataDir, 'store.sqlite'))
  db.query('ATTACH DATABASE ? AS logs').run(join(dataDir, LOG_FILE))
  db.exec(`
    CREATE TABLE main.log_chunks (first_id INTEGER PRIMARY KEY, stream TEXT NOT NULL, time_min INTEGER NOT NULL, time_max INTEGER NOT NULL, entries INTEGER NOT NULL, meta TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX main.log_chunks_by_max ON log_chunks (stream, time_max, time_min);
    CREATE INDEX main.log_chunks_by_min ON log_chunks (stream, time_min, time_max);
    CREATE INDEX main.log_chunks_by_id ON log_chunks (stream, first_id, entries);
    INSERT INTO main.log_chunks SELECT * FROM logs.log_chunks;
    INSERT INTO main.counters (name, value) SELECT name, value FROM logs.log_counters;
    DETACH DATABASE logs;
  `)
  db.close()
  if (!keepLogFile) for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, LOG_FILE + suffix), { force: true })
}

describe("the log's own file", () => {
  test('entries are written to it, with 4 KiB pages and WAL, and the documents file holds no log table', async () => {
    const dataDir = tempDir()
    const store = createEmbeddedStore({ dataDir })
    await store.put('doc', 'v')
    await writeEntries(store)
    expect((await everything(store)).length).toBe(3_100)
    await store.close()
    expect(tableNames(join(dataDir, 'store.sqlite'))).toEqual(['counters', 'documents'])
    expect(tableNames(join(dataDir, LOG_FILE))).toEqual(['log_chunks', 'log_counters'])
    const logFile = new Database(join(dataDir, LOG_FILE), { readonly: true })
    expect((logFile.query('PRAGMA page_size').get() as { page_size: number }).page_size).toBe(LOG_PAGE_BYTES)
    expect(LOG_PAGE_BYTES).toBe(4_096)
    expect((logFile.query('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal')
    expect((logFile.query('SELECT sum(entries) AS n FROM log_chunks').get() as { n: number }).n).toBe(3_100)
    logFile.close()
  })

  test('a log write holding its file (a batch being committed) never makes a document write wait, nor the other way round', async () => {
    const dataDir = tempDir()
    const store = createEmbeddedStore({ dataDir })
    try {
      // Another connection holds the log file's write lock, as the writer thread does while it commits a batch.
      // Had the documents shared that file, this put would wait for the lock, which is released only after it.
      const logWrite = new Database(join(dataDir, LOG_FILE))
      logWrite.exec('BEGIN IMMEDIATE')
      const appended = store.appendMany('oauth', [{ timeMs: 1, data: 'queued behind the lock' }])
      expect(await store.put('doc', 'written meanwhile')).toBeNumber()
      expect((await store.get('doc'))?.value).toBe('written meanwhile')
      logWrite.exec('COMMIT')
      logWrite.close()
      await appended
      // And a document write in progress does not hold up the log.
      const documentWrite = new Database(join(dataDir, 'store.sqlite'))
      documentWrite.exec('BEGIN IMMEDIATE')
      await store.appendMany('oauth', [{ timeMs: 2, data: 'written meanwhile' }])
      documentWrite.exec('COMMIT')
      documentWrite.close()
      expect((await store.query('oauth', { order: 'oldest' })).map((entry) => entry.data)).toEqual(['queued behind the lock', 'written meanwhile'])
    } finally {
      await store.close()
    }
  })

  test('a file that is not a database is named in the error, and left as it was', () => {
    for (const name of ['store.sqlite', LOG_FILE]) {
      const dataDir = tempDir()
      const garbage = Buffer.from('not a database '.repeat(400))
      writeFileSync(join(dataDir, name), garbage)
      expect(() => createEmbeddedStore({ dataDir })).toThrow(`${join(dataDir, name)}: file is not a database`)
      expect(readFileSync(join(dataDir, name)).equals(garbage)).toBe(true)
    }
  })

  test('a data directory of the version before is moved over when opened: ids and data kept, new ids after them, the old table and counter gone', async () => {
    const dataDir = tempDir()
    const writer = createEmbeddedStore({ dataDir })
    await writeEntries(writer)
    const before = await everything(writer)
    await writer.close()
    toEarlierLayout(dataDir)
    expect(existsSync(join(dataDir, LOG_FILE))).toBe(false)
    expect(tableNames(join(dataDir, 'store.sqlite'))).toContain('log_chunks')

    const store = createEmbeddedStore({ dataDir })
    try {
      expect(await everything(store)).toEqual(before)
      await store.append('oauth', 9_999, 'after the move')
      const [newest] = await store.tail('oauth', { limit: 1 })
      expect(newest!.data).toBe('after the move')
      expect(Number(newest!.id)).toBe(Math.max(...before.map((entry) => Number(entry.id))) + 1)
    } finally {
      await store.close()
    }
    expect(tableNames(join(dataDir, 'store.sqlite'))).toEqual(['counters', 'documents'])
    const documents = new Database(join(dataDir, 'store.sqlite'), { readonly: true })
    expect(documents.query("SELECT name FROM counters WHERE name = 'log-id'").all()).toEqual([])
    documents.close()
  })

  test('a move interrupted between its copy and its drop (the chunks in both files) is finished without doubling an entry', async () => {
    const dataDir = tempDir()
    const writer = createEmbeddedStore({ dataDir })
    await writeEntries(writer)
    const before = await everything(writer)
    await writer.close()
    toEarlierLayout(dataDir, true)

    const store = createEmbeddedStore({ dataDir })
    try {
      expect(await everything(store)).toEqual(before)
      await store.append('requests', 9_999, '["new"]')
      expect(Number((await store.tail('requests', { limit: 1 }))[0]!.id)).toBe(Math.max(...before.map((entry) => Number(entry.id))) + 1)
    } finally {
      await store.close()
    }
    expect(tableNames(join(dataDir, 'store.sqlite'))).toEqual(['counters', 'documents'])
  })
})
