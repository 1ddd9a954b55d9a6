/**
 * A proxy's `rate_limit` (#13) on the data plane: per client address, before the auth step, answered
 * with the same RFC 6585 §4 429 and Retry-After by the relay (HTTP/1.1) and the hand-over server
 * (HTTP/1.0, WebSocket upgrades), which count in one bucket; other addresses, other proxies and
 * RATE_LIMIT_EXEMPT are not limited; a change to rate_limit applies at once; bad values are 400s
 * naming the field; refusals are request records with status 429 and counted in /metrics.
 * Clients are 127.0.0.x source addresses (127.0.0.1, the test's own, is exempt).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { httpFrom, type HttpReply } from '../support/http-from.ts'
import { waitFor } from '../support/ports.ts'

const LIMITED = 'limited.test'
const OPEN = 'open.test'
/** 3 at once, then one in 1,000 s: nothing refills while the tests run. */
const RATE_LIMIT = { requests_per_second: 0.001, burst: 3 }

let edge: TestEdge
let backend: ReturnType<typeof Bun.serve>

beforeAll(async () => {
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('from the backend') })
  edge = await startTestEdge({ RATE_LIMIT_EXEMPT: '127.0.0.1' })
  await edge.createProxy(LIMITED, `http://127.0.0.1:${backend.port}`, { rate_limit: RATE_LIMIT })
  await edge.createProxy(OPEN, `http://127.0.0.1:${backend.port}`)
  await waitFor(async () => (await httpFrom('127.0.0.1', edge.httpPort, { path: '/', host: OPEN })).status === 200, { what: 'the proxies serving' })
}, 30_000)

afterAll(async () => {
  await edge?.stop()
  backend?.stop(true)
})

type Path = 'relay' | 'hand-over'
const send = (from: string, path: Path, options: { host?: string; headers?: Record<string, string> } = {}) =>
  httpFrom(from, edge.httpPort, { path: '/page', host: options.host ?? LIMITED, headers: options.headers, version: path === 'relay' ? '1.1' : '1.0' })

async function sendTimes(times: number, from: string, path: Path, options: { host?: string; headers?: Record<string, string> } = {}): Promise<HttpReply[]> {
  const replies: HttpReply[] = []
  for (let i = 0; i < times; i++) replies.push(await send(from, path, options))
  return replies
}

/** The outcomes of an address's request records, sorted. */
async function outcomesFrom(ip: string): Promise<string[]> {
  const page = (await (await edge.api('GET', `/logs/search?ip=${ip}`)).json()) as { records: { outcome: string }[] }
  return page.records.map((record) => record.outcome).sort()
}

const statuses = (replies: readonly HttpReply[]) => replies.map((reply) => reply.status)
/** What both paths must agree on in a 429. */
const refusal = (reply: HttpReply) => ({ status: reply.status, retryAfter: reply.headers['retry-after'], contentType: reply.headers['content-type'], cacheControl: reply.headers['cache-control'], body: reply.body })

