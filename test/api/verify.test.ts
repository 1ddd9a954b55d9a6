/**
 * /verify, forward auth (original-behaviour §4.7): the edge's own answer for the request a trusted
 * proxy describes with X-Forwarded-*: 200 with X-Auth-*, or the 401 challenge (RFC 6750 §3, RFC 9728
 * §5.1), 403 insufficient_scope, 404 for an unknown host, 400 naming a malformed header. From a caller
 * outside FORWARD_AUTH_TRUSTED those headers are not believed, and identity headers never are.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { systemClock } from '../../src/lib/index.ts'
import { issueAccessToken, type Scope } from '../../src/oauth/index.ts'
import { viaHttp } from '../support/edge-clients.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

const APP = 'app.example.com'
const OPEN = 'open.example.com'
const SECURE = 'secure.example.com'

let trusted: TestEdge
let untrusted: TestEdge

beforeAll(async () => {
  // The tests call from 127.0.0.1: inside the first list, outside the second.
  ;[trusted, untrusted] = await Promise.all([startTestEdge({ FORWARD_AUTH_TRUSTED: '127.0.0.0/8' }), startTestEdge({ FORWARD_AUTH_TRUSTED: '10.0.0.0/8, ::1' })])
  for (const edge of [trusted, untrusted]) {
    await edge.createProxy(APP, 'http://127.0.0.1:9')
    const auth = await edge.api('PUT', `/proxy/targets/${APP}/auth`, { auth_enabled: true, auth_excluded_paths: ['/public'] })
    expect(auth.status).toBe(200)
    await edge.createProxy(OPEN, 'http://127.0.0.1:9')
    await edge.createProxy(SECURE, 'http://127.0.0.1:9', { redirect_http_to_https: true })
  }
})
afterAll(async () => {
  await Promise.all([trusted?.stop(), untrusted?.stop()])
})

/** A token as the authorization server would issue it for `audience` (RFC 8707: exactly one resource). */
function tokenFor(edge: TestEdge, audience: string, scopes: Scope[], username = 'alice'): Promise<string> {
  return issueAccessToken(edge.server.keyRing, systemClock, {
    // With API_PORT=0 the issuer is PUBLIC_URL's default, http://127.0.0.1:0 (as test/support/edge.ts mints).
    issuer: 'http://127.0.0.1:0',
    audience,
    subject: 'github:1001',
    username,
    email: `${username}@example.com`,
    scopes,
    clientId: 'forward-auth-test',
    ttlSec: 600,
  })
}

/** GET /verify describing a request for `host` (X-Forwarded-Host) with the other forwarded headers given. */
function verify(edge: TestEdge, headers: Record<string, string>, init: { method?: string; query?: string } = {}): Promise<Response> {
  return fetch(`${edge.server.apiUrl}/verify${init.query ?? ''}`, { method: init.method ?? 'GET', headers, redirect: 'manual' })
}

const forwarded = (host: string, uri = '/', extra: Record<string, string> = {}) => ({ 'x-forwarded-host': host, 'x-forwarded-proto': 'https', 'x-forwarded-uri': uri, ...extra })
const identityOf = (response: Response) => Object.fromEntries([...response.headers].filter(([name]) => name.startsWith('x-auth-')))

