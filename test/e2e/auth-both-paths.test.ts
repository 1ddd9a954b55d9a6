/**
 * DESIGN §1 for the auth step: one decision per request, whichever path serves it. Every row of the
 * table runs on the relay (HTTP/1.1), on the hand-over server (HTTP/1.0 on a connection already handed
 * over by an absolute-form request, RFC 9112 §3.2.2, checked through edge.stats().handoffs) and as
 * HTTP/1.0 sent first on its connection, over plain HTTP and TLS, and must get the same status, the
 * same challenge (RFC 6750 §3, RFC 9728 §5.1), the same error body and the same request at the
 * backend (identity set by us, credentials taken out).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { inTurnOn, openClient, type RawReply } from '../fixtures/raw-backends.ts'
import { edgeTokens, type TokenMinter } from '../support/auth-tokens.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import type { Scheme } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'

/** The request fields the backend reports: the ones the auth step removes, adds or must leave alone. */
const OBSERVED = ['authorization', 'x-auth-user', 'x-auth-user-id', 'x-auth-email', 'x-auth-scopes', 'x-auth-client-id', 'origin', 'cookie'] as const

interface Outcome {
  readonly status: number
  readonly challenge: string | null
  readonly allowOrigin: string | null
  /** The edge's own JSON answer (error, or the metadata's resource). */
  readonly answer?: Record<string, unknown>
  /** The request as the backend got it. */
  readonly backend?: { readonly tag: string; readonly target: string; readonly headers: Partial<Record<(typeof OBSERVED)[number], string>> }
}

/** What a row sends, given the scheme (tokens are per origin). */
type Fields = (scheme: Scheme) => Promise<readonly (readonly [string, string])[]>

interface Row {
  readonly name: string
  readonly host: string
  readonly method?: 'GET' | 'POST' | 'OPTIONS'
  readonly target: string
  readonly fields: Fields
  /** `{origin}` is the row's origin (scheme://host). */
  readonly expect: Outcome
  /** The relay does not take this head itself (it hands it over): no handoffs check on its run. */
  readonly relayHandsOver?: boolean
}

type Run = 'relay (HTTP/1.1)' | 'hand-over server (HTTP/1.0 after a hand-over)' | 'HTTP/1.0 first on its connection'
const RUNS: readonly Run[] = ['relay (HTTP/1.1)', 'hand-over server (HTTP/1.0 after a hand-over)', 'HTTP/1.0 first on its connection']

let edge: TestEdge
let tokens: TokenMinter
const backends: ReturnType<typeof Bun.serve>[] = []
const stats = () => edge.server.edge.stats()

const APP = 'app.test'
const PASS = 'pass.test'
const OPEN = 'open.test'
const CARRIER = 'carrier.test'

const originOf = (scheme: Scheme, host: string) => `${scheme}://${host}`
const token = (host: string, scopes: ('admin' | 'user' | 'mcp')[] = ['user']) => async (scheme: Scheme) => [['Authorization', `Bearer ${await tokens.valid(originOf(scheme, host), { scopes })}`]] as const
const none: Fields = async () => []
const fixed = (...fields: (readonly [string, string])[]): Fields => async () => fields

const ALICE = (scopes: string) => ({ 'x-auth-user': 'alice', 'x-auth-user-id': 'local:alice', 'x-auth-email': 'alice@example.com', 'x-auth-scopes': scopes, 'x-auth-client-id': 'auth-e2e' })
const served = (tag: string, target: string, headers: Outcome['backend'] extends infer B ? (B extends { headers: infer H } ? H : never) : never = {}): Outcome => ({
  status: 200,
  challenge: null,
  allowOrigin: null,
  backend: { tag, target, headers },
})
const METADATA = '/.well-known/oauth-protected-resource'
const challenged = (status: number, error: string | null, description: string, scope: string): Outcome => ({
  status,
  challenge: `Bearer resource_metadata="{origin}${METADATA}", ${error ? `error="${error}", error_description="${description}", ` : ''}scope="${scope}"`,
  allowOrigin: '*',
  answer: { error: error ?? 'unauthorized', error_description: description },
})
const INVALID = 'the access token is invalid, expired or not for this resource'
const forbidden = (error: string, description: string): Outcome => ({ status: 403, challenge: null, allowOrigin: '*', answer: { error, error_description: description } })

