/**
 * The edge's auth step under attack, from outside: what a client would try to get a token accepted
 * where it is not for (another audience through the Host's port, the scheme or the request target's
 * authority), to get a request classified under a weaker scope or an excluded path (case, dot segments,
 * percent-encoding), to slip a token past the header rules (scheme case, long tokens, the query) or into
 * the logs, and to wear the node down with a flood of distinct bad tokens (the verifier caches only
 * successes, so failures cannot push a good token out of its cache). Tests whose title starts with
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { base64url } from 'jose'
import { keys } from '../../src/store/index.ts'
import { openClient, readReplies, type RawReply } from '../fixtures/raw-backends.ts'
import { startLoggedTestEdge, tokenMinter, type LoggedTestEdge, type TokenMinter } from '../support/auth-tokens.ts'
import type { Scheme } from '../support/edge-clients.ts'

/** The server's clock stands still: a cached verification cannot age out while the flood runs, however slow the machine. */
const FROZEN_AT = Date.now()
const clock = { nowMs: () => FROZEN_AT }

let edge: LoggedTestEdge
let tokens: TokenMinter
let echo: ReturnType<typeof Bun.serve>
/** Requests the echo backend received: method, target as it arrived, and whether identity was set. */
const seen: { method: string; target: string; user: string | null; host: string }[] = []

const APP = 'app.test'
const OTHER = 'other.test'
const PASS_DEAD = 'dead.test'
const API = 'api.test'
const CORS = 'cors.test'
const MCP_ORIGIN = 'http://localhost:6274'

const bearer = (token: string) => `Authorization: Bearer ${token}\r\n`

async function ok(response: Promise<Response>, status = 200): Promise<void> {
  const answered = await response
  if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status} ${await answered.text()}`)
}

beforeAll(async () => {
  edge = await startLoggedTestEdge({}, clock)
  tokens = tokenMinter(edge.server.keyRing, edge.issuer, clock)
  echo = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url)
      await request.arrayBuffer()
      const target = request.url.slice(request.url.indexOf('/', url.protocol.length + 2))
      seen.push({ method: request.method, target, user: request.headers.get('x-auth-user'), host: request.headers.get('host') ?? '' })
      if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: { 'access-control-allow-origin': MCP_ORIGIN, 'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version', 'x-from': 'backend' } })
      return new Response(`echo ${target}`, { headers: { 'x-from': 'backend' } })
    },
  })
  const target = `http://127.0.0.1:${echo.port}`
  for (const host of [APP, OTHER, CORS]) await edge.createProxy(host, target)
  await edge.createProxy(PASS_DEAD, 'http://127.0.0.1:9')
  await edge.createProxy(API, edge.server.apiUrl)
  await ok(edge.api('PUT', `/proxy/targets/${APP}/auth`, { auth_enabled: true, auth_excluded_paths: ['/public'] }))
  await ok(edge.api('PUT', `/proxy/targets/${OTHER}/auth`, { auth_enabled: true }))
  await ok(edge.api('PUT', `/proxy/targets/${PASS_DEAD}/auth`, { auth_enabled: true, auth_mode: 'passthrough' }))
  await ok(edge.api('PUT', `/proxy/targets/${API}/auth`, { auth_enabled: true }))
  await ok(edge.api('PUT', `/proxy/targets/${CORS}/auth`, { auth_enabled: true, auth_allowed_origins: [MCP_ORIGIN] }))
  await edge.server.edge.reconcile()
})
afterAll(async () => {
  await edge.stop()
  echo.stop(true)
})

/** One raw request on a connection of its own (Connection: close); the reply and the request the backend got, if any. */
async function send(scheme: Scheme, sni: string, head: string, options: { method?: string; body?: string } = {}): Promise<{ reply: RawReply; reached: (typeof seen)[number] | null }> {
  const before = seen.length
  const client = await openClient(edge, scheme, sni)
  try {
    client.write(`${head}Connection: close\r\n\r\n${options.body ?? ''}`)
    await client.until((_, isClosed) => isClosed, 'the answer and the close')
    const [reply] = readReplies(client.received(), [options.method ?? head.slice(0, head.indexOf(' '))], true)
    return { reply: reply!, reached: seen.length > before ? seen.at(-1)! : null }
  } finally {
    client.close()
  }
}
const get = (target: string, host: string, lines = '', version = '1.1') => `GET ${target} HTTP/${version}\r\nHost: ${host}\r\n${lines}`
const errorOf = (reply: RawReply) => /error="([a-z_]+)"/.exec(reply.headers['www-authenticate'] ?? '')?.[1] ?? null
const scopeOf = (reply: RawReply) => /scope="([a-z ]+)"/.exec(reply.headers['www-authenticate'] ?? '')?.[1] ?? null

