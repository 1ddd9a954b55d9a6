/**
 * The embedded store packs log entries into chunk rows (src/store/log-chunks.ts). Callers must not be
 * able to tell: every query, tail and trim answers exactly as a table of one row per entry would.
 * These tests hold the store to a model of that table (an array, sorted on demand) through batches
 * larger than a chunk, times out of order inside a chunk, entries that stretch a chunk's span,
 * cursors landing inside chunks and trims that split them; and check that rows really are chunks,
 * that data of any shape round-trips, and that a file written by an earlier version (one row per
 * entry in a `log` table) is moved into chunks with its ids kept.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedStore } from '../../src/store/embedded.ts'
import { CHUNK_ENTRIES, CHUNK_SPAN_MS, LOG_FILE, ROWS_CHUNK_ENTRIES } from '../../src/store/log-chunks.ts'
import { rowBatchOf, rowTexts } from '../../src/store/log-rows.ts'
import type { LogEntry, LogQuery, NewLogEntry, RowBatch, Store } from '../../src/store/store.ts'

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-chunks-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Entry = { id: number; timeMs: number; data: string }

/** What a table of one row per entry answers. */
class Model {
  entries: Entry[] = []
  private byTime(order: 'newest' | 'oldest') {
    const sign = order === 'oldest' ? 1 : -1
    return [...this.entries].sort((a, b) => sign * (a.timeMs - b.timeMs || a.id - b.id))
  }
  query(q: LogQuery): Entry[] {
    const order = q.order ?? 'newest'
    const from = q.fromMs ?? -Infinity
    const to = q.toMs ?? Infinity
    const after = q.startAfter ? { timeMs: q.startAfter.timeMs, id: Number(q.startAfter.id) } : null
    const past = (e: Entry) => {
      if (!after) return true
      const cmp = e.timeMs - after.timeMs || e.id - after.id
      return order === 'oldest' ? cmp > 0 : cmp < 0
    }
    return this.byTime(order)
      .filter((e) => e.timeMs >= from && e.timeMs <= to && past(e))
      .slice(0, q.limit ?? 100)
  }
  tail(afterId: number | null, limit: number): Entry[] {
    const byId = [...this.entries].sort((a, b) => a.id - b.id)
    return afterId === null ? byId.slice(-limit) : byId.filter((e) => e.id > afterId).slice(0, limit)
  }
  trim(beforeMs: number): number {
    const before = this.entries.length
    this.entries = this.entries.filter((e) => e.timeMs >= beforeMs)
    return before - this.entries.length
  }
  trimToCount(keep: number): number {
    const kept = new Set(this.byTime('newest').slice(0, keep))
    const before = this.entries.length
    this.entries = this.entries.filter((e) => kept.has(e))
    return before - this.entries.length
  }
}

const asModel = (entries: readonly LogEntry[]): Entry[] => entries.map((e) => ({ id: Number(e.id), timeMs: e.timeMs, data: e.data }))

/**
 * Entries as rows (appendRows): the row's cells are its index in the batch and a label, so its data
 * is `[i,"label"]`. Returns the batch and the entries it must read back as.
 */
function asRows(entries: readonly NewLogEntry[], label: string): { rows: RowBatch; expected: NewLogEntry[] } {
  return {
    rows: rowBatchOf(entries.map((e) => e.timeMs), 1, entries.map((_, i) => i), 1, entries.map(() => label)),
    expected: entries.map((e, i) => ({ timeMs: e.timeMs, data: JSON.stringify([i, label]) })),
  }
}

/** Appends and learns the ids the store gave (tail after the last known id, which also checks tail). */
async function appendAndLearn(store: Store, model: Model, stream: string, entries: readonly NewLogEntry[], rowsLabel?: string): Promise<void> {
  const lastId = model.entries.reduce((max, e) => Math.max(max, e.id), 0)
  let batch = entries
  if (rowsLabel === undefined) await store.appendMany(stream, batch)
  else {
    const { rows, expected } = asRows(entries, rowsLabel)
    await store.appendRows(stream, rows)
    batch = expected
  }
  const added = await store.tail(stream, { afterId: String(lastId), limit: 10_000 })
  expect(added.map((e) => [e.timeMs, e.data])).toEqual(batch.map((e) => [e.timeMs, e.data]))
  const ids = added.map((e) => Number(e.id))
  expect(ids).toEqual([...ids].sort((a, b) => a - b))
  expect(ids[0]!).toBeGreaterThan(lastId)
  model.entries.push(...asModel(added))
}