const ROWS: readonly Row[] = [
  { name: 'RFC 6750 §3.1: no token → 401, challenge without an error code', host: APP, target: '/x', fields: none, expect: challenged(401, null, 'an access token is required', 'user') },
  { name: 'RFC 6750 §3.1: a bad token → 401 invalid_token', host: APP, target: '/x', fields: fixed(['Authorization', 'Bearer abc.def.ghi']), expect: challenged(401, 'invalid_token', INVALID, 'user') },
  { name: 'RFC 6750 §3.1: another scheme (Basic) is no bearer token → 401 without an error code', host: APP, target: '/x', fields: fixed(['Authorization', 'Basic YWxpY2U6c2VjcmV0']), expect: challenged(401, null, 'an access token is required', 'user') },
  { name: 'a good token → served with our identity, without Authorization', host: APP, target: '/x?q=1', fields: token(APP), expect: served('echo', '/x?q=1', ALICE('user')) },
  {
    name: 'RFC 6750 §3.1: insufficient scope (POST needs admin) → 403 insufficient_scope',
    host: APP,
    method: 'POST',
    target: '/x',
    fields: token(APP),
    expect: challenged(403, 'insufficient_scope', 'this request needs the admin scope', 'admin'),
  },
  { name: 'an excluded path without a token → served anonymously', host: APP, target: '/public/page', fields: none, expect: served('echo', '/public/page') },
  { name: 'an excluded path with a token → served anonymously, the token not forwarded', host: APP, target: '/public/page', fields: token(APP), expect: served('echo', '/public/page') },
  { name: 'an excluded prefix is whole segments: /publication is protected', host: APP, target: '/publication', fields: none, expect: challenged(401, null, 'an access token is required', 'user') },
  {
    name: 'a route adding a scope (/admin-only needs admin besides the rule\'s user) → 403 naming both',
    host: APP,
    target: '/admin-only/x',
    fields: token(APP),
    expect: challenged(403, 'insufficient_scope', 'this request needs the user and admin scope', 'user admin'),
  },
  { name: 'a route adding a scope, with an admin token → served', host: APP, target: '/admin-only/x', fields: token(APP, ['admin']), expect: served('echo', '/admin-only/x', ALICE('admin')) },
  { name: 'a route overriding the proxy\'s auth (/override needs mcp only) with an mcp token → served', host: APP, target: '/override/x', fields: token(APP, ['mcp']), expect: served('echo', '/override/x', ALICE('mcp')) },
  { name: 'a route overriding the proxy\'s auth with a user token → 403 naming mcp alone', host: APP, target: '/override/x', fields: token(APP), expect: challenged(403, 'insufficient_scope', 'this request needs the mcp scope', 'mcp') },
  { name: 'passthrough, anonymous → served without identity', host: PASS, target: '/p', fields: none, expect: served('echo', '/p') },
  { name: 'passthrough with a good token → served with identity', host: PASS, target: '/p', fields: token(PASS), expect: served('echo', '/p', ALICE('user')) },
  { name: 'passthrough with a bad token → served anonymously, the bad token not forwarded', host: PASS, target: '/p', fields: fixed(['Authorization', 'Bearer abc.def.ghi']), expect: served('echo', '/p') },
  { name: 'auth off, a route asking for user: no token → 401', host: OPEN, target: '/guarded/x', fields: none, expect: challenged(401, null, 'an access token is required', 'user') },
  { name: 'auth off, a route asking for user, with a token → served with identity', host: OPEN, target: '/guarded/x', fields: token(OPEN), expect: served('echo', '/guarded/x', ALICE('user')) },
  {
    name: 'auth off elsewhere: the request goes as it came, Authorization included (the backend may do its own)',
    host: OPEN,
    target: '/free',
    fields: fixed(['Authorization', 'Bearer for-the-backend']),
    expect: served('echo', '/free', { authorization: 'Bearer for-the-backend' }),
  },
  {
    name: 'MCP transport (DNS rebinding): Origin https://evil.example → 403 invalid_origin, even with a good token',
    host: APP,
    target: '/x',
    fields: async (scheme) => [...(await token(APP)(scheme)), ['Origin', 'https://evil.example']],
    expect: forbidden('invalid_origin', 'requests from https://evil.example are not allowed here'),
  },
  { name: 'the own Origin passes, and reaches the backend', host: APP, target: '/x', fields: async (scheme) => [...(await token(APP)(scheme)), ['Origin', originOf(scheme, APP)]], expect: served('echo', '/x', { ...ALICE('user'), origin: '{origin}' }) },
  { name: 'RFC 9728 §3.1: GET metadata → 200, resource = origin', host: APP, target: METADATA, fields: none, expect: { status: 200, challenge: null, allowOrigin: '*', answer: { resource: '{origin}' } } },
  {
    name: 'RFC 9728 §3.1: OPTIONS metadata (CORS preflight) → 204',
    host: APP,
    method: 'OPTIONS',
    target: METADATA,
    fields: fixed(['Origin', 'http://localhost:6274'], ['Access-Control-Request-Method', 'GET']),
    expect: { status: 204, challenge: null, allowOrigin: '*' },
  },
  {
    name: 'RFC 6750 §2.1: "Bearer a b" is malformed → 400 invalid_request',
    host: APP,
    target: '/x',
    fields: fixed(['Authorization', 'Bearer a b']),
    expect: challenged(400, 'invalid_request', 'the Authorization header is not a valid Bearer credential', 'user'),
  },
  {
    name: 'RFC 9110 §5.3: two Authorization fields (good and bad) cannot be read one way → 400 invalid_request',
    host: APP,
    target: '/x',
    fields: async (scheme) => [...(await token(APP)(scheme)), ['Authorization', 'Bearer abc.def.ghi']],
    expect: challenged(400, 'invalid_request', 'the Authorization header is not a valid Bearer credential', 'user'),
    relayHandsOver: true,
  },
  {
    name: 'RFC 9110 §5.3: two Authorization fields, both good → still 400 (one credential per request)',
    host: APP,
    target: '/x',
    fields: async (scheme) => [...(await token(APP)(scheme)), ...(await token(APP)(scheme))],
    expect: challenged(400, 'invalid_request', 'the Authorization header is not a valid Bearer credential', 'user'),
    relayHandsOver: true,
  },
]