describe('another audience through the Host, the scheme or the authority (RFC 8707 §2, RFC 6454 §4)', () => {
  test('a token for http://app.test is refused with Host app.test:8080 (another origin), accepted with app.test:80 (the default port) and APP.TEST. (the same name)', async () => {
    const token = await tokens.valid('http://app.test')
    const other = await send('http', APP, get('/x', 'app.test:8080', bearer(token)))
    expect({ status: other.reply.status, error: errorOf(other.reply), reached: other.reached }).toEqual({ status: 401, error: 'invalid_token', reached: null })
    // The challenge names the origin the client used, port included (RFC 9728 §5.1).
    expect(other.reply.headers['www-authenticate']).toContain('resource_metadata="http://app.test:8080/.well-known/oauth-protected-resource"')
    expect((await send('http', APP, get('/x', 'app.test:80', bearer(token)))).reply.status).toBe(200)
    expect((await send('http', APP, get('/x', 'APP.TEST.', bearer(token)))).reply.status).toBe(200)
  })

  test('a token for http://app.test:8080 is refused with Host app.test; the port in the Host cannot widen one token to another origin', async () => {
    const token = await tokens.valid('http://app.test:8080')
    for (const host of ['app.test', 'app.test:80', 'app.test:']) {
      const { reply, reached } = await send('http', APP, get('/x', host, bearer(token)))
      expect({ host, status: reply.status, reached }).toEqual({ host, status: 401, reached: null })
    }
  })

  test('the scheme is the listener\'s, never the client\'s word: a token for https://app.test over plain HTTP (with X-Forwarded-Proto: https, Forwarded: proto=https or Host app.test:443) → 401', async () => {
    const token = await tokens.valid('https://app.test')
    for (const [host, lines] of [
      ['app.test', 'X-Forwarded-Proto: https\r\n'],
      ['app.test', 'Forwarded: proto=https;host=app.test\r\n'],
      ['app.test:443', ''],
    ] as const) {
      const { reply, reached } = await send('http', APP, get('/x', host, `${lines}${bearer(token)}`))
      expect({ host, lines, status: reply.status, reached }).toEqual({ host, lines, status: 401, reached: null })
    }
    // And the reverse: an http token over TLS.
    const httpToken = await tokens.valid('http://app.test')
    expect((await send('https', APP, get('/x', APP, bearer(httpToken)))).reply.status).toBe(401)
    expect((await send('https', APP, get('/x', APP, bearer(token)))).reply.status).toBe(200)
  })

  test('RFC 9110 §15.5.20: on TLS for app.test, a Host other.test with a token for other.test → 421; neither backend is reached', async () => {
    const token = await tokens.valid('https://other.test')
    const { reply, reached } = await send('https', APP, get('/x', OTHER, bearer(token)))
    expect({ status: reply.status, reached }).toEqual({ status: 421, reached: null })
  })

  test('RFC 9112 §3.2.2: an absolute-form target naming app.test with Host other.test and a token for other.test never reaches the backend as an app.test request authorized by it', async () => {
    const token = await tokens.valid('http://other.test')
    const { reply, reached } = await send('http', APP, `GET http://app.test/x HTTP/1.1\r\nHost: ${OTHER}\r\n${bearer(token)}`)
    // Either refused (the authority and Host disagree) or served as other.test, with other.test's token; never as app.test.
    if (reached) expect({ status: reply.status, host: reached.host }).toEqual({ status: 200, host: OTHER })
    else expect(reply.status).toBeGreaterThanOrEqual(400)
  })

  test('RFC 9112 §3.2: two Host fields → 400 before any auth', async () => {
    const token = await tokens.valid('http://app.test')
    const { reply, reached } = await send('http', APP, `GET /x HTTP/1.1\r\nHost: ${OTHER}\r\nHost: ${APP}\r\n${bearer(token)}`)
    expect({ status: reply.status, reached }).toEqual({ status: 400, reached: null })
  })
})

