/**
 * The edge as an OAuth resource server in front of MCP and other backends, from outside: the MCP
 * checklist RS-01…RS-12 (peers-and-specs §4.3), each its own test titled with its id and the RFC section
 * it proves, plus audience (RFC 8707), expiry and revocation (RFC 7009) at the edge. Real server, real
 * backends on loopback, tokens minted with the server's own key ring (test/support/auth-tokens.ts).
 * Requests carry the Host a real client sends (name and listener port), so the audience is the origin
 * with that port (RFC 6454 §4).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { edgeTokens, startLoggedTestEdge, type LoggedTestEdge, type TokenMinter } from '../support/auth-tokens.ts'
import { viaHttp, type Scheme } from '../support/edge-clients.ts'
import { openClient, readReplies } from '../fixtures/raw-backends.ts'
import { waitFor } from '../support/ports.ts'

let edge: LoggedTestEdge
let tokens: TokenMinter
const backends: ReturnType<typeof Bun.serve>[] = []

interface Seen {
  readonly method: string
  readonly target: string
  /** Lower-cased names, as the backend's runtime gives them. */
  readonly headers: Record<string, string>
}
/** What the echo backend received, in order. */
const seen: Seen[] = []

/** SSE streams the test feeds: each enqueue is an upstream flush. */
const sseStreams: ReadableStreamDefaultController<Uint8Array>[] = []

const MCP = 'mcp.localhost'
const APP = 'app.localhost'
const OTHER = 'other.localhost'
const NO_ORIGIN_CHECK = 'origin-off.localhost'
const SSE = 'sse.localhost'
const PROXIES = [MCP, APP, OTHER, NO_ORIGIN_CHECK, SSE]

const portOf = (scheme: Scheme) => (scheme === 'http' ? edge.httpPort : edge.httpsPort)
/** The Host a client sends for this name on this listener. */
const hostOf = (scheme: Scheme, name: string) => `${name}:${portOf(scheme)}`
/** The origin that client uses: the audience its tokens must name (RFC 8707 §2, RFC 6454 §4). */
const originOf = (scheme: Scheme, name: string) => `${scheme}://${name}:${portOf(scheme)}`
/**
 * The resource its tokens are for (RFC 8707 §2): the origin plus the proxy's resource_endpoint, exactly
 * what its metadata advertises (mcp.localhost has /mcp, the others the default "/").
 */
const resourceOf = (scheme: Scheme, name: string) => (name === MCP ? `${originOf(scheme, name)}/mcp` : originOf(scheme, name))
const metadataUrlOf = (scheme: Scheme, name: string, suffix = '') => `${originOf(scheme, name)}/.well-known/oauth-protected-resource${suffix}`
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** One request with this name's Host (port included) on a connection of its own; on TLS, the name as SNI. */
function request(scheme: Scheme, name: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${scheme}://127.0.0.1:${portOf(scheme)}${path}`, {
    ...init,
    keepalive: false,
    headers: { ...Object.fromEntries(new Headers(init.headers)), host: hostOf(scheme, name), connection: 'close' },
    ...(scheme === 'https' ? { tls: { rejectUnauthorized: false, serverName: name } } : {}),
  } as RequestInit)
}

/** RFC 9110 §11.6.1 auth-params of a Bearer challenge, by name (quoted-string values unquoted). */
function challengeParams(header: string | null): Record<string, string> {
  expect(header).toStartWith('Bearer ')
  const params: Record<string, string> = {}
  for (const match of header!.slice('Bearer '.length).matchAll(/([a-z_]+)="([^"]*)"/g)) params[match[1]!] = match[2]!
  return params
}