/** A batch as the request log writes it: records end in order, each stamped with its start. */
function requestBatch(next: () => number, clock: { nowMs: number }, size: number, label: string): NewLogEntry[] {
  return Array.from({ length: size }, (_, i) => {
    clock.nowMs += Math.floor(next() * 5)
    const roll = next()
    // Mostly short requests; some long enough to stretch a chunk past CHUNK_SPAN_MS; a few at one instant.
    const duration = roll < 0.03 ? CHUNK_SPAN_MS + Math.floor(next() * 5 * CHUNK_SPAN_MS) : roll < 0.1 ? 0 : Math.floor(next() * 200)
    return { timeMs: clock.nowMs - duration, data: `{"label":"${label}","i":${i}}` }
  })
}

async function expectSameAnswers(store: Store, model: Model, stream: string, next: () => number, rounds: number): Promise<void> {
  const times = model.entries.map((e) => e.timeMs)
  const low = Math.min(...times)
  const high = Math.max(...times)
  const pick = () => low - 50 + Math.floor(next() * (high - low + 100))
  for (let round = 0; round < rounds; round++) {
    const fromMs = next() < 0.3 ? undefined : pick()
    const toMs = next() < 0.3 ? undefined : pick()
    const order = next() < 0.5 ? ('oldest' as const) : ('newest' as const)
    const limit = [1, 7, 100, 300, 1_000][Math.floor(next() * 5)]!
    // A cursor at a real entry (inside some chunk) or at an arbitrary position.
    const anchor = model.entries[Math.floor(next() * model.entries.length)]!
    const startAfter = next() < 0.4 ? undefined : next() < 0.7 ? { timeMs: anchor.timeMs, id: String(anchor.id) } : { timeMs: pick(), id: String(Math.floor(next() * (anchor.id + 10))) }
    const query: LogQuery = { fromMs, toMs, order, limit, startAfter }
    const answer = asModel(await store.query(stream, query))
    if (JSON.stringify(answer) !== JSON.stringify(model.query(query))) expect({ query, answer }).toEqual({ query, answer: model.query(query) })
  }
  for (const limit of [1, 50, 1_000]) {
    expect(asModel(await store.tail(stream, { limit }))).toEqual(model.tail(null, limit))
    const anchor = model.entries[Math.floor(next() * model.entries.length)]!
    expect(asModel(await store.tail(stream, { afterId: String(anchor.id), limit }))).toEqual(model.tail(anchor.id, limit))
  }
}

/** Every entry, page by page; a cursor that does not move on fails instead of looping. */
async function pageThrough(store: Store, stream: string, order: 'newest' | 'oldest', size: number): Promise<Entry[]> {
  const seen: Entry[] = []
  let startAfter: LogQuery['startAfter']
  for (let pages = 0; pages < 100_000 / size + 2; pages++) {
    const page = await store.query(stream, { order, limit: size, startAfter })
    seen.push(...asModel(page))
    if (page.length < size) return seen
    startAfter = { timeMs: page.at(-1)!.timeMs, id: page.at(-1)!.id }
  }
  throw new Error(`paging ${order} by ${size} did not end`)
}