describe('a trusted caller (FORWARD_AUTH_TRUSTED)', () => {
  test('no token: 401 with the Bearer challenge for the forwarded origin (RFC 6750 §3, RFC 9728 §5.1), no identity', async () => {
    const response = await verify(trusted, forwarded(APP, '/reports?q=1'))
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="https://${APP}/.well-known/oauth-protected-resource", scope="user"`)
    expect(identityOf(response)).toEqual({})
  })

  test('a good token: 200 with the identity headers and no body', async () => {
    const response = await verify(trusted, { ...forwarded(APP, '/reports'), authorization: `Bearer ${await tokenFor(trusted, `https://${APP}`, ['user'])}` })
    expect(response.status).toBe(200)
    expect(identityOf(response)).toEqual({
      'x-auth-user': 'alice',
      'x-auth-user-id': 'github:1001',
      'x-auth-email': 'alice@example.com',
      'x-auth-scopes': 'user',
      'x-auth-client-id': 'forward-auth-test',
    })
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.text()).toBe('')
  })

  test('HEAD and POST /verify answer the same', async () => {
    const headers = { ...forwarded(APP, '/reports', { 'x-forwarded-method': 'GET' }), authorization: `Bearer ${await tokenFor(trusted, `https://${APP}`, ['user'])}` }
    for (const method of ['HEAD', 'POST']) {
      const response = await verify(trusted, headers, { method })
      expect(response.status).toBe(200)
      expect(response.headers.get('x-auth-user')).toBe('alice')
    }
  })

  test('wrong scope: 403 insufficient_scope naming the scope needed (RFC 6750 §3.1)', async () => {
    const mcpOnly = await tokenFor(trusted, `https://${APP}`, ['mcp'])
    const response = await verify(trusted, { ...forwarded(APP, '/reports'), authorization: `Bearer ${mcpOnly}` })
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    expect(identityOf(response)).toEqual({})
  })

  test('X-Forwarded-Method decides the scope: a write needs admin, so a read token gets 403', async () => {
    const headers = { ...forwarded(APP, '/reports', { 'x-forwarded-method': 'POST' }), authorization: `Bearer ${await tokenFor(trusted, `https://${APP}`, ['user'])}` }
    const response = await verify(trusted, headers)
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toContain('scope="admin"')
    const admin = await verify(trusted, { ...headers, authorization: `Bearer ${await tokenFor(trusted, `https://${APP}`, ['admin'])}` })
    expect(admin.status).toBe(200)
  })

  test('a token for another resource is refused (RFC 8707 §2: the audience is the forwarded origin)', async () => {
    const other = await tokenFor(trusted, 'https://other.example.com', ['admin'])
    const response = await verify(trusted, { ...forwarded(APP, '/reports'), authorization: `Bearer ${other}` })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  test('X-Forwarded-Proto picks the origin: http://app is another resource than https://app', async () => {
    const httpsToken = await tokenFor(trusted, `https://${APP}`, ['user'])
    const overHttp = { ...forwarded(APP, '/reports'), 'x-forwarded-proto': 'http' }
    expect((await verify(trusted, { ...overHttp, authorization: `Bearer ${httpsToken}` })).status).toBe(401)
    const httpToken = await tokenFor(trusted, `http://${APP}`, ['user'])
    expect((await verify(trusted, { ...overHttp, authorization: `Bearer ${httpToken}` })).status).toBe(200)
  })

  test('identity headers from the caller are never read (original-behaviour §4.6)', async () => {
    const forged = { 'x-auth-user': 'root', 'x-auth-scopes': 'admin', 'x-auth-user-id': 'github:1' }
    const anonymous = await verify(trusted, { ...forwarded(APP, '/reports'), ...forged })
    expect(anonymous.status).toBe(401)
    expect(identityOf(anonymous)).toEqual({})
    const signed = await verify(trusted, { ...forwarded(APP, '/reports'), ...forged, authorization: `Bearer ${await tokenFor(trusted, `https://${APP}`, ['user'])}` })
    expect(signed.status).toBe(200)
    expect(identityOf(signed)).toMatchObject({ 'x-auth-user': 'alice', 'x-auth-scopes': 'user', 'x-auth-user-id': 'github:1001' })
  })

  test('an unknown host: 404 (no proxy serves it)', async () => {
    const response = await verify(trusted, forwarded('nobody.example.com', '/'))
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: string }).error).toBe('not_found')
  })

  test('an excluded path passes without a token and without identity; nginx X-Original-URI names it too', async () => {
    const viaUri = await verify(trusted, forwarded(APP, '/public/logo.png'))
    expect(viaUri.status).toBe(200)
    expect(identityOf(viaUri)).toEqual({})
    const viaOriginal = await verify(trusted, { 'x-forwarded-host': APP, 'x-original-uri': '/public/logo.png' })
    expect(viaOriginal.status).toBe(200)
  })

  test('dot segments are resolved as the edge resolves them: /public/../reports is /reports (RFC 3986 §5.2.4)', async () => {
    for (const uri of ['/public/../reports', '/public/%2e%2e/reports', '/public\\..\\reports']) {
      const response = await verify(trusted, forwarded(APP, uri))
      expect(response.status).toBe(401)
    }
  })

  test('a proxy without auth: 200 without identity', async () => {
    const response = await verify(trusted, forwarded(OPEN, '/anything', { 'x-forwarded-method': 'DELETE' }))
    expect(response.status).toBe(200)
    expect(identityOf(response)).toEqual({})
  })

  test('the answer is the edge\'s own for the same request (one decision, DESIGN §1)', async () => {
    const host = `${APP}:${trusted.httpPort}`
    const mcpOnly = await tokenFor(trusted, `http://${host}`, ['mcp'])
    for (const authorization of [null, 'Bearer not.a.token', `Bearer ${mcpOnly}`]) {
      const credentials: Record<string, string> = authorization === null ? {} : { authorization }
      const edgeAnswer = await viaHttp(trusted, host, '/reports', { headers: credentials })
      const verifyAnswer = await verify(trusted, { ...forwarded(host, '/reports', { 'x-forwarded-proto': 'http' }), ...credentials })
      expect(verifyAnswer.status).toBeGreaterThanOrEqual(400)
      expect(verifyAnswer.status).toBe(edgeAnswer.status)
      expect(verifyAnswer.headers.get('www-authenticate')).toBe(edgeAnswer.headers.get('www-authenticate'))
      expect(await verifyAnswer.text()).toBe(await edgeAnswer.text())
    }
  })

  test('an HTTP request to a proxy that redirects to HTTPS: 308, or with redirect_status=401 a 401 keeping the Location (nginx)', async () => {
    const headers = { ...forwarded(SECURE, '/page?x=1'), 'x-forwarded-proto': 'http' }
    const redirect = await verify(trusted, headers)
    expect(redirect.status).toBe(308)
    const location = redirect.headers.get('location')
    expect(location).toStartWith(`https://${SECURE}`)
    expect(location).toEndWith('/page?x=1')
    const asNginx = await verify(trusted, headers, { query: '?redirect_status=401' })
    expect(asNginx.status).toBe(401)
    expect(asNginx.headers.get('location')).toBe(location)
    // RFC 9110 §15.5.2: a 401 always carries a challenge.
    expect(asNginx.headers.get('www-authenticate')).toBe('Bearer')
    // A challenge stays what it was.
    const challenge = await verify(trusted, forwarded(APP, '/reports'), { query: '?redirect_status=401' })
    expect(challenge.status).toBe(401)
    expect(challenge.headers.get('www-authenticate')).toContain('resource_metadata=')
    expect(challenge.headers.has('location')).toBe(false)
  })

  describe('a malformed header: 400 naming it', () => {
    const cases: [string, Record<string, string>, string][] = [
      ['X-Forwarded-Proto', forwarded(APP, '/', { 'x-forwarded-proto': 'ftp' }), 'header X-Forwarded-Proto: expected http or https'],
      ['X-Forwarded-Host with a path', forwarded(`${APP}/admin`, '/'), 'header X-Forwarded-Host: expected one host[:port]'],
      ['X-Forwarded-Host with two hosts', forwarded(`${APP}, evil.example.com`, '/'), 'header X-Forwarded-Host: expected one host[:port]'],
      ['X-Forwarded-Uri not in origin-form', forwarded(APP, 'https://evil.example.com/'), 'header X-Forwarded-Uri: expected a path and query starting with /'],
      ['X-Original-URI not in origin-form', { 'x-forwarded-host': APP, 'x-original-uri': 'reports' }, 'header X-Original-URI: expected a path and query starting with /'],
      ['X-Forwarded-Uri and X-Original-URI disagreeing', forwarded(APP, '/public/x', { 'x-original-uri': '/reports' }), 'header X-Forwarded-Uri: differs from X-Original-URI; send one of them'],
      ['X-Forwarded-Method', forwarded(APP, '/', { 'x-forwarded-method': 'GET /' }), 'header X-Forwarded-Method: expected an HTTP method'],
    ]
    for (const [name, headers, description] of cases) {
      test(name, async () => {
        const response = await verify(trusted, headers)
        expect(response.status).toBe(400)
        expect(await response.json()).toEqual({ error: 'invalid_request', error_description: description })
      })
    }

    test('redirect_status other than 302 or 401', async () => {
      const response = await verify(trusted, forwarded(APP, '/'), { query: '?redirect_status=303' })
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error_description: string }).error_description).toStartWith('query parameter redirect_status: expected 302 or 401')
    })

    test('a Bearer credential that is not one (RFC 6750 §3.1 invalid_request)', async () => {
      const response = await verify(trusted, { ...forwarded(APP, '/reports'), authorization: 'Bearer two words' })
      expect(response.status).toBe(400)
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_request"')
    })
  })
})

describe('a caller outside FORWARD_AUTH_TRUSTED', () => {
  test('a spoofed X-Forwarded-Host is ignored: the request to /verify itself is checked (its Host has no proxy: 404)', async () => {
    const token = await tokenFor(untrusted, `https://${APP}`, ['admin'])
    const response = await verify(untrusted, { 'x-forwarded-host': APP, 'x-forwarded-proto': 'https', authorization: `Bearer ${token}` })
    expect(response.status).toBe(404)
    expect(identityOf(response)).toEqual({})
    // The same headers from a trusted caller are believed.
    const believed = await verify(trusted, { 'x-forwarded-host': APP, 'x-forwarded-proto': 'https', authorization: `Bearer ${await tokenFor(trusted, `https://${APP}`, ['admin'])}` })
    expect(believed.status).toBe(200)
  })

  test('its own Host is what is checked: Host app.example.com asks about GET /verify on that proxy', async () => {
    const anonymous = await fetch(`${untrusted.server.apiUrl}/verify`, { headers: { host: APP, 'x-forwarded-host': OPEN } })
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="https://${APP}/.well-known/oauth-protected-resource", scope="user"`)
    const token = await tokenFor(untrusted, `https://${APP}`, ['user'])
    const signed = await fetch(`${untrusted.server.apiUrl}/verify`, { headers: { host: APP, 'x-auth-user': 'root', authorization: `Bearer ${token}` } })
    expect(signed.status).toBe(200)
    expect(signed.headers.get('x-auth-user')).toBe('alice')
  })

  test('a URI or a method it names is refused, not swapped for /verify: 403 naming the header and the setting', async () => {
    const token = await tokenFor(untrusted, `https://${APP}`, ['user'])
    for (const [header, value] of [['x-forwarded-uri', '/public/x'], ['x-original-uri', '/public/x'], ['x-forwarded-method', 'POST']] as const) {
      const response = await fetch(`${untrusted.server.apiUrl}/verify`, { headers: { host: APP, [header]: value, authorization: `Bearer ${token}` } })
      expect(response.status).toBe(403)
      const body = (await response.json()) as { error: string; error_description: string }
      expect(body.error).toBe('access_denied')
      expect(body.error_description).toContain('FORWARD_AUTH_TRUSTED')
      expect(body.error_description.toLowerCase()).toContain(header)
      expect(response.headers.has('x-auth-user')).toBe(false)
    }
  })
})