async function ok(response: Promise<Response>, status = 200): Promise<unknown> {
  const answered = await response
  if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status} ${await answered.text()}`)
  return answered.json()
}

beforeAll(async () => {
  edge = await startTestEdge()
  tokens = edgeTokens(edge)
  const echo = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url)
      await request.arrayBuffer()
      const headers = Object.fromEntries(OBSERVED.filter((name) => request.headers.has(name)).map((name) => [name, request.headers.get(name)!]))
      return Response.json({ tag: 'echo', target: `${url.pathname}${url.search}`, headers })
    },
  })
  backends.push(echo)
  const target = `http://127.0.0.1:${echo.port}`
  await edge.createProxy(CARRIER, target)
  for (const host of [APP, PASS, OPEN]) await edge.createProxy(host, target)
  await ok(edge.api('PUT', `/proxy/targets/${APP}/auth`, { auth_enabled: true, auth_excluded_paths: ['/public'] }))
  await ok(edge.api('PUT', `/proxy/targets/${PASS}/auth`, { auth_enabled: true, auth_mode: 'passthrough' }))
  const routes: Record<string, unknown>[] = [
    { path_pattern: '/admin-only', target_type: 'url', target_value: target, proxy_hostnames: [APP], auth: { required_scopes: ['admin'] } },
    { path_pattern: '/override', target_type: 'url', target_value: target, proxy_hostnames: [APP], auth: { required_scopes: ['mcp'], override_proxy_auth: true } },
    { path_pattern: '/guarded', target_type: 'url', target_value: target, proxy_hostnames: [OPEN], auth: { required_scopes: ['user'] } },
  ]
  for (const route of routes) await ok(edge.api('POST', '/routes', { ...route, scope: 'proxy' }), 201)
  await edge.server.edge.reconcile()
})
afterAll(async () => {
  await edge.stop()
  for (const backend of backends) backend.stop(true)
})

