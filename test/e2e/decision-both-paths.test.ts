/**
 * DESIGN §1 (one decision per request): a behaviour table whose every row runs on both forwarding paths
 * and must get the same answer on each. The relay takes the row as a plain HTTP/1.1 request; the
 * hand-over server takes it as HTTP/1.0 on a connection already handed to it (by an absolute-form
 * request, RFC 9112 §3.2.2, which only the hand-over server reads), and that hand-over is checked on
 * every run through edge.stats().handoffs; a third run sends the HTTP/1.0 request first on a fresh
 * connection, as a client would, which the relay answers itself when the host alone decides the
 * answer (decideHost) and hands over otherwise. Each run is compared on status, who answered (the
 * backend's tag and what it received, or the answer's JSON error) and the key response headers.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { inTurnOn, openClient, readReplies, type RawReply } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import type { Scheme } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'

/** What the client was answered, reduced to what both paths must agree on. */
interface Outcome {
  readonly status: number
  /** The backend that answered (its tag) and the request as it arrived there. */
  readonly backend?: { readonly tag: string; readonly method: string; readonly target: string; readonly host: string }
  /** The edge's own answer (RFC 9457-like JSON error body). */
  readonly error?: { readonly error: string; readonly error_description: string }
  readonly headers: Readonly<Record<KeyHeader, string | null>>
}

const KEY_HEADERS = ['location', 'strict-transport-security', 'x-custom'] as const
type KeyHeader = (typeof KEY_HEADERS)[number]

interface Row {
  readonly name: string
  readonly schemes: readonly Scheme[]
  readonly host: string
  /** The TLS connection's SNI; by default the host's name. */
  readonly sni?: string
  readonly method?: string
  readonly target: string
  /** Per scheme when the answer depends on it. `{httpsPort}` and `{route:NAME}` are filled in when the row runs. */
  readonly expect: Outcome | Readonly<Record<Scheme, Outcome>>
}

type Run = 'relay (HTTP/1.1)' | 'hand-over server (HTTP/1.0 after a hand-over)' | 'HTTP/1.0 first on its connection'
const RUNS: readonly Run[] = ['relay (HTTP/1.1)', 'hand-over server (HTTP/1.0 after a hand-over)', 'HTTP/1.0 first on its connection']

const none: Outcome['headers'] = { location: null, 'strict-transport-security': null, 'x-custom': null }
const served = (tag: string, target: string, host: string, headers: Partial<Outcome['headers']> = {}, method = 'GET'): Outcome => ({
  status: 200,
  backend: { tag, method, target, host },
  headers: { ...none, ...headers },
})
const refused = (status: number, error: string, error_description: string): Outcome => ({ status, error: { error, error_description }, headers: none })
const notFound = (hostname: string) => refused(404, 'not_found', `no proxy for ${hostname}`)
const HSTS = 'max-age=600; includeSubDomains'
const BOTH: readonly Scheme[] = ['http', 'https']
const HTTP: readonly Scheme[] = ['http']