describe('path spellings against the scope rule and the excluded paths (RFC 3986 §5.2.4, §6.2.2)', () => {
  test('/mcp/../admin is /admin: an mcp-only token is refused (user needed), a user token is served and the backend gets /admin, never /mcp/..', async () => {
    const mcpOnly = await tokens.valid('http://app.test', { scopes: ['mcp'] })
    const userOnly = await tokens.valid('http://app.test', { scopes: ['user'] })
    const refused = await send('http', APP, get('/mcp/../admin', APP, bearer(mcpOnly)))
    expect({ status: refused.reply.status, scope: scopeOf(refused.reply), reached: refused.reached }).toEqual({ status: 403, scope: 'user', reached: null })
    const served = await send('http', APP, get('/mcp/../admin', APP, bearer(userOnly)))
    expect({ status: served.reply.status, target: served.reached?.target }).toEqual({ status: 200, target: '/admin' })
  })

  test('/x/../mcp, /x/%2e%2E/mcp and /%6Dcp are /mcp: a user-only token gets 403 insufficient_scope naming mcp', async () => {
    const userOnly = await tokens.valid('http://app.test', { scopes: ['user'] })
    for (const target of ['/x/../mcp', '/x/%2e%2E/mcp', '/%6Dcp', '/x/./../mcp/']) {
      const { reply, reached } = await send('http', APP, get(target, APP, bearer(userOnly)))
      expect({ target, status: reply.status, scope: scopeOf(reply), reached }).toEqual({ target, status: 403, scope: 'mcp', reached: null })
    }
  })

  test('/%2fmcp is not /mcp (RFC 3986 §2.2: %2F is data, not a separator): served for user, and the backend gets the escape as sent, not /mcp', async () => {
    const userOnly = await tokens.valid('http://app.test', { scopes: ['user'] })
    for (const target of ['/%2fmcp', '/%2Fmcp/x']) {
      const { reply, reached } = await send('http', APP, get(target, APP, bearer(userOnly)))
      expect({ target, status: reply.status, backendTarget: reached?.target }).toEqual({ target, status: 200, backendTarget: target })
    }
  })

  test('/MCP and /Mcp/messages need the mcp scope too — case-insensitive routers (Express by default, ASP.NET, IIS) serve them as /mcp', async () => {
    const userOnly = await tokens.valid('http://app.test', { scopes: ['user'] })
    for (const target of ['/MCP', '/Mcp/messages']) {
      const { reply, reached } = await send('http', APP, get(target, APP, bearer(userOnly)))
      expect({ target, status: reply.status, scope: scopeOf(reply), reached }).toEqual({ target, status: 403, scope: 'mcp', reached: null })
    }
  })

  test('an excluded path cannot be stepped out of with dot segments: /public/../admin, /public/%2e%2e/admin and /public/./../admin need a token', async () => {
    for (const target of ['/public/../admin', '/public/%2e%2e/admin', '/public/./../admin', '/public/..']) {
      const { reply, reached } = await send('http', APP, get(target, APP))
      expect({ target, status: reply.status, reached }).toEqual({ target, status: 401, reached: null })
    }
  })

  test('an excluded path is no exemption when %2F or %5C may hide a dot segment: /public/..%2fadmin and /public/..%5cadmin need a token — a backend that decodes %2F before resolving dot segments would serve /admin', async () => {
    for (const target of ['/public/..%2fadmin', '/public/..%2Fadmin', '/public/..%5cadmin']) {
      const { reply, reached } = await send('http', APP, get(target, APP))
      expect({ target, anonymousAtBackend: reached !== null && reached.user === null, status: reply.status === 200 ? 200 : 'refused' }).toEqual({ target, anonymousAtBackend: false, status: 'refused' })
    }
  })

  test('the proxy\'s auth covers every method spelling: a lower-case "get" is not GET (RFC 9110 §9.1: methods are case-sensitive) and needs admin', async () => {
    const userOnly = await tokens.valid('http://app.test', { scopes: ['user'] })
    const { reply, reached } = await send('http', APP, `get /x HTTP/1.1\r\nHost: ${APP}\r\n${bearer(userOnly)}`, { method: 'GET' })
    // Refused as a write (admin), or refused as malformed; never served on a user token.
    expect(reached).toBeNull()
    expect([400, 403, 405, 501]).toContain(reply.status)
  })
})

