/**
 * /logs/* in-process over a real request log: admin for records, user for /logs/stats; 401 without a
 * token (RFC 6750 §3), 403 insufficient_scope (RFC 6750 §3.1), 400 naming the parameter, 404 for an
 * unknown request id; the answers' shapes, paging by cursor, and the live tail as Server-Sent Events.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { logRoutes } from '../../src/api/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createRequestLog, type RequestLog, type RequestRecord } from '../../src/logs/index.ts'
import { createEmbeddedStore, type Store } from '../../src/store/index.ts'
import { bearer, createTestApi } from '../support/api.ts'
import { waitFor } from '../support/ports.ts'
import { makeRecord } from '../logs/records.ts'

const NOW = Date.UTC(2026, 10, 27, 12)
let api: Awaited<ReturnType<typeof createTestApi>>
let store: Store
let log: RequestLog
let admin: string
let user: string

const RECORDS: RequestRecord[] = [
  makeRecord({ request_id: 'r-ok', time: NOW - 60_000, host: 'app.example.com', proxy: 'app.example.com', client_ip: '192.0.2.10', path: '/items?page=1' }),
  makeRecord({ request_id: 'r-alice', time: NOW - 50_000, host: 'mcp.example.com', proxy: '*.example.com', client_ip: '2001:db8::7', user: 'alice', client_id: 'inspector', path: '/mcp' }),
  makeRecord({ request_id: 'r-502', time: NOW - 40_000, host: 'api.example.com', proxy: 'api.example.com', client_ip: '198.51.100.7', status: 502, outcome: 'backend_error', backend_error: 'refused' }),
  makeRecord({ request_id: 'r-404', time: NOW - 30_000, host: 'app.example.com', proxy: null, client_ip: '192.0.2.11', status: 404, outcome: 'answered', method: 'POST' }),
  makeRecord({ request_id: 'r-old', time: NOW - 3 * 86_400_000, host: 'app.example.com', client_ip: '192.0.2.10' }),
]

beforeAll(async () => {
  store = createEmbeddedStore({ dataDir: ':memory:' })
  const clock = createManualClock(NOW)
  log = createRequestLog({
    store,
    clock,
    logger: createLogger('silent'),
    settings: { retentionMs: 7 * 86_400_000, maxRecords: 1_000_000, ringSize: 1_000, accessLog: 'off' },
    timings: { flushIntervalMs: 50, followPollMs: 50 },
  })
  log.start()
  api = await createTestApi({ extraRoutes: logRoutes(log, { clock, retentionMs: 7 * 86_400_000 }) })
  admin = await api.issue(['admin'])
  user = await api.issue(['user'])
  for (const record of RECORDS) log.sink.record(record)
  await log.flush()
})
afterAll(async () => {
  await log.stop()
  await store.close()
  await api.close()
})

const get = (path: string, token: string | null = admin, init: RequestInit = {}) => api.app.request(path, { ...init, headers: token ? bearer(token) : {} })
const json = async (path: string, token: string | null = admin) => {
  const response = await get(path, token)
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as Record<string, unknown> & { records: (RequestRecord & { id: string; timestamp: string })[] }
}
const ids = async (path: string) => (await json(path)).records.map((r) => r.request_id)

const ADMIN_PATHS = ['/logs/search', '/logs/ip/192.0.2.10', '/logs/host/app.example.com', '/logs/proxy/app.example.com', '/logs/user/alice', '/logs/client/inspector', '/logs/errors', '/logs/request/r-ok', '/logs/follow']

describe('authorization', () => {
  test('RFC 6750 §3: no token → 401 with a Bearer challenge on every endpoint', async () => {
    for (const path of [...ADMIN_PATHS, '/logs/stats']) {
      const response = await get(path, null)
      expect({ path, status: response.status }).toEqual({ path, status: 401 })
      expect(response.headers.get('www-authenticate')).toStartWith('Bearer ')
    }
  })

  test('RFC 6750 §3.1: a user token → 403 insufficient_scope on the record endpoints (addresses and user names need admin)', async () => {
    for (const path of ADMIN_PATHS) {
      const response = await get(path, user)
      expect({ path, status: response.status }).toEqual({ path, status: 403 })
      expect(((await response.json()) as { error: string }).error).toBe('insufficient_scope')
    }
  })

  test('/logs/stats answers a user token', async () => {
    expect((await get('/logs/stats', user)).status).toBe(200)
  })
})

describe('bad input → 400 naming the parameter', () => {
  test('each bad query or path parameter is named, and an unknown one is refused', async () => {
    const cases: [string, string][] = [
      ['/logs/search?status=600', 'query parameter status'],
      ['/logs/search?status=5x', 'query parameter status'],
      ['/logs/search?limit=0', 'query parameter limit'],
      ['/logs/search?limit=1001', 'query parameter limit'],
      ['/logs/search?limit=ten', 'query parameter limit'],
      ['/logs/search?from=yesterday', 'query parameter from'],
      ['/logs/search?to=2026-11-27T10:00:00', 'query parameter to'],
      ['/logs/search?from=1h&to=2h', 'query parameter from'],
      ['/logs/search?hours=0', 'query parameter hours'],
      ['/logs/search?cursor=not-a-cursor', 'query parameter cursor'],
      ['/logs/search?q=colour:red', 'query parameter q'],
      ['/logs/search?q=status:9xx', 'query parameter q'],
      ['/logs/search?ip=999.1.1.1', 'query parameter ip'],
      ['/logs/search?path=items', 'query parameter path'],
      ['/logs/search?method=G3T', 'query parameter method'],
      ['/logs/search?outcome=exploded', 'query parameter outcome'],
      ['/logs/search?backend_error=gone', 'query parameter backend_error'],
      ['/logs/search?host=a%20b', 'query parameter host'],
      ['/logs/search?offset=10', 'query parameter offset'],
      ['/logs/ip/not-an-address', 'path parameter ip'],
      ['/logs/ip/10.0.0.0%2F33', 'path parameter ip'],
      ['/logs/host/a%20b', 'path parameter hostname'],
      ['/logs/errors?status=abc', 'query parameter status'],
      ['/logs/request/has%20space', 'path parameter request_id'],
      ['/logs/request/r-ok?from=soon', 'query parameter from'],
      ['/logs/stats?bucket=week', 'query parameter bucket'],
      ['/logs/stats?bucket=minute&from=7d', 'query parameter bucket'],
      ['/logs/stats?top=0', 'query parameter top'],
      // Stats take no caller-identifying filter (a user token could otherwise probe who visited).
      ['/logs/stats?ip=192.0.2.10', 'query parameter ip'],
      ['/logs/stats?user=alice', 'query parameter user'],
      ['/logs/follow?status=1', 'query parameter status'],
      ['/logs/follow?limit=5', 'query parameter limit'],
    ]
    for (const [path, named] of cases) {
      const response = await get(path)
      const body = (await response.json()) as { error: string; error_description: string }
      expect({ path, status: response.status, error: body.error }).toEqual({ path, status: 400, error: 'invalid_request' })
      expect({ path, description: body.error_description.startsWith(named) }).toEqual({ path, description: true })
    }
  })
})

describe('not found', () => {
  test('an unknown request id → 404 not_found; an unknown /logs path → 404', async () => {
    const response = await get('/logs/request/no-such-request')
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: string }).error).toBe('not_found')
    // Older than the default window of the lookup (the whole retention) it is not found either way.
    expect((await get('/logs/request/r-old?from=1h')).status).toBe(404)
    expect((await get('/logs/nowhere')).status).toBe(404)
  })
})

describe('answers', () => {
  test('search: records newest first with id and ISO timestamp, the window, and no cursor at the end', async () => {
    const body = await json('/logs/search')
    expect(body.records.map((r) => r.request_id)).toEqual(['r-404', 'r-502', 'r-alice', 'r-ok'])
    expect(body).toMatchObject({ count: 4, next_cursor: null, scan_budget_exhausted: false, from: new Date(NOW - 86_400_000).toISOString(), to: new Date(NOW).toISOString() })
    const first = body.records.at(-1)!
    expect(first).toEqual({ id: expect.any(String), timestamp: new Date(RECORDS[0]!.time).toISOString(), ...RECORDS[0]! })
  })

  test('paging with next_cursor walks every record once', async () => {
    const seen: string[] = []
    let path = '/logs/search?limit=1&hours=48'
    for (let i = 0; i < 10; i++) {
      const body = await json(path)
      seen.push(...body.records.map((r) => r.request_id))
      if (body.next_cursor === null) break
      path = `/logs/search?limit=1&hours=48&cursor=${body.next_cursor}`
    }
    expect(seen).toEqual(['r-404', 'r-502', 'r-alice', 'r-ok'])
    expect(await ids('/logs/search?hours=96')).toContain('r-old')
  })

  test('filters as parameters and as q terms', async () => {
    expect(await ids('/logs/search?status=5xx')).toEqual(['r-502'])
    expect(await ids('/logs/search?status=404&method=post')).toEqual(['r-404'])
    expect(await ids('/logs/search?host=APP.example.com')).toEqual(['r-404', 'r-ok'])
    expect(await ids('/logs/search?path=/items%3Fpage')).toEqual(['r-ok'])
    expect(await ids('/logs/search?ip=192.0.2.0/24')).toEqual(['r-404', 'r-ok'])
    expect(await ids('/logs/search?outcome=backend_error')).toEqual(['r-502'])
    expect(await ids('/logs/search?q=user:alice%20client:inspector')).toEqual(['r-alice'])
    expect(await ids(`/logs/search?from=${new Date(NOW - 45_000).toISOString()}&to=35s`)).toEqual(['r-502'])
  })

  test('the per-address, host, proxy, user, client and errors listings', async () => {
    expect(await ids('/logs/ip/192.0.2.10')).toEqual(['r-ok'])
    expect(await ids('/logs/ip/192.0.2.10?hours=96')).toEqual(['r-ok', 'r-old'])
    expect(await ids('/logs/ip/192.0.2.0%2F24')).toEqual(['r-404', 'r-ok'])
    expect(await ids('/logs/ip/2001:db8::7')).toEqual(['r-alice'])
    expect(await ids('/logs/ip/2001:DB8:0:0:0:0:0:7')).toEqual(['r-alice'])
    expect(await ids('/logs/host/app.example.com')).toEqual(['r-404', 'r-ok'])
    expect(await ids('/logs/proxy/*.example.com')).toEqual(['r-alice'])
    expect(await ids('/logs/user/alice')).toEqual(['r-alice'])
    expect(await ids('/logs/client/inspector')).toEqual(['r-alice'])
    expect(await ids('/logs/errors')).toEqual(['r-502'])
    expect(await ids('/logs/host/app.example.com?status=404')).toEqual(['r-404'])
  })

  test('one request by id, over the whole retention by default', async () => {
    const body = (await json('/logs/request/r-old')) as unknown as { request_id: string; records: { request_id: string; status: number }[] }
    expect(body.request_id).toBe('r-old')
    expect(body.records.map((r) => r.request_id)).toEqual(['r-old'])
  })

  test('stats: the numbers of the window and its buckets', async () => {
    const body = (await json('/logs/stats?bucket=hour', user)) as unknown as Record<string, unknown>
    expect(body).toMatchObject({ requests: 4, errors: 1, error_rate: 0.25, status: { '200': 2, '404': 1, '502': 1 }, unique_visitors: 4, complete: true, bucket: 'hour' })
    expect((body.top_hosts as { value: string; requests: number }[])[0]).toEqual({ value: 'app.example.com', requests: 2 })
    expect(body.top_clients).toEqual([{ value: 'inspector', requests: 1 }])
    expect((body.buckets as unknown[]).length).toBe(25)
    const narrowed = (await json('/logs/stats?host=api.example.com', user)) as unknown as Record<string, unknown>
    expect(narrowed).toMatchObject({ requests: 1, errors: 1 })
  })

  test('the OpenAPI document lists every /logs endpoint with its scope', async () => {
    const doc = (await (await api.app.request('/openapi.json')).json()) as { paths: Record<string, { get: { security: { bearerAuth: string[] }[] } }> }
    for (const path of ['/logs/search', '/logs/ip/{ip}', '/logs/host/{hostname}', '/logs/proxy/{hostname}', '/logs/user/{username}', '/logs/client/{client_id}', '/logs/errors', '/logs/request/{request_id}', '/logs/follow']) {
      expect(doc.paths[path]?.get.security).toEqual([{ bearerAuth: ['admin'] }])
    }
    expect(doc.paths['/logs/stats']?.get.security).toEqual([{ bearerAuth: ['user'] }])
  })
})

describe('GET /logs/follow', () => {
  test('an event stream: new matching records as `request` events, and the subscription ends when the client goes away', async () => {
    const abort = new AbortController()
    const response = await get('/logs/follow?status=5xx', admin, { signal: abort.signal })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('no-store')
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const readUntil = async (needle: string) => {
      const deadline = performance.now() + 2_000
      while (!text.includes(needle) && performance.now() < deadline) {
        const { value, done } = await reader.read()
        if (done) break
        text += decoder.decode(value)
      }
    }
    await readUntil(': following')
    expect(log.followers()).toBe(1)
    log.sink.record(makeRecord({ request_id: 'live-ok' }))
    log.sink.record(makeRecord({ request_id: 'live-503', status: 503 }))
    await readUntil('live-503')
    const events = text.split('\n\n').filter((block) => block.startsWith('id: '))
    expect(events).toHaveLength(1)
    const [idLine, eventLine, dataLine] = events[0]!.split('\n')
    expect(eventLine).toBe('event: request')
    const data = JSON.parse(dataLine!.slice('data: '.length)) as { id: string; request_id: string; status: number }
    expect(idLine).toBe(`id: ${data.id}`)
    expect(data).toMatchObject({ request_id: 'live-503', status: 503 })
    abort.abort()
    await reader.cancel().catch(() => {})
    await waitFor(() => log.followers() === 0, { timeoutMs: 2_000, what: 'the follower gone' })
  })

  test('the log ends every live tail when asked (server stop), so the stop of the API does not wait for followers', async () => {
    const response = await get('/logs/follow')
    const reader = response.body!.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toContain(': following')
    expect(log.followers()).toBe(1)
    log.endFollows()
    const ended = await Promise.race([reader.read().then((chunk) => chunk.done), Bun.sleep(2_000).then(() => 'still open')])
    expect(ended).toBe(true)
    expect(log.followers()).toBe(0)
  })
})