async function ok(response: Promise<Response>, status = 200): Promise<void> {
  const answered = await response
  if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status} ${await answered.text()}`)
}

beforeAll(async () => {
  edge = await startLoggedTestEdge()
  tokens = edgeTokens(edge, edge.issuer)
  const echo = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url)
      await req.arrayBuffer()
      seen.push({ method: req.method, target: `${url.pathname}${url.search}`, headers: Object.fromEntries(req.headers) })
      // MCP Streamable HTTP: the server names the session and the protocol version in its answer.
      return Response.json({ tag: 'echo', target: `${url.pathname}${url.search}` }, { headers: { 'mcp-session-id': 'session-from-backend', 'mcp-protocol-version': '2025-11-25' } })
    },
  })
  const sse = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    fetch() {
      const body = new ReadableStream<Uint8Array>({ start: (controller) => void sseStreams.push(controller) })
      return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'mcp-session-id': 'sse-session' } })
    },
  })
  backends.push(echo, sse)
  for (const name of PROXIES) await edge.createProxy(name, `http://127.0.0.1:${name === SSE ? sse.port : echo.port}`)
  for (const name of PROXIES) await ok(edge.api('PUT', `/proxy/targets/${name}/auth`, { auth_enabled: true, ...(name === NO_ORIGIN_CHECK ? { auth_origin_check: 'off' } : {}) }))
  await ok(edge.api('PUT', `/proxy/targets/${MCP}/resource`, { resource_endpoint: '/mcp', resource_scopes: ['mcp'] }))
  await edge.server.edge.reconcile()
})
afterAll(async () => {
  for (const controller of sseStreams) {
    try {
      controller.close()
    } catch {
      // Already closed by its test.
    }
  }
  await edge.stop()
  for (const backend of backends) backend.stop(true)
})