const ROWS: readonly Row[] = [
  // Host forms (RFC 9110 §7.2, RFC 1034 §3.1): one name however it is spelled.
  { name: 'exact host', schemes: BOTH, host: 'alpha.test', target: '/x?y=1', expect: served('alpha', '/x?y=1', 'alpha.test', { 'x-custom': 'alpha' }) },
  { name: 'upper-case host', schemes: BOTH, host: 'ALPHA.TEST', target: '/x', expect: served('alpha', '/x', 'ALPHA.TEST', { 'x-custom': 'alpha' }) },
  { name: 'host with a port', schemes: BOTH, host: 'alpha.test:8080', target: '/x', expect: served('alpha', '/x', 'alpha.test:8080', { 'x-custom': 'alpha' }) },
  { name: 'host with a trailing dot', schemes: BOTH, host: 'alpha.test.', target: '/x', expect: served('alpha', '/x', 'alpha.test.', { 'x-custom': 'alpha' }) },
  { name: 'mixed case, trailing dot and port', schemes: BOTH, host: 'Alpha.Test.:443', target: '/x', expect: served('alpha', '/x', 'Alpha.Test.:443', { 'x-custom': 'alpha' }) },
  { name: 'RFC 9110 §15.5.5: a host no proxy serves → 404', schemes: HTTP, host: 'nobody.test', target: '/x', expect: notFound('nobody.test') },
  { name: 'RFC 9110 §15.5.5: a Host no proxy serves on a TLS connection for alpha.test → 404', schemes: ['https'], sni: 'alpha.test', host: 'nobody.test', target: '/x', expect: notFound('nobody.test') },
  // RFC 6125 §6.4.3: a wildcard covers exactly one label.
  { name: 'wildcard *.w.test serves a.w.test', schemes: BOTH, host: 'a.w.test', target: '/w', expect: served('wild', '/w', 'a.w.test') },
  { name: 'RFC 6125 §6.4.3: *.w.test does not serve a.b.w.test → 404', schemes: HTTP, host: 'a.b.w.test', target: '/w', expect: notFound('a.b.w.test') },
  { name: 'RFC 6125 §6.4.3: a.b.w.test on a TLS connection for a.w.test → 404', schemes: ['https'], sni: 'a.w.test', host: 'a.b.w.test', target: '/w', expect: notFound('a.b.w.test') },
  // RFC 9110 §15.5.20: on TLS the SNI chose the certificate, so another proxy's Host is misdirected.
  {
    name: 'RFC 9110 §15.5.20: TLS with SNI alpha.test, Host beta.test → 421',
    schemes: ['https'],
    sni: 'alpha.test',
    host: 'beta.test',
    target: '/x',
    expect: refused(421, 'misdirected_request', 'this connection serves alpha.test, not beta.test'),
  },
  { name: 'plain HTTP: Host beta.test (on the hand-over run, after carrier.test on the same connection) → beta', schemes: HTTP, host: 'beta.test', target: '/b', expect: served('beta', '/b', 'beta.test') },
  // RFC 9110 §15.4.9 (308 keeps method and body) and RFC 6797.
  {
    name: 'RFC 9110 §15.4.9: redirect_http_to_https → 308 to the HTTPS URL with path and query (HTTPS serves)',
    schemes: BOTH,
    host: 'redir.test',
    target: '/p/a?x=1&y=two',
    expect: {
      http: { status: 308, headers: { ...none, location: 'https://redir.test:{httpsPort}/p/a?x=1&y=two' } },
      https: served('alpha', '/p/a?x=1&y=two', 'redir.test'),
    },
  },
  {
    name: 'RFC 9110 §15.4.9: the redirect drops the HTTP port and case of the Host, and keeps POST',
    schemes: HTTP,
    host: 'REDIR.test:8080',
    method: 'POST',
    target: '/form?q=%20',
    expect: { status: 308, headers: { ...none, location: 'https://redir.test:{httpsPort}/form?q=%20' } },
  },
  {
    name: 'RFC 6797 §7.1/§7.2: Strict-Transport-Security over HTTPS only, custom response headers on both',
    schemes: BOTH,
    host: 'hsts.test',
    target: '/h',
    expect: { http: served('alpha', '/h', 'hsts.test', { 'x-custom': 'hsts' }), https: served('alpha', '/h', 'hsts.test', { 'x-custom': 'hsts', 'strict-transport-security': HSTS }) },
  },
  { name: 'a disabled proxy → 404', schemes: HTTP, host: 'off.test', target: '/x', expect: notFound('off.test') },
  { name: 'a proxy whose target is service://ext-one', schemes: BOTH, host: 'svc.test', target: '/s?q=1', expect: served('service', '/s?q=1', 'svc.test') },
  { name: 'a proxy whose service was force-deleted → 502', schemes: HTTP, host: 'svc-gone.test', target: '/s', expect: refused(502, 'bad_gateway', 'the target of svc-gone.test does not exist') },
  // Routes on routed.test (scope proxy); its own backend is "own".
  { name: 'route hit: prefix /api', schemes: BOTH, host: 'routed.test', target: '/api/v1?x=1', expect: served('api', '/api/v1?x=1', 'routed.test', { 'x-custom': 'routed' }) },
  { name: 'route hit: the prefix itself (/api)', schemes: HTTP, host: 'routed.test', target: '/api', expect: served('api', '/api', 'routed.test', { 'x-custom': 'routed' }) },
  { name: 'route miss: /apix is not below /api (segment boundary) → the proxy target', schemes: BOTH, host: 'routed.test', target: '/apix', expect: served('own', '/apix', 'routed.test', { 'x-custom': 'routed' }) },
  { name: 'route miss: no route matches → the proxy target', schemes: HTTP, host: 'routed.test', target: '/elsewhere?z', expect: served('own', '/elsewhere?z', 'routed.test', { 'x-custom': 'routed' }) },
  { name: 'regex route ^/re/[0-9]+ matches /re/42', schemes: HTTP, host: 'routed.test', target: '/re/42/x', expect: served('regex', '/re/42/x', 'routed.test', { 'x-custom': 'routed' }) },
  { name: 'regex route ^/re/[0-9]+ does not match /re/x', schemes: HTTP, host: 'routed.test', target: '/re/x', expect: served('own', '/re/x', 'routed.test', { 'x-custom': 'routed' }) },
  { name: 'method filter: POST /submit is routed', schemes: HTTP, host: 'routed.test', method: 'POST', target: '/submit', expect: served('post', '/submit', 'routed.test', { 'x-custom': 'routed' }, 'POST') },
  { name: 'method filter: GET /submit is not', schemes: HTTP, host: 'routed.test', target: '/submit', expect: served('own', '/submit', 'routed.test', { 'x-custom': 'routed' }) },
  { name: 'strip_prefix: /strip/deep/x?q=1 arrives as /deep/x?q=1', schemes: BOTH, host: 'routed.test', target: '/strip/deep/x?q=1', expect: served('strip', '/deep/x?q=1', 'routed.test', { 'x-custom': 'routed' }) },
  { name: 'strip_prefix: /strip itself arrives as /', schemes: HTTP, host: 'routed.test', target: '/strip', expect: served('strip', '/', 'routed.test', { 'x-custom': 'routed' }) },
  { name: 'route to an external service', schemes: HTTP, host: 'routed.test', target: '/ext/y', expect: served('service', '/ext/y', 'routed.test', { 'x-custom': 'routed' }) },
  { name: 'route to another proxy (target_type hostname)', schemes: HTTP, host: 'routed.test', target: '/other/z', expect: served('beta', '/other/z', 'routed.test', { 'x-custom': 'routed' }) },
  {
    name: 'a route whose service was force-deleted → 502',
    schemes: BOTH,
    host: 'routed.test',
    target: '/gone/x',
    expect: refused(502, 'bad_gateway', 'the target of route {route:gone} does not exist'),
  },
]