describe('the Authorization header and where else a token may hide (RFC 6750 §2)', () => {
  test('RFC 9110 §11.1: the scheme is case-insensitive — "bearer", "BEARER" and "Bearer  <token>" (1*SP) are accepted', async () => {
    const token = await tokens.valid('http://app.test')
    for (const scheme of ['bearer', 'BEARER', 'bEaReR', 'Bearer ']) {
      const { reply } = await send('http', APP, get('/x', APP, `Authorization: ${scheme} ${token}\r\n`))
      expect({ scheme, status: reply.status }).toEqual({ scheme, status: 200 })
    }
  })

  test('RFC 6750 §2.1: "Bearer<TAB>token", "Bearer" alone and "Bearer " alone → 400 invalid_request; the backend is not reached', async () => {
    const token = await tokens.valid('http://app.test')
    for (const value of [`Bearer\t${token}`, 'Bearer', 'Bearer   ', `Bearer ${token} extra`, `Bearer ${token},x`]) {
      const { reply, reached } = await send('http', APP, get('/x', APP, `Authorization: ${value}\r\n`))
      expect({ value: value.slice(0, 12), status: reply.status, error: errorOf(reply), reached }).toEqual({ value: value.slice(0, 12), status: 400, error: 'invalid_request', reached: null })
    }
  })

  test('Proxy-Authorization (hop-by-hop, RFC 9110 §11.7.2) and a Cookie are no places for a bearer token → 401 without an error code', async () => {
    const token = await tokens.valid('http://app.test')
    for (const lines of [`Proxy-Authorization: Bearer ${token}\r\n`, `Cookie: access_token=${token}\r\n`, `X-Access-Token: ${token}\r\n`]) {
      const { reply, reached } = await send('http', APP, get('/x', APP, lines))
      expect({ lines: lines.slice(0, 20), status: reply.status, error: errorOf(reply), reached }).toEqual({ lines: lines.slice(0, 20), status: 401, error: null, reached: null })
    }
  })

  test('a very long token: 12 KiB of garbage → 401 invalid_token, echoed nowhere in the answer; 64 KiB → 431 (the head is too large) and the edge keeps serving', async () => {
    const long = 'A'.repeat(12 * 1024)
    const { reply, reached } = await send('http', APP, get('/x', APP, bearer(long)))
    expect({ status: reply.status, error: errorOf(reply), reached }).toEqual({ status: 401, error: 'invalid_token', reached: null })
    expect(reply.head.includes('AAAAAAAAAAAAAAAA') || reply.text.includes('AAAAAAAAAAAAAAAA')).toBe(false)
    const huge = await send('http', APP, get('/x', APP, bearer('B'.repeat(64 * 1024))))
    expect({ status: huge.reply.status, reached: huge.reached }).toEqual({ status: 431, reached: null })
    // A well-formed JWT of about 8 KiB (a 3 KiB name, twice) signed by a foreign key costs one failed verification, nothing more.
    const padded = await tokens.foreignKeyUnknownKid('http://app.test', { username: 'x'.repeat(3 * 1024) })
    expect((await send('http', APP, get('/x', APP, bearer(padded)))).reply.status).toBe(401)
    expect((await send('http', APP, get('/x', APP, bearer(await tokens.valid('http://app.test'))))).reply.status).toBe(200)
  })

  test('RS-06 (RFC 6750 §2.3, OAuth 2.1 §5.1.1): ?access_token= → 401 on both paths, a passthrough proxy forwards the query only to its (dead) backend, and no log line at debug holds the token', async () => {
    const token = await tokens.valid('http://app.test')
    const passToken = await tokens.valid('http://dead.test')
    const signatures = [token, passToken].map((t) => t.split('.')[2]!)
    for (const version of ['1.1', '1.0']) {
      const { reply, reached } = await send('http', APP, get(`/x?access_token=${token}`, APP, '', version))
      expect({ version, status: reply.status, error: errorOf(reply), reached }).toEqual({ version, status: 401, error: null, reached: null })
      // A backend that cannot be reached makes the edge log the failure: the target and its query stay out of it.
      const dead = await send('http', PASS_DEAD, get(`/x?access_token=${passToken}`, PASS_DEAD, '', version))
      expect({ version, status: dead.reply.status }).toEqual({ version, status: 502 })
    }
    // The management API refuses a token in its query too.
    expect((await fetch(`${edge.server.apiUrl}/system/info?access_token=${edge.adminToken}`)).status).toBe(401)
    const lines = edge.logLines()
    expect(lines.some((line) => line.includes('"level":"debug"') || line.includes('"level":"info"'))).toBe(true)
    expect(lines.some((line) => line.includes('upstream failed'))).toBe(true)
    expect(lines.filter((line) => signatures.some((signature) => line.includes(signature)) || line.includes(edge.adminToken.split('.')[2]!))).toEqual([])
  })
})