describe('MCP resource server checklist (peers-and-specs §4.3)', () => {
  for (const scheme of ['http', 'https'] as Scheme[]) {
    test(`RS-01 (RFC 6750 §3, RFC 9728 §5.1) ${scheme}: unauthenticated POST and GET /mcp → 401 with an absolute, path-suffixed resource_metadata URL and the scope, without an error code`, async () => {
      for (const method of ['POST', 'GET']) {
        const before = seen.length
        const response = await request(scheme, MCP, '/mcp', { method, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, ...(method === 'POST' ? { body: '{"jsonrpc":"2.0","id":1,"method":"initialize"}' } : {}) })
        expect({ method, status: response.status }).toEqual({ method, status: 401 })
        // RFC 6750 §3.1: a request without credentials gets no error code; RFC 9728 §5.1: the metadata URL is absolute.
        expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrlOf(scheme, MCP, '/mcp')}", scope="mcp"`)
        // A browser-based client (the Inspector) must be able to read the challenge cross-origin.
        expect(response.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate')
        expect(await response.json()).toMatchObject({ error: 'unauthorized' })
        expect(seen.length).toBe(before)
      }
    })
  }

  test('RS-02 (RFC 9728 §3.1, §3.2): both the path-suffixed and the bare metadata URL → 200 JSON with resource, authorization_servers, bearer_methods_supported ["header"] and scopes_supported without offline_access', async () => {
    for (const [name, path] of [
      [MCP, '/.well-known/oauth-protected-resource/mcp'],
      [MCP, '/.well-known/oauth-protected-resource'],
      [APP, '/.well-known/oauth-protected-resource'],
    ] as const) {
      const response = await request('http', name, path)
      expect({ path, status: response.status }).toEqual({ path, status: 200 })
      expect(response.headers.get('content-type')).toStartWith('application/json')
      const document = (await response.json()) as Record<string, unknown>
      expect(typeof document.resource).toBe('string')
      expect(document.authorization_servers).toEqual([edge.issuer])
      expect(document.bearer_methods_supported).toEqual(['header'])
      expect(Array.isArray(document.scopes_supported) && document.scopes_supported.length > 0).toBe(true)
      expect(document.scopes_supported).not.toContain('offline_access')
    }
    expect(((await (await request('http', MCP, '/.well-known/oauth-protected-resource/mcp')).json()) as { scopes_supported: string[] }).scopes_supported).toEqual(['mcp'])
    expect(((await (await request('http', APP, '/.well-known/oauth-protected-resource')).json()) as { scopes_supported: string[] }).scopes_supported).toEqual(['admin', 'user', 'mcp'])
  })

  test('RS-03 (RFC 9728 §3.3, RFC 8707 §2): resource is the canonical URI the client used — exact form <origin>/mcp with resource_endpoint /mcp, prefix form <origin> by default; scheme and host lower-cased', async () => {
    for (const scheme of ['http', 'https'] as Scheme[]) {
      // Exact form: the challenge points at the suffixed URL, and the document there names exactly <origin>/mcp.
      const challenge = challengeParams((await request(scheme, MCP, '/mcp', { method: 'POST' })).headers.get('www-authenticate'))
      expect(challenge.resource_metadata).toBe(metadataUrlOf(scheme, MCP, '/mcp'))
      const exact = (await (await request(scheme, MCP, '/.well-known/oauth-protected-resource/mcp')).json()) as { resource: string }
      expect(exact.resource).toBe(`${originOf(scheme, MCP)}/mcp`)
      // §3.3: the resource is the URL the metadata was fetched from, with the well-known part taken out.
      expect(challenge.resource_metadata!.replace('/.well-known/oauth-protected-resource', '')).toBe(exact.resource)
      // RFC 8707 §2: tokens are for exactly that resource; one for the bare origin is for another resource.
      expect((await request(scheme, MCP, '/mcp', { method: 'POST', headers: bearer(await tokens.valid(exact.resource, { scopes: ['mcp'] })), body: '{}' })).status).toBe(200)
      const bare = await request(scheme, MCP, '/mcp', { method: 'POST', headers: bearer(await tokens.valid(originOf(scheme, MCP), { scopes: ['mcp'] })), body: '{}' })
      expect({ status: bare.status, error: challengeParams(bare.headers.get('www-authenticate')).error }).toEqual({ status: 401, error: 'invalid_token' })

      // Prefix form: resource_endpoint "/" makes the origin the resource; an MCP SDK accepts it for <origin>/mcp (checkResourceAllowed).
      const prefixChallenge = challengeParams((await request(scheme, APP, '/mcp', { method: 'POST' })).headers.get('www-authenticate'))
      expect(prefixChallenge.resource_metadata).toBe(metadataUrlOf(scheme, APP))
      const prefix = (await (await request(scheme, APP, '/.well-known/oauth-protected-resource')).json()) as { resource: string }
      expect(prefix.resource).toBe(originOf(scheme, APP))
      // A token for the origin serves every path of it, /mcp included.
      expect((await request(scheme, APP, '/mcp', { method: 'POST', headers: bearer(await tokens.valid(prefix.resource, { scopes: ['mcp'] })), body: '{}' })).status).toBe(200)
    }
    // The same setting through PUT /proxy/targets/{h} (the proxy's own record) moves the challenge URL and the resource alike.
    await ok(edge.api('PUT', `/proxy/targets/${OTHER}`, { resource_endpoint: '/mcp' }))
    await edge.server.edge.reconcile()
    try {
      const moved = challengeParams((await request('http', OTHER, '/mcp', { method: 'POST' })).headers.get('www-authenticate'))
      expect(moved.resource_metadata).toBe(metadataUrlOf('http', OTHER, '/mcp'))
      expect(((await (await request('http', OTHER, '/.well-known/oauth-protected-resource/mcp')).json()) as { resource: string }).resource).toBe(`${originOf('http', OTHER)}/mcp`)
    } finally {
      await ok(edge.api('PUT', `/proxy/targets/${OTHER}`, { resource_endpoint: '/' }))
      await edge.server.edge.reconcile()
    }
    // RFC 3986 §6.2.2.1: a Host sent in upper case still yields the lower-case canonical URI.
    const shouted = await viaHttp(edge, `MCP.LOCALHOST:${edge.httpPort}`, '/.well-known/oauth-protected-resource/mcp')
    expect(((await shouted.json()) as { resource: string }).resource).toBe(`${originOf('http', MCP)}/mcp`)
    const shoutedChallenge = (await viaHttp(edge, `MCP.LOCALHOST:${edge.httpPort}`, '/mcp', { method: 'POST' })).headers.get('www-authenticate')
    expect(challengeParams(shoutedChallenge).resource_metadata).toBe(metadataUrlOf('http', MCP, '/mcp'))
  })

  test('RS-04 (RFC 8707 §2, RFC 9068 §4): a token for proxy A is refused at proxy B with 401 invalid_token; the same token at A → 200', async () => {
    for (const scheme of ['http', 'https'] as Scheme[]) {
      const forApp = await tokens.valid(originOf(scheme, APP))
      const atOther = await request(scheme, OTHER, '/x', { headers: bearer(forApp) })
      expect(atOther.status).toBe(401)
      expect(challengeParams(atOther.headers.get('www-authenticate'))).toMatchObject({ error: 'invalid_token', resource_metadata: metadataUrlOf(scheme, OTHER) })
      expect((await request(scheme, APP, '/x', { headers: bearer(forApp) })).status).toBe(200)
    }
    // The scheme is part of the origin: a token for http://app is no token for https://app, and the reverse.
    const httpToken = await tokens.valid(originOf('http', APP))
    const httpsToken = await tokens.valid(originOf('https', APP))
    expect((await request('https', APP, '/x', { headers: bearer(httpToken) })).status).toBe(401)
    expect((await request('http', APP, '/x', { headers: bearer(httpsToken) })).status).toBe(401)
    // The management API's own tokens are for the API, not for a proxy.
    expect((await request('http', APP, '/x', { headers: bearer(edge.adminToken) })).status).toBe(401)
  })

  test('RS-05 (RFC 6750 §3.1, RFC 9068 §4): expired, tampered, ID-token-like (typ JWT), foreign-issuer, foreign-key, alg none and HS256-confusion tokens → 401 invalid_token; the backend never sees them', async () => {
    const audience = originOf('http', APP)
    const variants: [string, string][] = [
      ['expired', await tokens.expired(audience)],
      ['tampered signature', await tokens.tamperedSignature(audience)],
      ['tampered payload (scopes and user rewritten)', await tokens.tamperedPayload(audience)],
      ['typ JWT (an ID token, RFC 9068 §4 step 1)', await tokens.wrongTyp(audience)],
      ['another issuer (RFC 9068 §4 step 2)', await tokens.otherIssuer(audience)],
      ['a foreign key claiming our kid', await tokens.foreignKeyOurKid(audience)],
      ['a foreign key under an unknown kid', await tokens.foreignKeyUnknownKid(audience)],
      ['alg none (RFC 7519 §6)', await tokens.algNone(audience)],
      ['HS256 keyed with our public key', await tokens.algConfusion(audience)],
      ['not a JWT at all', 'abc.def.ghi'],
    ]
    const before = seen.length
    for (const [what, token] of variants) {
      const response = await request('http', APP, '/x', { headers: bearer(token) })
      expect({ what, status: response.status }).toEqual({ what, status: 401 })
      expect({ what, error: challengeParams(response.headers.get('www-authenticate')).error }).toEqual({ what, error: 'invalid_token' })
      expect({ what, body: await response.json() }).toEqual({ what, body: { error: 'invalid_token', error_description: expect.any(String) } })
    }
    expect(seen.length).toBe(before)
    // The control: the same minter's valid token passes.
    expect((await request('http', APP, '/x', { headers: bearer(await tokens.valid(audience)) })).status).toBe(200)
  })

  test('RS-06 (RFC 6750 §2.3, OAuth 2.1 §5.1.1): ?access_token= and a form-body access_token are not accepted (401, no error code: no credentials were sent), and no log line holds the token', async () => {
    const token = await tokens.valid(originOf('http', APP))
    const before = seen.length
    const inQuery = await request('http', APP, `/x?access_token=${token}`)
    expect(inQuery.status).toBe(401)
    expect(challengeParams(inQuery.headers.get('www-authenticate')).error).toBeUndefined()
    const inBody = await request('http', APP, '/x', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${token}` })
    expect(inBody.status).toBe(401)
    // On the hand-over server too (HTTP/1.0 is read there).
    const client = await openClient(edge, 'http', APP)
    client.write(`GET /x?access_token=${token} HTTP/1.0\r\nHost: ${hostOf('http', APP)}\r\n\r\n`)
    await client.until((_, isClosed) => isClosed, 'the HTTP/1.0 answer')
    expect(readReplies(client.received(), ['GET'], true)[0]!.status).toBe(401)
    // And on the management API itself.
    expect((await fetch(`${edge.server.apiUrl}/system/info?access_token=${edge.adminToken}`)).status).toBe(401)
    expect(seen.length).toBe(before)
    // The capture works (the server's start-up line is in it), so an empty list below means something.
    expect(edge.logLines().some((line) => line.includes('"msg":"serving"'))).toBe(true)
    const signature = token.split('.')[2]!
    const leaking = edge.logLines().filter((line) => line.includes(signature) || line.includes(edge.adminToken.split('.')[2]!))
    expect(leaking).toEqual([])
  })

  test('RS-07 (RFC 6750 §3.1): a valid token without the required scope → 403 with error="insufficient_scope", every required scope and the metadata URL', async () => {
    for (const scheme of ['http', 'https'] as Scheme[]) {
      const userOnly = await tokens.valid(resourceOf(scheme, MCP), { scopes: ['user'] })
      const response = await request(scheme, MCP, '/mcp', { method: 'POST', headers: bearer(userOnly), body: '{}' })
      expect(response.status).toBe(403)
      const params = challengeParams(response.headers.get('www-authenticate'))
      expect(params).toMatchObject({ error: 'insufficient_scope', scope: 'mcp', resource_metadata: metadataUrlOf(scheme, MCP, '/mcp') })
      expect(((await response.json()) as { error: string }).error).toBe('insufficient_scope')
      // A write outside /mcp needs admin (the scope rule); user is not enough, mcp neither.
      const mcpOnly = await tokens.valid(originOf(scheme, APP), { scopes: ['mcp'] })
      const write = await request(scheme, APP, '/items', { method: 'PUT', headers: bearer(mcpOnly), body: '{}' })
      expect(write.status).toBe(403)
      expect(challengeParams(write.headers.get('www-authenticate'))).toMatchObject({ error: 'insufficient_scope', scope: 'admin' })
      // admin implies every scope.
      const admin = await tokens.valid(resourceOf(scheme, MCP), { scopes: ['admin'] })
      expect((await request(scheme, MCP, '/mcp', { method: 'POST', headers: bearer(admin), body: '{}' })).status).toBe(200)
    }
  })

  test('RS-08 (MCP security best practices "token passthrough"): the client\'s Authorization header is not forwarded to the backend; identity arrives in X-Auth-* only', async () => {
    for (const scheme of ['http', 'https'] as Scheme[]) {
      const token = await tokens.valid(resourceOf(scheme, MCP), { scopes: ['mcp'], username: 'alice', email: 'alice@example.com', clientId: 'client-8' })
      const response = await request(scheme, MCP, '/mcp', { method: 'POST', headers: bearer(token), body: '{}' })
      expect(response.status).toBe(200)
      const arrived = seen.at(-1)!
      expect(arrived.headers.authorization).toBeUndefined()
      expect(Object.values(arrived.headers).some((value) => value.includes(token.split('.')[2]!))).toBe(false)
      expect(arrived.headers).toMatchObject({ 'x-auth-user': 'alice', 'x-auth-user-id': 'local:alice', 'x-auth-email': 'alice@example.com', 'x-auth-scopes': 'mcp', 'x-auth-client-id': 'client-8' })
    }
  })

  test('RS-09 (RFC 9728 §3, Fetch CORS): OPTIONS preflight on the proxy\'s metadata allows any origin, the Authorization, Content-Type and MCP-Protocol-Version headers and exposes WWW-Authenticate', async () => {
    for (const scheme of ['http', 'https'] as Scheme[]) {
      for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
        const response = await request(scheme, MCP, path, {
          method: 'OPTIONS',
          headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' },
        })
        expect({ scheme, path, status: response.status }).toEqual({ scheme, path, status: 204 })
        expect(response.headers.get('access-control-allow-origin')).toBe('*')
        const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/)
        expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'mcp-protocol-version']))
        expect(response.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate')
        expect(response.headers.get('access-control-allow-credentials')).toBeNull()
      }
    }
  })

  test('RS-09 (RFC 8414 §3, RFC 7591 §3, RFC 7009 §2, OAuth 2.1 §3.2; RFC 9700 §2.6 for /authorize): the authorization server\'s preflights on the API allow cross-origin calls, /authorize has no CORS', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/register', '/token', '/revoke']) {
      const response = await fetch(`${edge.server.apiUrl}${path}`, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:6274', 'access-control-request-method': path.startsWith('/.well-known') ? 'GET' : 'POST', 'access-control-request-headers': 'content-type, mcp-protocol-version' },
      })
      expect({ path, status: response.status }).toEqual({ path, status: 204 })
      expect({ path, origin: response.headers.get('access-control-allow-origin') }).toEqual({ path, origin: '*' })
      const allowed = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/)
      expect({ path, allowed }).toEqual({ path, allowed: expect.arrayContaining(['authorization', 'content-type', 'mcp-protocol-version']) })
      expect({ path, exposed: response.headers.get('access-control-expose-headers') }).toEqual({ path, exposed: 'WWW-Authenticate' })
    }
    // The actual GET of the AS metadata is readable cross-origin too.
    const metadata = await fetch(`${edge.server.apiUrl}/.well-known/oauth-authorization-server`, { headers: { origin: 'http://localhost:6274' } })
    expect(metadata.headers.get('access-control-allow-origin')).toBe('*')
    for (const method of ['OPTIONS', 'GET']) {
      const authorize = await fetch(`${edge.server.apiUrl}/authorize`, { method, redirect: 'manual', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'GET' } })
      expect({ method, origin: authorize.headers.get('access-control-allow-origin') }).toEqual({ method, origin: null })
      await authorize.body?.cancel()
    }
  })

  test('RS-10 (MCP transport "DNS rebinding", RFC 6454 §7.3): Origin https://evil.example on /mcp → 403 even with a valid token; the own origin and a proxy with the check off pass it to the backend unchanged', async () => {
    const token = await tokens.valid(resourceOf('http', MCP), { scopes: ['mcp'] })
    const before = seen.length
    const evil = await request('http', MCP, '/mcp', { method: 'POST', headers: { ...bearer(token), origin: 'https://evil.example' }, body: '{}' })
    expect(evil.status).toBe(403)
    expect(((await evil.json()) as { error: string }).error).toBe('invalid_origin')
    // Without a token the Origin is refused first: no challenge invites a rebound page to fetch a token.
    expect((await request('http', MCP, '/mcp', { method: 'POST', headers: { origin: 'https://evil.example' }, body: '{}' })).status).toBe(403)
    expect(seen.length).toBe(before)
    const own = await request('http', MCP, '/mcp', { method: 'POST', headers: { ...bearer(token), origin: originOf('http', MCP) }, body: '{}' })
    expect(own.status).toBe(200)
    expect(seen.at(-1)!.headers.origin).toBe(originOf('http', MCP))
    // Enforcement delegated to the backend: the Origin reaches it as sent.
    const delegated = await request('http', NO_ORIGIN_CHECK, '/mcp', { method: 'POST', headers: { ...bearer(await tokens.valid(originOf('http', NO_ORIGIN_CHECK), { scopes: ['mcp'] })), origin: 'https://evil.example' }, body: '{}' })
    expect(delegated.status).toBe(200)
    expect(seen.at(-1)!.headers.origin).toBe('https://evil.example')
  })

  test('RS-11 (MCP Streamable HTTP §"Session Management", RFC 9110 §5): MCP headers pass through unchanged both ways on the relay and the hand-over server', async () => {
    const token = await tokens.valid(resourceOf('http', MCP), { scopes: ['mcp'] })
    const sent = {
      'mcp-session-id': 'abc-123_XYZ',
      'mcp-protocol-version': '2025-11-25',
      'last-event-id': 'evt-41',
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
      'mcp-param-city': 'Zurich',
    }
    const response = await request('http', MCP, '/mcp', { method: 'POST', headers: { ...bearer(token), ...sent, 'content-type': 'application/json' }, body: '{}' })
    expect(response.status).toBe(200)
    expect(seen.at(-1)!.headers).toMatchObject(sent)
    expect(response.headers.get('mcp-session-id')).toBe('session-from-backend')
    expect(response.headers.get('mcp-protocol-version')).toBe('2025-11-25')
    // The hand-over server (HTTP/1.0) passes them the same way.
    const client = await openClient(edge, 'http', MCP)
    const fields = Object.entries(sent).map(([name, value]) => `${name}: ${value}\r\n`).join('')
    client.write(`POST /mcp HTTP/1.0\r\nHost: ${hostOf('http', MCP)}\r\nAuthorization: Bearer ${token}\r\n${fields}Content-Length: 2\r\n\r\n{}`)
    await client.until((_, isClosed) => isClosed, 'the HTTP/1.0 answer')
    const [reply] = readReplies(client.received(), ['POST'], true)
    expect(reply!.status).toBe(200)
    expect(reply!.headers['mcp-session-id']).toBe('session-from-backend')
    expect(seen.at(-1)!.headers).toMatchObject(sent)
  })

  for (const scheme of ['http', 'https'] as Scheme[]) {
    test(`RS-11 (WHATWG HTML §9.2, RFC 9110 §8.4) ${scheme}: an authorized text/event-stream response is streamed unbuffered — each event within 50 ms of the backend's flush — with no content-encoding added`, async () => {
      const token = await tokens.valid(originOf(scheme, SSE), { scopes: ['mcp'] })
      const streamsBefore = sseStreams.length
      const pending = request(scheme, SSE, '/mcp', { headers: { ...bearer(token), accept: 'text/event-stream', 'accept-encoding': 'gzip, br', 'mcp-session-id': 'sse-session' } })
      await waitFor(() => sseStreams.length === streamsBefore + 1, { what: 'the backend to open the stream' })
      const stream = sseStreams.at(-1)!
      const encoder = new TextEncoder()
      const flushedAt = performance.now()
      stream.enqueue(encoder.encode('id: 1\ndata: first\n\n'))
      const response = await pending
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/event-stream')
      expect(response.headers.get('content-encoding')).toBeNull()
      expect(response.headers.get('content-length')).toBeNull()
      expect(response.headers.get('mcp-session-id')).toBe('sse-session')
      const reader = response.body!.getReader()
      const decoder = new TextDecoder()
      let text = ''
      const readUntil = async (wanted: string) => {
        while (!text.includes(wanted)) {
          const { done, value } = await reader.read()
          if (done) throw new Error(`stream ended before ${wanted}: ${text}`)
          text += decoder.decode(value, { stream: true })
        }
        return performance.now()
      }
      const firstAt = await readUntil('data: first\n\n')
      expect(firstAt - flushedAt).toBeLessThan(50)
      for (const n of [2, 3]) {
        const at = performance.now()
        stream.enqueue(encoder.encode(`id: ${n}\ndata: event ${n}\n\n`))
        expect((await readUntil(`data: event ${n}\n\n`)) - at).toBeLessThan(50)
      }
      expect(text).toBe('id: 1\ndata: first\n\nid: 2\ndata: event 2\n\nid: 3\ndata: event 3\n\n')
      stream.close()
      expect((await reader.read()).done).toBe(true)
    })
  }

  test('RS-12 (MCP authorization §"Token Handling", RFC 6750 §3.1): every request is authorized — an Mcp-Session-Id from an authorized exchange does not admit a request without a valid token', async () => {
    const token = await tokens.valid(resourceOf('http', MCP), { scopes: ['mcp'] })
    const first = await request('http', MCP, '/mcp', { method: 'POST', headers: { ...bearer(token), 'mcp-session-id': 'live-session' }, body: '{}' })
    expect(first.status).toBe(200)
    const sessionId = first.headers.get('mcp-session-id')!
    const before = seen.length
    for (const [what, headers] of [
      ['no token', {}],
      ['an invalid token', bearer('not.a.token')],
      ['a token for another proxy', bearer(await tokens.valid(originOf('http', OTHER), { scopes: ['mcp'] }))],
      ['an expired token', bearer(await tokens.expired(resourceOf('http', MCP), { scopes: ['mcp'] }))],
    ] as const) {
      for (const id of [sessionId, 'live-session']) {
        const response = await request('http', MCP, '/mcp', { method: 'POST', headers: { ...headers, 'mcp-session-id': id }, body: '{}' })
        expect({ what, id, status: response.status }).toEqual({ what, id, status: 401 })
      }
    }
    expect(seen.length).toBe(before)
  })
})