function requestOf(row: Row, fields: readonly (readonly [string, string])[], version: '1.0' | '1.1'): string {
  const method = row.method ?? 'GET'
  const body = method === 'POST' ? 'Content-Length: 0\r\n' : ''
  const lines = fields.map(([name, value]) => `${name}: ${value}\r\n`).join('')
  // A connection the relay hands over stays piped after its answer; Connection: close lets the hand-over
  // server end it at once (a client's close would keep the pair half-open for a linger, edge/connection.ts).
  const close = version === '1.1' && row.relayHandsOver ? 'Connection: close\r\n' : ''
  return `${method} ${row.target} HTTP/${version}\r\nHost: ${row.host}\r\nAccept: application/json\r\n${lines}${body}${close}\r\n`
}

/**
 * A request the relay hands over and the hand-over server serves with the connection kept open
 * (absolute-form): on plain HTTP to carrier.test, on TLS to the row's own proxy (its excluded path, so
 * no token is needed).
 */
function carrierRequest(scheme: Scheme, host: string): string {
  const carrierHost = scheme === 'http' ? CARRIER : host
  return `GET ${scheme}://${carrierHost}/public/carrier HTTP/1.1\r\nHost: ${carrierHost}\r\n\r\n`
}

async function runRow(row: Row, scheme: Scheme, run: Run): Promise<Outcome> {
  const fields = await row.fields(scheme)
  const client = await openClient(edge, scheme, row.host)
  try {
    if (run === 'hand-over server (HTTP/1.0 after a hand-over)') {
      await waitFor(() => stats().handoffs === 0, { timeoutMs: 3_000, what: `earlier hand-overs to end (${JSON.stringify(stats())})` })
      const [carried] = await inTurnOn(client, [carrierRequest(scheme, row.host)])
      expect({ run, carrier: carried!.status }).toEqual({ run, carrier: 200 })
      expect({ run, handoffs: stats().handoffs, isOpen: !client.isClosed() }).toEqual({ run, handoffs: 1, isOpen: true })
    }
    const [reply] = await inTurnOn(client, [requestOf(row, fields, run === 'relay (HTTP/1.1)' ? '1.1' : '1.0')])
    // The relay answered (or forwarded) it itself: no hand-over happened.
    if (run === 'relay (HTTP/1.1)' && !row.relayHandsOver && !client.isClosed()) expect({ run, handoffs: stats().handoffs }).toEqual({ run, handoffs: 0 })
    return outcomeOf(reply!)
  } finally {
    client.close()
  }
}

function outcomeOf(reply: RawReply): Outcome {
  const base = { status: reply.status, challenge: reply.headers['www-authenticate'] ?? null, allowOrigin: reply.headers['access-control-allow-origin'] ?? null }
  if (reply.text === '') return base
  const body = JSON.parse(reply.text) as Record<string, unknown>
  if (body.tag) return { ...base, backend: body as unknown as Outcome['backend'] }
  if ('resource' in body) return { ...base, answer: { resource: body.resource } }
  return { ...base, answer: { error: body.error, error_description: body.error_description } }
}

function expectedFor(row: Row, scheme: Scheme): Outcome {
  return JSON.parse(JSON.stringify(row.expect).replaceAll('{origin}', originOf(scheme, row.host))) as Outcome
}

describe('the auth step: every row, the same answer on every path', () => {
  for (const row of ROWS) {
    for (const scheme of ['http', 'https'] as Scheme[]) {
      test(`${scheme}: ${row.name} (Host ${row.host}, ${row.method ?? 'GET'} ${row.target})`, async () => {
        const expected = expectedFor(row, scheme)
        for (const run of RUNS) {
          const outcome = await runRow(row, scheme, run)
          expect({ run, ...outcome }).toEqual({ run, ...expected })
        }
      })
    }
  }
})