let edge: TestEdge
const backends: ReturnType<typeof Bun.serve>[] = []
const routeIds = new Map<string, string>()
const stats = () => edge.server.edge.stats()

/** A backend that answers with its tag and the request as it arrived, once it has read the body. */
function startTaggedEcho(tag: string): number {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url)
      // The body is read before the answer, so a body still on its way holds the exchange open.
      await request.arrayBuffer()
      return Response.json({ tag, method: request.method, target: `${url.pathname}${url.search}`, host: request.headers.get('host') ?? '' })
    },
  })
  backends.push(server)
  return server.port!
}

async function ok(response: Promise<Response>, status = 201): Promise<unknown> {
  const answered = await response
  if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status} ${await answered.text()}`)
  return status === 204 ? null : answered.json()
}

beforeAll(async () => {
  edge = await startTestEdge()
  const port = Object.fromEntries(['alpha', 'beta', 'wild', 'carrier', 'own', 'api', 'regex', 'post', 'strip', 'service'].map((tag) => [tag, startTaggedEcho(tag)]))
  const url = (tag: string) => `http://127.0.0.1:${port[tag]}`
  await ok(edge.api('POST', '/services/external', { service_name: 'ext-one', target_url: url('service') }))
  await ok(edge.api('POST', '/services/external', { service_name: 'ext-gone', target_url: url('service') }))
  await ok(edge.api('POST', '/services/external', { service_name: 'ext-gone-proxy', target_url: url('service') }))
  await edge.createProxy('carrier.test', url('carrier'))
  await edge.createProxy('alpha.test', url('alpha'), { custom_response_headers: { 'X-Custom': 'alpha' } })
  await edge.createProxy('beta.test', url('beta'))
  await edge.createProxy('*.w.test', url('wild'))
  await edge.createProxy('redir.test', url('alpha'), { redirect_http_to_https: true })
  await edge.createProxy('hsts.test', url('alpha'), { hsts_max_age: 600, custom_response_headers: { 'X-Custom': 'hsts' } })
  await edge.createProxy('off.test', url('alpha'), { enabled: false })
  await edge.createProxy('svc.test', 'service://ext-one')
  await edge.createProxy('svc-gone.test', 'service://ext-gone-proxy')
  await edge.createProxy('routed.test', url('own'), { custom_response_headers: { 'X-Custom': 'routed' } })
  const routes: [string, Record<string, unknown>][] = [
    ['api', { path_pattern: '/api', target_type: 'port', target_value: String(port.api) }],
    ['regex', { path_pattern: '^/re/[0-9]+', is_regex: true, target_type: 'url', target_value: url('regex') }],
    ['post', { path_pattern: '/submit', methods: ['POST'], target_type: 'url', target_value: url('post') }],
    ['strip', { path_pattern: '/strip', strip_prefix: true, target_type: 'port', target_value: String(port.strip) }],
    ['ext', { path_pattern: '/ext', target_type: 'service', target_value: 'ext-one' }],
    ['other', { path_pattern: '/other', target_type: 'hostname', target_value: 'beta.test' }],
    ['gone', { path_pattern: '/gone', target_type: 'service', target_value: 'ext-gone' }],
  ]
  for (const [name, route] of routes) {
    const created = (await ok(edge.api('POST', '/routes', { ...route, scope: 'proxy', proxy_hostnames: ['routed.test'] }))) as { route_id: string }
    routeIds.set(name, created.route_id)
  }
  await ok(edge.api('DELETE', '/services/external/ext-gone?force=true'), 204)
  await ok(edge.api('DELETE', '/services/external/ext-gone-proxy?force=true'), 204)
  // Events apply changes as they come; a reconcile makes sure every one of them is in the tables now.
  await edge.server.edge.reconcile()
})
afterAll(async () => {
  await edge.stop()
  for (const backend of backends) backend.stop(true)
})