describe('public paths of a proxy in front of the API (original §12.2: prefixes matched too much)', () => {
  test('the API\'s OAuth and discovery endpoints stay public on a protected proxy in front of it', async () => {
    for (const target of ['/.well-known/oauth-authorization-server', '/jwks', '/health']) {
      const { reply } = await send('http', API, get(target, API))
      expect({ target, status: reply.status }).toEqual({ target, status: 200 })
    }
  })

  test('original §12.2 regression (fixed at requirement.ts:100, API_PUBLIC_PATHS were matched with startsWith): /healthz, /tokens/x, /registered and /jwks.json are not /health, /token, /register, /jwks — they need a token at the edge', async () => {
    for (const target of ['/healthz', '/tokens/x', '/registered', '/jwks.json', '/revoked', '/callbackx']) {
      const { reply } = await send('http', API, get(target, API))
      expect({ target, status: reply.status, challenged: (reply.headers['www-authenticate'] ?? '').includes('resource_metadata="http://api.test/') }).toEqual({ target, status: 401, challenged: true })
    }
  })
})

describe('the resource a proxy in front of the API advertises (RFC 9728 §2, §3.3)', () => {
  test('a token for the resource the metadata of a proxy in front of the API advertises (the API\'s own, PUBLIC_URL) is accepted: a client that follows RFC 9728 gets in', async () => {
    const response = await fetch(`http://127.0.0.1:${edge.httpPort}/.well-known/oauth-protected-resource`, { headers: { host: API } })
    const { resource } = (await response.json()) as { resource: string }
    const token = await tokens.valid(resource, { scopes: ['admin'] })
    const { reply } = await send('http', API, get('/system/info', API, bearer(token)))
    expect({ resource, status: reply.status }).toEqual({ resource, status: 200 })
  })
})

describe('Origin and CORS preflight (MCP transport "DNS rebinding"; Fetch §3.2.2, §4.8)', () => {
  test('Origin null (a sandboxed page), another port or scheme of our own host, and upper case → 403 invalid_origin', async () => {
    const token = await tokens.valid('http://app.test')
    for (const origin of ['null', 'http://app.test:8080', 'https://app.test', 'HTTP://APP.TEST', 'http://app.test.evil.example']) {
      const { reply, reached } = await send('http', APP, get('/x', APP, `Origin: ${origin}\r\n${bearer(token)}`))
      expect({ origin, status: reply.status, reached }).toEqual({ origin, status: 403, reached: null })
    }
  })

  test('an allowed Origin (auth_allowed_origins) with a token is served', async () => {
    const token = await tokens.valid('http://cors.test', { scopes: ['mcp'] })
    const { reply, reached } = await send('http', CORS, `POST /mcp HTTP/1.1\r\nHost: ${CORS}\r\nOrigin: ${MCP_ORIGIN}\r\n${bearer(token)}Content-Length: 2\r\n`, { body: '{}' })
    expect({ status: reply.status, reached: reached?.method }).toEqual({ status: 200, reached: 'POST' })
  })

  test('a CORS preflight for /mcp from an allowed origin — which a browser sends without credentials (Fetch §4.8) — reaches the backend unchecked, so a browser-based MCP client can call the server', async () => {
    const { reply, reached } = await send(
      'http',
      CORS,
      `OPTIONS /mcp HTTP/1.1\r\nHost: ${CORS}\r\nOrigin: ${MCP_ORIGIN}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type, mcp-protocol-version\r\n`,
    )
    // An ok status is what the preflight needs (Fetch §4.8 step 7); the backend knows its own CORS policy.
    expect({ ok: reply.status >= 200 && reply.status < 300, reachedBackend: reached?.method ?? null }).toEqual({ ok: true, reachedBackend: 'OPTIONS' })
  })

  test('a preflight from an origin the Origin check refuses is refused (403 invalid_origin), and an OPTIONS without Access-Control-Request-Method is no preflight: it needs a token', async () => {
    const evil = await send('http', CORS, `OPTIONS /mcp HTTP/1.1\r\nHost: ${CORS}\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n`)
    expect({ status: evil.reply.status, reached: evil.reached }).toEqual({ status: 403, reached: null })
    const plain = await send('http', CORS, `OPTIONS /mcp HTTP/1.1\r\nHost: ${CORS}\r\nOrigin: ${MCP_ORIGIN}\r\n`)
    expect({ status: plain.reply.status, reached: plain.reached }).toEqual({ status: 401, reached: null })
  })
})

