/** Search over the stored records: each filter's meaning, q terms, time windows, cursors that stay stable while records arrive, and the scan budget. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createRequestLog, decodeCursor, encodeCursor, parseQueryTerms, type Condition, type RequestLog, type RequestRecord } from '../../src/logs/index.ts'
import { createEmbeddedStore, type LogPosition, type Store } from '../../src/store/index.ts'
import { makeRecord } from './records.ts'

const T0 = Date.UTC(2026, 10, 27, 12)
let store: Store
let log: RequestLog

function newLog(scanBudget?: number): RequestLog {
  return createRequestLog({
    store,
    clock: createManualClock(T0),
    logger: createLogger('silent'),
    settings: { retentionMs: 30 * 86_400_000, maxRecords: 1_000_000, ringSize: 10_000, accessLog: 'off' },
    timings: { flushIntervalMs: 60_000, scanBudget },
  })
}

const FIXTURE: RequestRecord[] = [
  makeRecord({ request_id: 'f-get-ok', time: T0 + 1, host: 'app.example.com', proxy: '*.example.com', method: 'GET', path: '/api/items?page=2', status: 200, client_ip: '192.0.2.10' }),
  makeRecord({ request_id: 'f-post-404', time: T0 + 2, host: 'app.example.com', method: 'POST', path: '/api/other', status: 404, client_ip: '192.0.2.11', outcome: 'answered', backend: null }),
  makeRecord({ request_id: 'f-user', time: T0 + 3, host: 'mcp.example.com', proxy: 'mcp.example.com', path: '/mcp', status: 200, user: 'alice', client_id: 'inspector', client_ip: '2001:db8::1' }),
  makeRecord({ request_id: 'f-502', time: T0 + 4, host: 'api.example.com', proxy: 'api.example.com', path: '/v1', status: 502, outcome: 'backend_error', backend_error: 'refused', client_ip: '198.51.100.7' }),
  makeRecord({ request_id: 'f-504', time: T0 + 5, host: 'api.example.com', proxy: 'api.example.com', path: '/v1/slow', status: 504, outcome: 'backend_error', backend_error: 'timeout', route_id: 'api-v1-0a1b2c3d' }),
  makeRecord({ request_id: 'f-500', time: T0 + 6, host: 'api.example.com', path: '/boom', status: 500, node: 'node-b', user_agent: 'Mozilla/5.0 Firefox' }),
  makeRecord({ request_id: 'f-auth', time: T0 + 7, host: 'mcp.example.com', path: '/mcp', status: 401, outcome: 'auth', backend: null }),
  makeRecord({ request_id: 'f-old', time: T0 - 3_600_000, host: 'app.example.com', status: 200 }),
]

beforeAll(async () => {
  store = createEmbeddedStore({ dataDir: ':memory:' })
  log = newLog()
  for (const record of FIXTURE) log.sink.record(record)
  await log.flush()
})
afterAll(async () => {
  await log.stop()
  await store.close()
})

const WINDOW = { fromMs: T0, toMs: T0 + 60_000 }
const found = async (conditions: Condition[], window = WINDOW) => (await log.search({ conditions, ...window, limit: 100 })).records.map((s) => s.record.request_id)
const terms = (q: string): Condition[] => {
  const parsed = parseQueryTerms(q)
  if (!parsed.ok) throw new Error(parsed.message)
  return parsed.conditions
}

describe('filters', () => {
  test('no filter: every record of the window, newest first', async () => {
    expect(await found([])).toEqual(['f-auth', 'f-500', 'f-504', 'f-502', 'f-user', 'f-post-404', 'f-get-ok'])
  })

  test('each field filter matches its field exactly', async () => {
    const cases: [Condition, string[]][] = [
      [{ kind: 'equals', field: 'host', value: 'APP.example.com' }, ['f-post-404', 'f-get-ok']],
      [{ kind: 'equals', field: 'proxy', value: '*.example.com' }, ['f-get-ok']],
      [{ kind: 'equals', field: 'method', value: 'POST' }, ['f-post-404']],
      [{ kind: 'equals', field: 'user', value: 'alice' }, ['f-user']],
      [{ kind: 'equals', field: 'user', value: 'ali' }, []],
      [{ kind: 'equals', field: 'client_id', value: 'inspector' }, ['f-user']],
      [{ kind: 'equals', field: 'route_id', value: 'api-v1-0a1b2c3d' }, ['f-504']],
      [{ kind: 'equals', field: 'outcome', value: 'auth' }, ['f-auth']],
      [{ kind: 'equals', field: 'node', value: 'node-b' }, ['f-500']],
      [{ kind: 'equals', field: 'backend_error', value: 'timeout' }, ['f-504']],
      [{ kind: 'equals', field: 'request_id', value: 'f-502' }, ['f-502']],
      [{ kind: 'status', status: 404 }, ['f-post-404']],
      [{ kind: 'status_class', digit: 5 }, ['f-500', 'f-504', 'f-502']],
      [{ kind: 'status_class', digit: 2 }, ['f-user', 'f-get-ok']],
      [{ kind: 'path_prefix', prefix: '/api/' }, ['f-post-404', 'f-get-ok']],
      [{ kind: 'path_prefix', prefix: '/v1' }, ['f-504', 'f-502']],
      [{ kind: 'ip', value: '192.0.2.10' }, ['f-auth', 'f-500', 'f-504', 'f-get-ok']],
      [{ kind: 'ip', value: '192.0.2.11' }, ['f-post-404']],
      [{ kind: 'ip', value: '192.0.2.0/24' }, ['f-auth', 'f-500', 'f-504', 'f-post-404', 'f-get-ok']],
      [{ kind: 'ip', value: '198.51.100.0/24' }, ['f-502']],
      [{ kind: 'ip', value: '2001:db8::1' }, ['f-user']],
      [{ kind: 'ip', value: '2001:db8::/32' }, ['f-user']],
      [{ kind: 'errors' }, ['f-500', 'f-504', 'f-502']],
      [{ kind: 'text', text: 'firefox' }, ['f-500']],
    ]
    for (const [condition, expected] of cases) expect({ condition, found: await found([condition]) }).toEqual({ condition, found: expected })
  })

  test('conditions combine with AND', async () => {
    expect(await found([{ kind: 'equals', field: 'host', value: 'api.example.com' }, { kind: 'status_class', digit: 5 }, { kind: 'path_prefix', prefix: '/v1' }])).toEqual(['f-504', 'f-502'])
    expect(await found([{ kind: 'equals', field: 'host', value: 'app.example.com' }, { kind: 'errors' }])).toEqual([])
  })

  test('the window bounds the records: an older one shows only when the window reaches it', async () => {
    expect(await found([{ kind: 'equals', field: 'request_id', value: 'f-old' }])).toEqual([])
    expect(await found([{ kind: 'equals', field: 'request_id', value: 'f-old' }], { fromMs: T0 - 7_200_000, toMs: T0 })).toEqual(['f-old'])
    expect(await found([], { fromMs: T0 + 2, toMs: T0 + 4 })).toEqual(['f-502', 'f-user', 'f-post-404'])
  })
})

describe('q terms', () => {
  test('field:value terms mean the same as the filters, the original\'s names included', async () => {
    expect(await found(terms('status:5xx host:api.example.com'))).toEqual(['f-500', 'f-504', 'f-502'])
    expect(await found(terms('status_code:404'))).toEqual(['f-post-404'])
    expect(await found(terms('proxy_hostname:mcp.example.com'))).toEqual(['f-user'])
    expect(await found(terms('method:post'))).toEqual(['f-post-404'])
    expect(await found(terms('client:inspector user:alice'))).toEqual(['f-user'])
    expect(await found(terms('ip:198.51.100.0/24 error:refused'))).toEqual(['f-502'])
    expect(await found(terms('path:/api errors:true'))).toEqual([])
    expect(await found(terms('route:api-v1-0a1b2c3d'))).toEqual(['f-504'])
  })

  test('bare words and quoted values match any text field, ignoring case', async () => {
    expect(await found(terms('FIREFOX'))).toEqual(['f-500'])
    expect(await found(terms('"page=2"'))).toEqual(['f-get-ok'])
  })

  test('bad terms are refused with what is wrong', () => {
    const problems: [string, RegExp][] = [
      ['colour:red', /unknown field colour/],
      ['status:6xx', /status:6xx/],
      ['status:abc', /status:abc/],
      ['ip:not-an-ip', /ip:not-an-ip/],
      ['outcome:exploded', /outcome:exploded/],
      ['backend_error:gone', /backend_error:gone/],
      ['path:api', /path:api/],
      ['errors:maybe', /errors:maybe/],
      [Array.from({ length: 21 }, (_, i) => `w${i}`).join(' '), /at most 20 terms/],
    ]
    for (const [q, message] of problems) {
      const parsed = parseQueryTerms(q)
      expect(parsed.ok, q).toBe(false)
      if (!parsed.ok) expect(parsed.message).toMatch(message)
    }
  })
})

describe('paging', () => {
  test('cursors are opaque, round-trip, and anything else is refused', () => {
    const position: LogPosition = { timeMs: T0, id: '42' }
    expect(decodeCursor(encodeCursor(position))).toEqual(position)
    for (const bad of ['', 'abc', '!!!', Buffer.from('12.x').toString('base64url'), Buffer.from('1e5.3').toString('base64url'), 'x'.repeat(65)]) expect(decodeCursor(bad), bad).toBeNull()
  })

  test('paging is stable while records arrive: newer ones never enter, none repeats, none is skipped', async () => {
    const own = createEmbeddedStore({ dataDir: ':memory:' })
    const paged = createRequestLog({ store: own, clock: createManualClock(T0), logger: createLogger('silent'), settings: { retentionMs: 86_400_000, maxRecords: 1_000_000, ringSize: 10_000, accessLog: 'off' }, timings: { flushIntervalMs: 60_000 } })
    try {
      // Several records share each millisecond, so the cursor must carry the id, not only the time.
      const original = Array.from({ length: 300 }, (_, i) => makeRecord({ request_id: `o${i}`, time: T0 + Math.floor(i / 3) }))
      for (const record of original) paged.sink.record(record)
      await paged.flush()
      const window = { fromMs: T0 - 60_000, toMs: T0 + 60_000 }
      const seen: string[] = []
      let cursor: LogPosition | null = null
      let lateIndex = 0
      for (let page = 0; page < 100; page++) {
        const result = await paged.search({ conditions: [], ...window, limit: 25, cursor })
        seen.push(...result.records.map((s) => s.record.request_id))
        if (!result.next) break
        cursor = result.next
        // Between pages: records newer than everything (also at the cursor's own millisecond), written through the sink.
        paged.sink.record(makeRecord({ request_id: `new${page}`, time: T0 + 1_000 + page }))
        paged.sink.record(makeRecord({ request_id: `same${page}`, time: cursor.timeMs }))
        if (page % 3 === 0) paged.sink.record(makeRecord({ request_id: `late${lateIndex++}`, time: T0 - 1_000 }))
        await paged.flush()
      }
      const originals = seen.filter((id) => id.startsWith('o'))
      expect(new Set(seen).size).toBe(seen.length)
      expect(originals).toEqual([...original].reverse().map((r) => r.request_id))
      expect(seen.some((id) => id.startsWith('new') || id.startsWith('same'))).toBe(false)
      // Late records, older than any cursor, are found by the pages that reach their time.
      expect(seen.filter((id) => id.startsWith('late'))).toHaveLength(lateIndex)
    } finally {
      await paged.stop()
      await own.close()
    }
  })

  test('a page at the end of the window has no cursor', async () => {
    const page = await log.search({ conditions: [], ...WINDOW, limit: 7 })
    expect(page.records).toHaveLength(7)
    expect(page.next).toBeNull()
    const partial = await log.search({ conditions: [], ...WINDOW, limit: 3 })
    expect(partial.next).not.toBeNull()
  })
})

describe('scan budget', () => {
  test('a search reads at most the budget per request; the cursor continues the scan where it stopped', async () => {
    const own = createEmbeddedStore({ dataDir: ':memory:' })
    const small = createRequestLog({ store: own, clock: createManualClock(T0), logger: createLogger('silent'), settings: { retentionMs: 86_400_000, maxRecords: 1_000_000, ringSize: 10_000, accessLog: 'off' }, timings: { scanBudget: 100, flushIntervalMs: 60_000 } })
    try {
      small.sink.record(makeRecord({ request_id: 'needle', time: T0, user: 'bob' }))
      for (let i = 0; i < 450; i++) small.sink.record(makeRecord({ time: T0 + 1 + i }))
      await small.flush()
      const window = { fromMs: T0, toMs: T0 + 10_000 }
      const conditions: Condition[] = [{ kind: 'equals', field: 'user', value: 'bob' }]
      let cursor: LogPosition | null = null
      let pages = 0
      let result
      do {
        result = await small.search({ conditions, ...window, limit: 10, cursor })
        pages++
        expect(result.scanned).toBeLessThanOrEqual(100)
        cursor = result.next
        if (result.records.length === 0) expect(result.isBudgetSpent).toBe(true)
      } while (result.records.length === 0 && cursor)
      expect(result.records.map((s) => s.record.request_id)).toEqual(['needle'])
      expect(pages).toBe(5)
    } finally {
      await small.stop()
      await own.close()
    }
  })
})

describe('by request id', () => {
  test('finds every record with the id in the window, or none', async () => {
    expect((await log.byId('f-504', WINDOW)).records.map((s) => s.record.status)).toEqual([504])
    expect((await log.byId('missing', WINDOW)).records).toEqual([])
    expect((await log.byId('f-old', WINDOW)).records).toEqual([])
  })
})