for (const kind of ['file (the writer thread)', ':memory:'] as const) {
  describe(`chunked log entries, ${kind}`, () => {
    const open = () => createEmbeddedStore({ dataDir: kind === ':memory:' ? ':memory:' : tempDir() })

    test('queries, tails and trims answer as one row per entry would, through batches larger than a chunk with times out of order', async () => {
      const store = open()
      const model = new Model()
      const next = random(kind === ':memory:' ? 7 : 11)
      const clock = { nowMs: 1_000_000 }
      try {
        for (const size of [1, 3, CHUNK_ENTRIES - 1, CHUNK_ENTRIES, CHUNK_ENTRIES + 1, 700, 40, 2 * CHUNK_ENTRIES + 5, 1, 500]) {
          await appendAndLearn(store, model, 's', requestBatch(next, clock, size, `b${size}`))
        }
        // Another stream in between: its entries never show up in this one.
        await store.appendMany('other', requestBatch(next, clock, 300, 'other'))
        await appendAndLearn(store, model, 's', requestBatch(next, clock, 300, 'last'))
        await expectSameAnswers(store, model, 's', next, 150)

        // Trims at arbitrary times split chunks; the counts and everything after them stay exact.
        const times = model.entries.map((e) => e.timeMs).sort((a, b) => a - b)
        for (const at of [0.1, 0.25, 0.4]) {
          const beforeMs = times[Math.floor(times.length * at)]! + 1
          expect(await store.trim('s', beforeMs)).toBe(model.trim(beforeMs))
          await expectSameAnswers(store, model, 's', next, 40)
        }
        for (const keep of [model.entries.length - 1, model.entries.length - 333, 500, 137]) {
          expect(await store.trimToCount('s', keep)).toBe(model.trimToCount(keep))
          await expectSameAnswers(store, model, 's', next, 40)
        }
        expect(await store.trimToCount('s', 1_000)).toBe(0)
        expect((await store.query('other', { limit: 1_000 })).length).toBe(300)
      } finally {
        await store.close()
      }
    })

    test('rows (appendRows, chunks of rows) and text entries in one stream answer as one row per entry would, through trims that rewrite chunks of rows', async () => {
      const store = open()
      const model = new Model()
      const next = random(kind === ':memory:' ? 17 : 19)
      const clock = { nowMs: 2_000_000 }
      try {
        for (const [size, asRowsToo] of [[5, true], [300, false], [ROWS_CHUNK_ENTRIES + 1, true], [ROWS_CHUNK_ENTRIES, true], [40, false], [2_000, true], [1, true]] as const) {
          await appendAndLearn(store, model, 's', requestBatch(next, clock, size, `b${size}`), asRowsToo ? `rows${size}` : undefined)
        }
        await expectSameAnswers(store, model, 's', next, 100)
        const times = model.entries.map((e) => e.timeMs).sort((a, b) => a - b)
        for (const at of [0.2, 0.5]) {
          const beforeMs = times[Math.floor(times.length * at)]! + 1
          expect(await store.trim('s', beforeMs)).toBe(model.trim(beforeMs))
          await expectSameAnswers(store, model, 's', next, 30)
        }
        for (const keep of [model.entries.length - 100, 700, 3]) {
          expect(await store.trimToCount('s', keep)).toBe(model.trimToCount(keep))
          await expectSameAnswers(store, model, 's', next, 30)
        }
      } finally {
        await store.close()
      }
    })

    test('a page cursor landing inside a chunk continues exactly where the page ended, in either order, at any page size', async () => {
      const store = open()
      const model = new Model()
      const next = random(3)
      try {
        // Many entries share a millisecond, across chunk boundaries: the cursor's id decides.
        const batch = Array.from({ length: 3 * CHUNK_ENTRIES + 17 }, (_, i) => ({ timeMs: 5_000 + Math.floor(i / 100) * 10 - Math.floor(next() * 25), data: `e${i}` }))
        await appendAndLearn(store, model, 's', batch)
        for (const size of [1, 7, 100, CHUNK_ENTRIES, 1_000]) {
          expect(await pageThrough(store, 's', 'newest', size)).toEqual(model.query({ limit: 10_000 }))
          expect(await pageThrough(store, 's', 'oldest', size)).toEqual(model.query({ limit: 10_000, order: 'oldest' }))
        }
      } finally {
        await store.close()
      }
    })

    test('entries of one millisecond in different chunks: a page never ends on one while another chunk may hold one before it', async () => {
      const store = open()
      try {
        // Newest first: the second batch's entry at 1000 has the larger id, so it comes first among the 1000s.
        await store.appendMany('newest', [
          { timeMs: 1_005, data: 'a' },
          { timeMs: 1_000, data: 'b' },
        ])
        await store.appendMany('newest', [{ timeMs: 1_000, data: 'c' }])
        expect((await store.query('newest', { limit: 2 })).map((e) => e.data)).toEqual(['a', 'c'])
        // Oldest first: the first batch's entry at 1000 has the smaller id, so it comes first among the 1000s.
        await store.appendMany('oldest', [{ timeMs: 1_000, data: 'a' }])
        await store.appendMany('oldest', [
          { timeMs: 995, data: 'b' },
          { timeMs: 1_000, data: 'c' },
        ])
        expect((await store.query('oldest', { limit: 2, order: 'oldest' })).map((e) => e.data)).toEqual(['b', 'a'])
      } finally {
        await store.close()
      }
    })

    test('an entry far older than its batch is found by a window around it, and trimmed by its own time', async () => {
      const store = open()
      const model = new Model()
      try {
        const batch = Array.from({ length: 600 }, (_, i) => ({ timeMs: 10_000_000 + i, data: `e${i}` }))
        batch[300] = { timeMs: 10_000_000 - 3_600_000, data: 'an hour-long request' }
        batch[301] = { timeMs: 10_000_000 - CHUNK_SPAN_MS, data: 'just inside the span' }
        await appendAndLearn(store, model, 's', batch)
        const window = { fromMs: 10_000_000 - 3_600_000 - 5, toMs: 10_000_000 - 3_600_000 + 5 }
        expect((await store.query('s', window)).map((e) => e.data)).toEqual(['an hour-long request'])
        expect((await store.query('s', { toMs: 10_000_000 - 1 })).map((e) => e.data)).toEqual(['just inside the span', 'an hour-long request'])
        expect((await store.query('s', { order: 'oldest', limit: 2 })).map((e) => e.data)).toEqual(['an hour-long request', 'just inside the span'])
        expect(await store.trim('s', 10_000_000 - 1)).toBe(2)
        expect((await store.query('s', { order: 'oldest', limit: 1 })).map((e) => e.data)).toEqual(['e0'])
      } finally {
        await store.close()
      }
    })

    test('data of any shape round-trips exactly: newlines, tabs, separators, astral characters, empty and long strings', async () => {
      const store = open()
      try {
        const odd = ['', 'line\nbreak', 'tab\there', '\r\n', '\u0000nul', ']["json"]', '\u00e9t\u00e9 \u{1F600}', 'x'.repeat(200_000), '"', '\\', ',', '']
        await store.appendMany('s', odd.map((data, i) => ({ timeMs: 100 - i, data })))
        await store.append('s', 1, 'single\nappend')
        expect((await store.query('s', { order: 'newest', limit: 100 })).map((e) => e.data)).toEqual([...odd, 'single\nappend'])
        expect((await store.tail('s')).map((e) => e.data)).toEqual([...odd, 'single\nappend'])
      } finally {
        await store.close()
      }
    })
  })
}