describe('audience, expiry and revocation at the edge', () => {
  test('RFC 7009 §2: a token revoked through the API\'s /revoke is refused at the edge at once, although the edge had it cached', async () => {
    const registered = await fetch(`${edge.server.apiUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none', client_name: 'revoker' }),
    })
    expect(registered.status).toBe(201)
    const clientId = ((await registered.json()) as { client_id: string }).client_id
    const token = await tokens.valid(originOf('http', APP), { clientId })
    const other = await tokens.valid(originOf('http', APP), { clientId })
    expect((await request('http', APP, '/x', { headers: bearer(token) })).status).toBe(200)
    expect((await request('http', APP, '/x', { headers: bearer(token) })).status).toBe(200)
    const revoked = await fetch(`${edge.server.apiUrl}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: clientId }) })
    expect(revoked.status).toBe(200)
    const response = await request('http', APP, '/x', { headers: bearer(token) })
    expect(response.status).toBe(401)
    expect(challengeParams(response.headers.get('www-authenticate')).error).toBe('invalid_token')
    // Only that token: another of the same client still works.
    expect((await request('http', APP, '/x', { headers: bearer(other) })).status).toBe(200)
  })

  test('RFC 6750 §3.1: a token that expires while cached is refused once its exp has passed (the cache lives no longer than the token)', async () => {
    const token = await tokens.valid(originOf('http', APP), { ttlSec: 2 })
    expect((await request('http', APP, '/x', { headers: bearer(token) })).status).toBe(200)
    await waitFor(async () => (await request('http', APP, '/x', { headers: bearer(token) })).status === 401, { timeoutMs: 5_000, intervalMs: 200, what: 'the cached token to expire' })
  })
})
