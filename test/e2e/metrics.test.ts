/**
 * /metrics of the whole server in this process, after real requests through the edge on both paths
 * (the relay for HTTP backends, the hand-over server for the API behind the localhost proxy), over
 * HTTP and HTTPS: the exposition parses, the request counters equal the requests sent, a backend
 * outage shows as ohp_backend_errors_total{kind="refused"}, a backend past upstream_timeout as
 * "timeout" and one that drops the connection as "reset"; open connections and the token verifier's
 * answers are there too. Scraping needs a user token, or an address in METRICS_TRUSTED.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server, Socket, TCPSocketListener } from 'bun'
import { systemClock } from '../../src/lib/index.ts'
import { issueAccessToken, type Scope } from '../../src/oauth/index.ts'
import { EXPOSITION_CONTENT_TYPE, UNMATCHED_HOST } from '../../src/logs/index.ts'
import { viaHttp, viaHttps } from '../support/edge-clients.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { parseExposition, samplesOf, sumOf, type Exposition } from '../logs/metrics-text.ts'

let edge: TestEdge
let trustedEdge: TestEdge
let backend: Server<undefined>
let silent: TCPSocketListener<undefined>
let cutting: TCPSocketListener<undefined>
const held: Socket<undefined>[] = []

beforeAll(async () => {
  ;[edge, trustedEdge] = await Promise.all([startTestEdge(), startTestEdge({ METRICS_TRUSTED: '127.0.0.1/32' })])
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => new Response('ok', { status: Number(new URL(request.url).pathname.split('/')[2] ?? 200) }) })
  // Takes the request and never answers (upstream_timeout ends it), or takes it and drops the connection.
  silent = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { open: (socket) => void held.push(socket), data() {} } })
  cutting = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data: (socket) => void socket.end() } })
  await edge.createProxy('app.test', `http://127.0.0.1:${backend.port}`)
  // A backend that is down: a port nothing listens on.
  await edge.createProxy('down.test', `http://127.0.0.1:${await freePort()}`)
  await edge.createProxy('slow.test', `http://127.0.0.1:${silent.port}`, { upstream_timeout: 1 })
  await edge.createProxy('cut.test', `http://127.0.0.1:${cutting.port}`)
  // The built-in localhost proxy (the API behind the edge) is created just after start-up.
  for (const target of [edge, trustedEdge]) await waitFor(async () => (await target.api('GET', '/proxy/targets/localhost')).status === 200, { what: 'the localhost proxy' })
})
afterAll(async () => {
  for (const socket of held) socket.end()
  backend?.stop(true)
  silent?.stop(true)
  cutting?.stop(true)
  await Promise.all([edge?.stop(), trustedEdge?.stop()])
})

function tokenFor(target: TestEdge, scopes: Scope[]): Promise<string> {
  return issueAccessToken(target.server.keyRing, systemClock, {
    // With API_PORT=0 the issuer and audience are PUBLIC_URL's default, as test/support/edge.ts mints.
    issuer: 'http://127.0.0.1:0',
    audience: 'http://127.0.0.1:0',
    subject: 'local:scraper',
    username: 'scraper',
    scopes,
    clientId: 'prometheus',
    ttlSec: 600,
  })
}

async function scrape(target: TestEdge, token: string | null): Promise<Exposition> {
  const response = await fetch(`${target.server.apiUrl}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe(EXPOSITION_CONTENT_TYPE)
  return parseExposition(await response.text())
}

/** ohp_requests_total as "host status_class outcome" → count, for the hosts this test sends to. */
function requestCounts(exposition: Exposition, hosts: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const sample of samplesOf(exposition, 'ohp_requests_total')) {
    if (hosts.includes(sample.labels.host!)) counts[`${sample.labels.host} ${sample.labels.status_class} ${sample.labels.outcome}`] = sample.value
  }
  return counts
}