describe('chunk rows in the SQLite file', () => {
  test('one appendMany is a few rows, not one per entry, and entry ids increase in append order across connections', async () => {
    const dataDir = tempDir()
    const store = createEmbeddedStore({ dataDir })
    const second = createEmbeddedStore({ dataDir })
    try {
      await store.appendMany('s', Array.from({ length: 1_000 }, (_, i) => ({ timeMs: 1_000 + (i % 10), data: `a${i}` })))
      await second.appendMany('s', Array.from({ length: 10 }, (_, i) => ({ timeMs: 1, data: `b${i}` })))
      await store.append('s', 0, 'c')
      const file = new Database(join(dataDir, LOG_FILE), { readonly: true })
      const rows = file.query('SELECT first_id, entries FROM log_chunks WHERE stream = ? ORDER BY first_id').all('s') as { first_id: number; entries: number }[]
      file.close()
      expect(rows.map((row) => row.entries)).toEqual([CHUNK_ENTRIES, CHUNK_ENTRIES, CHUNK_ENTRIES, 1_000 - 3 * CHUNK_ENTRIES, 10, 1])
      const ids = (await store.tail('s', { limit: 2_000 })).map((e) => [e.data, Number(e.id)] as const)
      expect(ids.map(([data]) => data)).toEqual([...Array.from({ length: 1_000 }, (_, i) => `a${i}`), ...Array.from({ length: 10 }, (_, i) => `b${i}`), 'c'])
      expect(ids.map(([, id]) => id)).toEqual(ids.map((_, i) => rows[0]!.first_id + i))
    } finally {
      await store.close()
      await second.close()
    }
  })

  /** Rows as the request log writes them: a request id sharing a prefix, a few hosts and paths, many addresses. */
  const logLikeRows = (count: number) => {
    const strings = Array.from({ length: count }, (_, i) => [`n1-${(1_000_000 + i).toString(36)}`, ['app.example.com', 'api.example.com'][i % 2]!, ['/', '/api/items?page=2', '/mcp'][i % 3]!, `10.0.${(i >> 8) & 255}.${i & 255}`]).flat()
    const numbers = Array.from({ length: count }, (_, i) => [200, (i % 50) / 10, 0, 512 + (i % 200)]).flat()
    return rowBatchOf(Array.from({ length: count }, (_, i) => 5_000 + i), 4, numbers, 4, strings, ['app.example.com', 'api.example.com'])
  }
  const ZSTD_FRAME = [0x28, 0xb5, 0x2f, 0xfd]
  const ROWS_ENCODING = [...'ROW1'].map((char) => char.charCodeAt(0))

  test('a chunk of rows is stored as a zstd frame (RFC 8878 §3.1.1) of its encoding, in a fraction of its text', async () => {
    const dataDir = tempDir()
    const store = createEmbeddedStore({ dataDir })
    const batch = logLikeRows(3_000)
    try {
      await store.appendRows('s', batch)
      expect((await store.query('s', { order: 'oldest', limit: 5_000 })).map((e) => e.data)).toEqual(rowTexts(batch))
    } finally {
      await store.close()
    }
    const file = new Database(join(dataDir, LOG_FILE), { readonly: true })
    const chunks = file.query("SELECT data FROM log_chunks WHERE stream = 's'").all() as { data: Uint8Array }[]
    file.close()
    expect(chunks.length).toBeGreaterThanOrEqual(3)
    for (const { data } of chunks) {
      expect([...data.subarray(0, 4)]).toEqual(ZSTD_FRAME)
      expect([...Bun.zstdDecompressSync(data).subarray(0, 4)]).toEqual(ROWS_ENCODING)
    }
    const stored = chunks.reduce((total, { data }) => total + data.byteLength, 0)
    const encoded = chunks.reduce((total, { data }) => total + Bun.zstdDecompressSync(data).byteLength, 0)
    const text = rowTexts(batch).reduce((total, row) => total + row.length, 0)
    expect(stored).toBeLessThan(encoded / 3)
    expect(stored).toBeLessThan(text / 3)
  })

  test('the chunks of a batch, encoded one after another in reused memory, each read back whole, and encode the same whatever came before', async () => {
    // Three chunks: short ASCII cells, then long non-ASCII paths (past the memory kept for reuse), then
    // short cells again with nulls; an odd count of rows and string columns leaves padding to align.
    const count = 2 * ROWS_CHUNK_ENTRIES + 333
    const strings = Array.from({ length: count }, (_, i) => {
      const long = i >= ROWS_CHUNK_ENTRIES && i < 2 * ROWS_CHUNK_ENTRIES
      return [`id-${i}`, long ? `/\u00e9t\u00e9/${'\u00e9'.repeat(600)}\u{1F600}${i}` : `/p${i % 7}`, i % 3 === 0 ? null : 'app.example.com']
    }).flat()
    const numbers = Array.from({ length: count }, (_, i) => (i % 40) / 8)
    const times = Array.from({ length: count }, (_, i) => 9_000 + i)
    const batch = rowBatchOf(times, 1, numbers, 3, strings, ['app.example.com'])
    const tail = rowBatchOf(times.slice(0, 5), 1, numbers.slice(0, 5), 3, strings.slice(0, 15), ['app.example.com'])
    const storedChunks = async (batches: RowBatch[]) => {
      const dataDir = tempDir()
      const store = createEmbeddedStore({ dataDir })
      try {
        for (const [k, rows] of batches.entries()) await store.appendRows(`s${k}`, rows)
        for (const [k, rows] of batches.entries()) expect((await store.query(`s${k}`, { order: 'oldest', limit: 5_000 })).map((e) => e.data)).toEqual(rowTexts(rows))
      } finally {
        await store.close()
      }
      const file = new Database(join(dataDir, LOG_FILE), { readonly: true })
      const chunks = file.query('SELECT data FROM log_chunks ORDER BY first_id').all() as { data: Uint8Array }[]
      file.close()
      return chunks.map(({ data }) => Bun.zstdDecompressSync(data))
    }
    const after = await storedChunks([batch, tail])
    expect(after).toHaveLength(4)
    expect(after[1]!.byteLength).toBeGreaterThan(1024 * 1024)
    // The same five rows alone: the same bytes, so nothing of the chunks before (padding) was kept in it.
    expect([...(await storedChunks([tail]))[0]!]).toEqual([...after[3]!])
  })

  test('a chunk of rows an earlier version stored as it was (not compressed) reads back the same, and is trimmed the same', async () => {
    const dataDir = tempDir()
    const batch = logLikeRows(1_500)
    const written = createEmbeddedStore({ dataDir })
    await written.appendRows('s', batch)
    await written.close()
    const file = new Database(join(dataDir, LOG_FILE))
    const chunks = file.query("SELECT first_id, data FROM log_chunks WHERE stream = 's'").all() as { first_id: number; data: Uint8Array }[]
    for (const { first_id, data } of chunks) file.query('UPDATE log_chunks SET data = ? WHERE first_id = ?').run(Bun.zstdDecompressSync(data), first_id)
    const asBefore = file.query("SELECT data FROM log_chunks WHERE stream = 's'").all() as { data: Uint8Array }[]
    file.close()
    expect(asBefore.map(({ data }) => [...data.subarray(0, 4)])).toEqual(chunks.map(() => ROWS_ENCODING))
    const store = createEmbeddedStore({ dataDir })
    try {
      expect((await store.query('s', { order: 'oldest', limit: 5_000 })).map((e) => e.data)).toEqual(rowTexts(batch))
      expect(await store.trim('s', 5_000 + 700)).toBe(700)
      expect((await store.query('s', { order: 'oldest', limit: 5_000 })).map((e) => e.data)).toEqual(rowTexts(batch).slice(700))
    } finally {
      await store.close()
    }
  })

  test('two nodes trimming the same stream at once remove each entry once: their counts add up to what went', async () => {
    const dataDir = tempDir()
    const a = createEmbeddedStore({ dataDir })
    const b = createEmbeddedStore({ dataDir })
    try {
      await a.appendMany('s', Array.from({ length: 5_000 }, (_, i) => ({ timeMs: (i * 7919) % 5_000, data: `e${i}` })))
      const [byA, byB] = await Promise.all([a.trim('s', 2_500), b.trim('s', 2_500)])
      expect(byA + byB).toBe(2_500)
      const [countA, countB] = await Promise.all([a.trimToCount('s', 1_000), b.trimToCount('s', 1_000)])
      expect(countA + countB).toBe(1_500)
      expect((await b.query('s', { order: 'oldest', limit: 10_000 })).map((e) => e.timeMs)).toEqual(Array.from({ length: 1_000 }, (_, i) => 4_000 + i))
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('a file written by an earlier version (one row per entry)', () => {
  /** The schema and rows of the version before chunks: two streams interleaved, the newest rows deleted. */
  function writeOldFile(dataDir: string): { id: number; stream: string; timeMs: number; data: string }[] {
    const db = new Database(join(dataDir, 'store.sqlite'), { create: true })
    db.exec(`
      PRAGMA journal_mode = WAL;
      CREATE TABLE documents (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL, expires_at INTEGER);
      CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO counters (name, value) VALUES ('version', 3);
      CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, time_ms INTEGER NOT NULL, data TEXT NOT NULL);
      CREATE INDEX log_by_time ON log (stream, time_ms, id);
    `)
    const insert = db.query('INSERT INTO log (stream, time_ms, data) VALUES (?, ?, ?)')
    db.transaction(() => {
      for (let i = 0; i < 50_000; i++) insert.run(i % 3 === 0 ? 'oauth' : 'requests', 1_000_000 + i * 10 - (i % 7) * 15, `old ${i}\nline`)
    })()
    // Deleted rows: AUTOINCREMENT never hands their ids out again, and neither may the new store.
    db.exec('DELETE FROM log WHERE id > 49990')
    const rows = db.query('SELECT id, stream, time_ms AS timeMs, data FROM log ORDER BY id').all() as { id: number; stream: string; timeMs: number; data: string }[]
    db.close()
    return rows
  }

  test('is moved into chunks when opened: every entry keeps its id, time and data, new ids come after the old ones, and the old table goes', async () => {
    const dataDir = tempDir()
    const old = writeOldFile(dataDir)
    const store = createEmbeddedStore({ dataDir })
    try {
      for (const stream of ['requests', 'oauth']) {
        const expected = old.filter((row) => row.stream === stream).map(({ id, timeMs, data }) => ({ id, timeMs, data }))
        const model = new Model()
        model.entries = expected
        expect(asModel(await store.tail(stream, { limit: 10_000 })).length).toBe(Math.min(10_000, expected.length))
        expect(await pageThrough(store, stream, 'oldest', 5_000)).toEqual(model.query({ order: 'oldest', limit: 100_000 }))
        expect(asModel(await store.query(stream, { fromMs: 1_200_000, toMs: 1_300_000, limit: 10_000 }))).toEqual(model.query({ fromMs: 1_200_000, toMs: 1_300_000, limit: 10_000 }))
        // A follow cursor handed out before the upgrade (an old id) goes on with the next entries.
        const cursor = expected[expected.length - 5]!.id
        expect(asModel(await store.tail(stream, { afterId: String(cursor) }))).toEqual(expected.slice(-4))
      }
      await store.appendMany('requests', [{ timeMs: 5, data: 'new' }])
      const [newest] = await store.tail('requests', { limit: 1 })
      expect(newest!.data).toBe('new')
      expect(Number(newest!.id)).toBe(50_001)
      expect((await store.tail('requests', { afterId: String(old.at(-1)!.id) })).map((e) => e.data)).toEqual(['new'])
      const file = new Database(join(dataDir, 'store.sqlite'), { readonly: true })
      expect(file.query("SELECT name FROM sqlite_master WHERE name = 'log'").all()).toEqual([])
      file.close()
    } finally {
      await store.close()
    }
    // Reopening finds nothing left to move and keeps the counter.
    const again = createEmbeddedStore({ dataDir })
    try {
      await again.append('requests', 6, 'newer')
      expect((await again.tail('requests', { limit: 2 })).map((e) => [e.data, Number(e.id)])).toEqual([
        ['new', 50_001],
        ['newer', 50_002],
      ])
    } finally {
      await again.close()
    }
  })

  test('two processes opening it at once share the move, and neither loses or doubles an entry', async () => {
    const dataDir = tempDir()
    const old = writeOldFile(dataDir)
    const script = `
      const { createEmbeddedStore } = await import(${JSON.stringify(join(import.meta.dir, '../../src/store/embedded.ts'))})
      const store = createEmbeddedStore({ dataDir: ${JSON.stringify(dataDir)} })
      await store.close()
    `
    const spawn = () => Bun.spawn([process.execPath, '-e', script], { stdout: 'inherit', stderr: 'inherit' })
    const exits = await Promise.all([spawn().exited, spawn().exited])
    expect(exits).toEqual([0, 0])
    const store = createEmbeddedStore({ dataDir })
    try {
      const all = [...(await pageThrough(store, 'requests', 'oldest', 10_000)), ...(await pageThrough(store, 'oauth', 'oldest', 10_000))]
      expect(all.map((e) => e.id).sort((x, y) => x - y)).toEqual(old.map((row) => row.id))
    } finally {
      await store.close()
    }
  })
})