describe('a flood of distinct bad tokens (the verifier caches successes only)', () => {
  test('12,000 distinct failing tokens — garbage, forged signatures, foreign audiences, expired, and valid-but-revoked — are each refused with 401 and push no verified token out of the 10,000-entry cache', async () => {
    const audience = 'http://app.test'
    const jti = `flood-${crypto.randomUUID()}`
    const cached = await tokens.valid(audience, { jti })
    expect((await send('http', APP, get('/x', APP, bearer(cached)))).reply.status).toBe(200)
    // The jti goes on the denylist in the store only, without the token_revoked event: a fresh verification
    // of any token with that jti fails from now on, while the cached one passes for as long as it stays cached.
    await edge.server.store.put(keys.revokedAccessToken(jti), String(FROZEN_AT), { ttlMs: 3_600_000 })
    const sameJti = await tokens.valid(audience, { jti, username: 'alice2' })
    expect((await send('http', APP, get('/x', APP, bearer(sameJti)))).reply.status).toBe(401)
    expect((await send('http', APP, get('/x', APP, bearer(cached)))).reply.status).toBe(200)

    const [head, body] = (await tokens.valid(audience)).split('.') as [string, string]
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(body))) as Record<string, unknown>
    const signature = (await tokens.valid(audience)).split('.')[2]!
    const flood: string[] = []
    for (let i = 0; i < 3_000; i++) flood.push(base64url.encode(crypto.getRandomValues(new Uint8Array(30))))
    // The signature belongs to another payload: each costs the node a signature check.
    for (let i = 0; i < 3_000; i++) flood.push(`${head}.${base64url.encode(JSON.stringify({ ...payload, jti: `forged-${i}` }))}.${signature}`)
    const signed = await Promise.all([
      ...Array.from({ length: 2_000 }, (_, i) => tokens.valid(`http://elsewhere-${i}.test`)),
      ...Array.from({ length: 1_000 }, () => tokens.expired(audience)),
      // Signed by us for this very audience: only the denylist (a store read each time) refuses them.
      ...Array.from({ length: 3_000 }, (_, i) => tokens.valid(audience, { jti, username: `u${i}` })),
    ])
    flood.push(...signed)
    expect(new Set(flood).size).toBe(12_000)

    const statuses = new Map<number, number>()
    const lanes = 32
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let i = lane; i < flood.length; i += lanes) {
          const response = await fetch(`http://127.0.0.1:${edge.httpPort}/x`, { headers: { host: APP, authorization: `Bearer ${flood[i]}` } })
          await response.arrayBuffer()
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
        }
      }),
    )
    expect(Object.fromEntries(statuses)).toEqual({ 401: 12_000 })
    // Still cached: had any failure been remembered, 12,000 entries would have evicted it, and its fresh check would now fail.
    expect((await send('http', APP, get('/x', APP, bearer(cached)))).reply.status).toBe(200)
    expect((await send('http', APP, get('/x', APP, bearer(sameJti)))).reply.status).toBe(401)
    // And the node still verifies new tokens.
    expect((await send('http', APP, get('/x', APP, bearer(await tokens.valid(audience))))).reply.status).toBe(200)
  }, 120_000)
})