describe('counters match the requests sent through the edge', () => {
  test('by proxy, status class and outcome on both paths and both schemes; backend failures by kind; latency counts', async () => {
    const token = await tokenFor(edge, ['user'])
    const statuses = [200, 200, 200, 200, 200, 200, 404, 404, 404, 500, 500]
    const answers = await Promise.all([
      ...statuses.map((status) => viaHttp(edge, 'app.test', `/status/${status}`)),
      ...[200, 200, 200, 200].map((status) => viaHttps(edge, 'app.test', `/status/${status}`)),
      ...[1, 2, 3].map(() => viaHttp(edge, 'nobody.test', '/')),
      ...[1, 2].map(() => viaHttp(edge, 'down.test', '/')),
      viaHttp(edge, 'cut.test', '/'),
      viaHttp(edge, 'slow.test', '/'),
      // The API behind the built-in localhost proxy: the hand-over server's path.
      ...[1, 2].map(() => viaHttp(edge, 'localhost', '/health')),
    ])
    expect(answers.map((answer) => answer.status)).toEqual([...statuses, 200, 200, 200, 200, 404, 404, 404, 502, 502, 502, 504, 200, 200])
    await Promise.all(answers.map((answer) => answer.arrayBuffer()))

    const hosts = ['app.test', 'down.test', 'cut.test', 'slow.test', 'localhost', UNMATCHED_HOST]
    const expected = {
      'app.test 2xx forwarded': 10,
      'app.test 4xx forwarded': 3,
      'app.test 5xx forwarded': 2,
      [`${UNMATCHED_HOST} 4xx answered`]: 3,
      'down.test 5xx backend_error': 2,
      'cut.test 5xx backend_error': 1,
      'slow.test 5xx backend_error': 1,
      'localhost 2xx handed_over': 2,
    }
    const sent = Object.values(expected).reduce((sum, n) => sum + n, 0)
    const counted = (exposition: Exposition) => Object.values(requestCounts(exposition, hosts)).reduce((sum, n) => sum + n, 0)
    // A record is written as its response ends, which the client may see a moment before: wait for the last one.
    let exposition = await scrape(edge, token)
    await waitFor(async () => counted((exposition = await scrape(edge, token))) >= sent, { timeoutMs: 2_000, what: `${sent} requests counted` })
    expect(requestCounts(exposition, hosts)).toEqual(expected)

    expect(samplesOf(exposition, 'ohp_backend_errors_total').map((s) => `${s.labels.host} ${s.labels.kind} ${s.value}`).sort()).toEqual(['cut.test reset 1', 'down.test refused 2', 'slow.test timeout 1'])
    expect(sumOf(exposition, 'ohp_request_duration_seconds_count', { host: 'app.test' })).toBe(15)
    // The timeout took upstream_timeout (1 s, on the deadline timer's coarse tick): its request sits above the 0.5 s bucket.
    expect(sumOf(exposition, 'ohp_request_duration_seconds_bucket', { host: 'slow.test', le: '0.5' })).toBe(0)
    expect(sumOf(exposition, 'ohp_request_duration_seconds_bucket', { host: 'slow.test', le: '+Inf' })).toBe(1)
    expect(sumOf(exposition, 'ohp_request_duration_seconds_sum', { host: 'slow.test' })).toBeGreaterThanOrEqual(0.9)
    // The client named nobody.test; the label says only that no proxy served it.
    expect(JSON.stringify(exposition.samples)).not.toContain('nobody.test')
  }, 15_000)

  test('ohp_active_connections counts open client connections on the public listeners', async () => {
    const token = await tokenFor(edge, ['user'])
    const before = sumOf(await scrape(edge, token), 'ohp_active_connections')
    const sockets = await Promise.all([1, 2, 3].map(() => Bun.connect({ hostname: '127.0.0.1', port: edge.httpPort, socket: { data() {} } })))
    const connections = async () => sumOf(await scrape(edge, token), 'ohp_active_connections')
    // Accepted asynchronously: wait until the listener has seen all three, then until it has seen them go.
    await waitFor(async () => (await connections()) === before + 3, { timeoutMs: 2_000, what: 'three more connections' })
    for (const socket of sockets) socket.end()
    await waitFor(async () => (await connections()) === before, { timeoutMs: 2_000, what: 'the connections closed' })
  })

  test('ohp_token_verifications_total: the first scrape with a token is verified, the next ones are cache hits; a forged token is refused with its reason', async () => {
    const token = await tokenFor(edge, ['user'])
    const first = await scrape(edge, token)
    const second = await scrape(edge, token)
    const verifications = (exposition: Exposition, result: string) => sumOf(exposition, 'ohp_token_verifications_total', { result })
    expect(verifications(second, 'verified')).toBe(verifications(first, 'verified'))
    expect(verifications(second, 'cache_hit')).toBe(verifications(first, 'cache_hit') + 1)
    const [head, payload, signature] = (await tokenFor(edge, ['user'])).split('.') as [string, string, string]
    const forged = `${head}.${payload}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`
    expect((await fetch(`${edge.server.apiUrl}/metrics`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401)
    const third = await scrape(edge, token)
    expect(verifications(third, 'refused')).toBe(verifications(second, 'refused') + 1)
    expect(sumOf(third, 'ohp_token_refusals_total', { reason: 'bad_signature' })).toBe(sumOf(second, 'ohp_token_refusals_total', { reason: 'bad_signature' }) + 1)
  })

  test('the process: resident memory and event-loop lag samples', async () => {
    const exposition = await scrape(edge, await tokenFor(edge, ['user']))
    expect(sumOf(exposition, 'ohp_process_resident_memory_bytes')).toBeGreaterThan(10_000_000)
    expect(sumOf(exposition, 'ohp_process_resident_memory_bytes')).toBeLessThan(64 * 2 ** 30)
    expect(exposition.families.get('ohp_event_loop_lag_seconds')?.type).toBe('histogram')
    // Sampled every 250 ms since the server started.
    await waitFor(async () => sumOf(await scrape(edge, await tokenFor(edge, ['user'])), 'ohp_event_loop_lag_seconds_count') > 0, { timeoutMs: 2_000, what: 'an event-loop lag sample' })
  })
})

describe('who may scrape', () => {
  test('RFC 6750 §3: no token is 401; an mcp-only token is 403 insufficient_scope; a user token is 200', async () => {
    const url = `${edge.server.apiUrl}/metrics`
    expect((await fetch(url)).status).toBe(401)
    const mcp = await fetch(url, { headers: { authorization: `Bearer ${await tokenFor(edge, ['mcp'])}` } })
    expect(mcp.status).toBe(403)
    expect(mcp.headers.get('www-authenticate')).toContain('error="insufficient_scope", scope="user"')
    await scrape(edge, await tokenFor(edge, ['user']))
  })

  test('METRICS_TRUSTED=127.0.0.1/32: the scraper on this host needs no token', async () => {
    await scrape(trustedEdge, null)
    // The other server lists no one: the same request is refused there.
    expect((await fetch(`${edge.server.apiUrl}/metrics`)).status).toBe(401)
  })

  test('through the edge (the localhost proxy calls the API in-process), the trusted address is not the caller: a token is needed', async () => {
    expect((await viaHttp(trustedEdge, 'localhost', '/metrics')).status).toBe(401)
    const response = await viaHttp(trustedEdge, 'localhost', '/metrics', { headers: { authorization: `Bearer ${await tokenFor(trustedEdge, ['user'])}` } })
    expect(response.status).toBe(200)
    parseExposition(await response.text())
  })
})