describe('a proxy with rate_limit', () => {
  test('RFC 6585 §4: the relay serves the burst, then answers 429 with Retry-After itself', async () => {
    const replies = await sendTimes(5, '127.0.0.10', 'relay')
    expect(statuses(replies)).toEqual([200, 200, 200, 429, 429])
    expect(replies[0]!.body).toBe('from the backend')
    expect(refusal(replies[3]!)).toEqual({
      status: 429,
      retryAfter: '1000',
      contentType: 'application/json',
      cacheControl: 'no-store',
      body: JSON.stringify({ error: 'too_many_requests', error_description: 'too many requests from this address; retry after 1000 s' }),
    })
    expect(replies[3]!.headers['x-request-id']).toBeDefined()
  })

  test('the hand-over server (HTTP/1.0) serves the burst, then gives the very same 429', async () => {
    const viaRelay = (await sendTimes(4, '127.0.0.11', 'relay'))[3]!
    const replies = await sendTimes(4, '127.0.0.12', 'hand-over')
    expect(statuses(replies)).toEqual([200, 200, 200, 429])
    expect(refusal(replies[3]!)).toEqual(refusal(viaRelay))
    expect(replies[3]!.headers['x-request-id']).toBeDefined()
    // The HTTP/1.0 requests really went to the hand-over server: it forwarded the first three (the relay would say forwarded).
    await waitFor(async () => (await outcomesFrom('127.0.0.12')).join() === 'answered,handed_over,handed_over,handed_over', { timeoutMs: 5_000, what: 'the hand-over records' })
  })

  test('both paths draw on one bucket per address: a request is counted once, wherever it is answered', async () => {
    const from = '127.0.0.13'
    expect(statuses([await send(from, 'relay'), await send(from, 'hand-over'), await send(from, 'relay')])).toEqual([200, 200, 200])
    expect(statuses([await send(from, 'hand-over'), await send(from, 'relay')])).toEqual([429, 429])
  })

  test('a browser gets the 429 as a small HTML page, the same on both paths', async () => {
    const accept = { accept: 'text/html,application/xhtml+xml' }
    const viaRelay = (await sendTimes(4, '127.0.0.14', 'relay', { headers: accept }))[3]!
    const viaHandOver = (await sendTimes(4, '127.0.0.15', 'hand-over', { headers: accept }))[3]!
    expect(viaRelay.status).toBe(429)
    expect(viaRelay.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(viaRelay.body).toContain('<h1>429 Too Many Requests</h1>')
    expect(refusal(viaHandOver)).toEqual(refusal(viaRelay))
  })

  test('a WebSocket upgrade over the limit is refused with the 429 too (RFC 6455 §4.1: any status but 101 fails the handshake)', async () => {
    const from = '127.0.0.16'
    await sendTimes(3, from, 'relay')
    const upgrade = await httpFrom(from, edge.httpPort, {
      path: '/socket',
      host: LIMITED,
      headers: { upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' },
    })
    expect(upgrade.status).toBe(429)
    expect(upgrade.headers['retry-after']).toBe('1000')
  })

  test('another address, another proxy and an exempt address (RATE_LIMIT_EXEMPT) are not limited', async () => {
    await sendTimes(4, '127.0.0.17', 'relay')
    expect((await send('127.0.0.17', 'relay', { host: OPEN })).status).toBe(200)
    expect((await send('127.0.0.18', 'relay')).status).toBe(200)
    expect(statuses(await sendTimes(10, '127.0.0.1', 'relay')).every((status) => status === 200)).toBe(true)
    expect(statuses(await sendTimes(10, '127.0.0.1', 'hand-over')).every((status) => status === 200)).toBe(true)
  })

  test('each refusal is a request record with status 429, and counted in ohp_rate_limited_total{scope="proxy"}', async () => {
    await sendTimes(4, '127.0.0.19', 'relay')
    await waitFor(async () => {
      const page = (await (await edge.api('GET', `/logs/search?ip=127.0.0.19&status=429`)).json()) as { records: { proxy: string; outcome: string; status: number }[] }
      return page.records.length === 1 && page.records[0]!.proxy === LIMITED && page.records[0]!.outcome === 'answered'
    }, { timeoutMs: 5_000, what: 'the 429 in the request log' })
    const metrics = await (await edge.api('GET', '/metrics')).text()
    expect(Number(/^ohp_rate_limited_total\{scope="proxy"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(10)
  })
})

describe('rate_limit through the API', () => {
  test('a change applies at once: null lifts the limit, a new one starts counting', async () => {
    const from = '127.0.0.30'
    await sendTimes(4, from, 'relay')
    expect((await send(from, 'relay')).status).toBe(429)
    expect((await edge.api('PUT', `/proxy/targets/${LIMITED}`, { rate_limit: null })).status).toBe(200)
    await waitFor(async () => (await send(from, 'relay')).status === 200, { what: 'the limit lifted' })
    expect((await edge.api('GET', `/proxy/targets/${LIMITED}`)).status).toBe(200)
    expect((await edge.api('PUT', `/proxy/targets/${LIMITED}`, { rate_limit: RATE_LIMIT })).status).toBe(200)
    await waitFor(async () => (await send(from, 'relay')).status === 429, { what: 'the limit back' })
    expect(((await (await edge.api('GET', `/proxy/targets/${LIMITED}`)).json()) as { rate_limit: unknown }).rate_limit).toEqual(RATE_LIMIT)
  })

  test('a bad rate_limit is a 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ requests_per_second: 0, burst: 5 }, 'field rate_limit.requests_per_second: expected more than 0'],
      [{ requests_per_second: 5, burst: 1.5 }, 'field rate_limit.burst: expected a whole number of requests'],
      [{ requests_per_second: 5, burst: 0 }, 'field rate_limit.burst: expected at least 1'],
      [{ requests_per_second: 5 }, 'field rate_limit.burst: is required'],
      [{ requests_per_second: 5, burst: 5, per: 'minute' }, 'field rate_limit.per: unknown field'],
      ['10/s', 'field rate_limit: unknown field'],
    ]
    for (const [rateLimit, description] of cases) {
      const response = await edge.api('POST', '/proxy/targets', { proxy_hostname: 'bad-limit.test', target_url: 'http://127.0.0.1:9', rate_limit: rateLimit })
      expect({ rateLimit, status: response.status, body: await response.json() }).toEqual({ rateLimit, status: 400, body: { error: 'invalid_request', error_description: description } })
    }
  })
})