/** The row's request line and head for one HTTP version. */
function requestOf(row: Row, version: '1.0' | '1.1'): string {
  const method = row.method ?? 'GET'
  const body = method === 'POST' ? 'Content-Length: 0\r\n' : ''
  return `${method} ${row.target} HTTP/${version}\r\nHost: ${row.host}\r\nAccept: application/json\r\n${body}\r\n`
}

const sniOf = (row: Row) => row.sni ?? row.host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '')

/**
 * A request the relay hands over and the hand-over server serves with the connection kept open
 * (absolute-form, RFC 9112 §3.2.2): on plain HTTP to carrier.test, on TLS to the SNI's own proxy.
 */
const carrierRequest = (scheme: Scheme, sni: string) => {
  const host = scheme === 'http' ? 'carrier.test' : sni
  return `GET ${scheme}://${host}/carrier HTTP/1.1\r\nHost: ${host}\r\n\r\n`
}

async function runRow(row: Row, scheme: Scheme, run: Run): Promise<Outcome> {
  const sni = sniOf(row)
  const client = await openClient(edge, scheme, sni)
  try {
    if (run === 'hand-over server (HTTP/1.0 after a hand-over)') {
      await waitFor(() => stats().handoffs === 0, { timeoutMs: 3_000, what: `earlier hand-overs to end (${JSON.stringify(stats())})` })
      const [carried] = await inTurnOn(client, [carrierRequest(scheme, sni)])
      expect(carried!.status).toBe(200)
      // The proof: this connection is now piped to a hand-over server (and no other one is).
      expect({ run, handoffs: stats().handoffs, isOpen: !client.isClosed() }).toEqual({ run, handoffs: 1, isOpen: true })
    }
    const [reply] = await inTurnOn(client, [requestOf(row, run === 'relay (HTTP/1.1)' ? '1.1' : '1.0')])
    // The relay keeps a served keep-alive connection itself: no hand-over happened.
    if (run === 'relay (HTTP/1.1)' && !client.isClosed()) expect({ run, handoffs: stats().handoffs }).toEqual({ run, handoffs: 0 })
    return outcomeOf(reply!)
  } finally {
    client.close()
  }
}

function outcomeOf(reply: RawReply): Outcome {
  const headers = Object.fromEntries(KEY_HEADERS.map((name) => [name, reply.headers[name] ?? null])) as Record<KeyHeader, string | null>
  if (reply.text === '') return { status: reply.status, headers }
  const body = JSON.parse(reply.text) as Record<string, string>
  if ('tag' in body) return { status: reply.status, backend: { tag: body.tag!, method: body.method!, target: body.target!, host: body.host! }, headers }
  return { status: reply.status, error: { error: body.error!, error_description: body.error_description! }, headers }
}

function expectedFor(row: Row, scheme: Scheme): Outcome {
  const outcome = 'status' in row.expect ? row.expect : (row.expect as Record<Scheme, Outcome>)[scheme]
  const text = JSON.stringify(outcome)
    .replaceAll('{httpsPort}', String(edge.httpsPort))
    .replace(/\{route:([a-z]+)\}/g, (_, name: string) => routeIds.get(name) ?? name)
  return JSON.parse(text) as Outcome
}

describe('the hand-over path is really taken', () => {
  test('an absolute-form request is handed over and its connection stays there (handoffs 1); an HTTP/1.1 one stays with the relay (handoffs 0)', async () => {
    const handed = await openClient(edge, 'http', 'carrier.test')
    const relayed = await openClient(edge, 'http', 'carrier.test')
    try {
      await inTurnOn(handed, [carrierRequest('http', 'carrier.test')])
      expect(stats()).toMatchObject({ handoffs: 1 })
      await inTurnOn(relayed, ['GET /relayed HTTP/1.1\r\nHost: carrier.test\r\n\r\n'])
      expect(stats()).toMatchObject({ connections: 2, handoffs: 1 })
    } finally {
      handed.close()
      relayed.close()
    }
  })

  test('HTTP/1.0 sent first on a connection is handed over too (its pending body keeps the pair open)', async () => {
    await waitFor(() => stats().handoffs === 0, { timeoutMs: 3_000, what: 'earlier hand-overs to end' })
    const client = await openClient(edge, 'http', 'alpha.test')
    try {
      client.write('POST /one-zero HTTP/1.0\r\nHost: alpha.test\r\nContent-Length: 4\r\n\r\n')
      await waitFor(() => stats().handoffs === 1, { timeoutMs: 3_000, what: 'the hand-off of the HTTP/1.0 connection' })
      client.write('body')
      await client.until((_, isClosed) => isClosed, 'the close after the HTTP/1.0 answer', 3_000)
      const [reply, ...rest] = readReplies(client.received(), ['POST'], true)
      expect(rest).toHaveLength(0)
      expect(outcomeOf(reply!)).toEqual(served('alpha', '/one-zero', 'alpha.test', { 'x-custom': 'alpha' }, 'POST'))
    } finally {
      client.close()
    }
  })
})

describe('one decision per request: every row, the same answer on every path', () => {
  for (const row of ROWS) {
    for (const scheme of row.schemes) {
      test(`${scheme}: ${row.name} (Host ${row.host}${scheme === 'https' ? `, SNI ${sniOf(row)}` : ''}, ${row.method ?? 'GET'} ${row.target})`, async () => {
        const expected = expectedFor(row, scheme)
        for (const run of RUNS) {
          const outcome = await runRow(row, scheme, run)
          expect({ run, ...outcome }).toEqual({ run, ...expected })
        }
      })
    }
  }
})
