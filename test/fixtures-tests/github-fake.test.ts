/** @module The GitHub fake, driven with plain fetch as our authorization server will drive it. */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { createGitHubFake, isAllowedRedirect, normalizeScopes, type GitHubFake, type GitHubFakeOptions } from '../fixtures/github-fake.ts'

const CALLBACK = 'https://auth.example.com/callback'
const APP = { clientId: 'Iv1.app', clientSecret: 'app-secret', callbackUrl: CALLBACK }
const OTHER = { clientId: 'Iv1.other', clientSecret: 'other-secret', callbackUrl: 'https://other.example.com/cb' }
const ALICE = { id: 1001, login: 'alice', name: 'Alice A.', emails: [{ email: 'alice@example.com', primary: true, verified: true }, { email: 'a@old.example', verified: false }] }
const BOB = { id: 1002, login: 'bob', name: null, emails: [{ email: 'bob@example.com', primary: true, verified: true, visibility: 'public' as const }] }

let fake: GitHubFake
function start(options: GitHubFakeOptions = {}): GitHubFake {
  fake = createGitHubFake({ users: [ALICE, BOB], apps: [APP, OTHER], ...options })
  return fake
}
afterEach(() => fake.stop())

function authorizeUrl(params: Record<string, string>): string {
  return `${fake.webUrl}/login/oauth/authorize?${new URLSearchParams({ client_id: APP.clientId, ...params })}`
}
async function authorize(params: Record<string, string> = {}, init: RequestInit = {}): Promise<URL> {
  const res = await fetch(authorizeUrl({ state: 'st-1', scope: 'read:user user:email', ...params }), { redirect: 'manual', ...init })
  expect(res.status).toBe(302)
  return new URL(res.headers.get('location') ?? '')
}
async function exchange(params: Record<string, string>, accept = 'application/json', headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${fake.webUrl}/login/oauth/access_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept, ...headers },
    body: new URLSearchParams(params),
  })
  expect(res.status).toBe(200) // GitHub answers 200 even for errors
  return (await res.json()) as Record<string, unknown>
}
async function codeFor(login = 'alice', params: Record<string, string> = {}): Promise<string> {
  fake.setNextLogin(login)
  return (await authorize(params)).searchParams.get('code') ?? ''
}
const webExchange = (code: string, extra: Record<string, string> = {}) =>
  exchange({ client_id: APP.clientId, client_secret: APP.clientSecret, code, ...extra })
const api = (path: string, authorization?: string) =>
  fetch(`${fake.apiUrl}${path}`, { headers: authorization ? { authorization } : {} })

describe('web application flow', () => {
  beforeEach(() => start())

  test('authorize redirects to the callback with code and state; the code buys a gho_ token (form by default)', async () => {
    const location = await authorize({}, { headers: { cookie: `${fake.loginCookieName}=alice` } })
    expect(location.origin + location.pathname).toBe(CALLBACK)
    expect(location.searchParams.get('state')).toBe('st-1')
    const code = location.searchParams.get('code') ?? ''
    expect(code).toMatch(/^[0-9a-f]{20}$/)
    const res = await fetch(`${fake.webUrl}/login/oauth/access_token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: APP.clientId, client_secret: APP.clientSecret, code, redirect_uri: CALLBACK }),
    })
    expect(res.headers.get('content-type')).toStartWith('application/x-www-form-urlencoded')
    const answer = new URLSearchParams(await res.text())
    expect(answer.get('access_token')).toMatch(/^gho_[A-Za-z0-9]{36}$/)
    expect(answer.get('scope')).toBe('read:user,user:email')
    expect(answer.get('token_type')).toBe('bearer')
  })

  test('Accept: application/json gets JSON; a JSON body and HTTP Basic credentials are accepted', async () => {
    const code = await codeFor()
    const res = await fetch(`${fake.webUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Basic ${btoa(`${APP.clientId}:${APP.clientSecret}`)}` },
      body: JSON.stringify({ code }),
    })
    expect(res.headers.get('content-type')).toStartWith('application/json')
    const body = (await res.json()) as Record<string, string>
    expect(Object.keys(body).sort()).toEqual(['access_token', 'scope', 'token_type'])
  })

  test('scopes are normalized: user swallows user:email and read:user', async () => {
    const code = await codeFor('alice', { scope: 'user,gist user:email read:user' })
    expect((await webExchange(code)).scope).toBe('user,gist')
    expect(normalizeScopes('')).toEqual([])
  })

  test('a code is single-use and expires after 10 minutes: bad_verification_code', async () => {
    const code = await codeFor()
    expect((await webExchange(code)).access_token).toBeString()
    const again = await webExchange(code)
    expect(again).toEqual({
      error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.',
      error_uri: expect.stringContaining('#bad-verification-code'),
    })
    const form = await fetch(`${fake.webUrl}/login/oauth/access_token`, { method: 'POST', body: new URLSearchParams({ client_id: APP.clientId, client_secret: APP.clientSecret, code }) })
    expect(form.status).toBe(200)
    expect(new URLSearchParams(await form.text()).get('error')).toBe('bad_verification_code')
    const late = await codeFor()
    fake.advance(600)
    expect((await webExchange(late)).error).toBe('bad_verification_code')
  })

  test('wrong secret or unknown client: incorrect_client_credentials, and the code survives', async () => {
    const code = await codeFor()
    expect((await webExchange(code, { client_secret: 'nope' })).error).toBe('incorrect_client_credentials')
    expect((await webExchange(code, { client_id: 'Iv1.unknown' })).error).toBe('incorrect_client_credentials')
    expect((await webExchange(code, { client_secret: '' })).error).toBe('incorrect_client_credentials')
    expect((await webExchange(code)).access_token).toBeString()
  })

  test('a code redeemed by another app is bad_verification_code and stays valid for its own app', async () => {
    const code = await codeFor()
    const stolen = await exchange({ client_id: OTHER.clientId, client_secret: OTHER.clientSecret, code })
    expect(stolen.error).toBe('bad_verification_code')
    expect((await webExchange(code)).access_token).toBeString()
  })

  test('a redirect_uri differing from the one authorized: redirect_uri_mismatch', async () => {
    const code = await codeFor('alice', { redirect_uri: `${CALLBACK}/sub` })
    const answer = await webExchange(code, { redirect_uri: CALLBACK })
    expect(answer.error).toBe('redirect_uri_mismatch')
    expect(answer.error_description).toBe('The redirect_uri MUST match the registered callback URL for this application.')
  })

  test('an unknown grant_type: unsupported_grant_type', async () => {
    expect((await exchange({ grant_type: 'refresh_token', client_id: APP.clientId })).error).toBe('unsupported_grant_type')
  })

  test('unknown client_id: an HTML 404 page, never a redirect', async () => {
    for (const query of ['client_id=Iv1.unknown&redirect_uri=https%3A%2F%2Fevil.example%2F', '']) {
      const res = await fetch(`${fake.webUrl}/login/oauth/authorize?${query}`, { redirect: 'manual' })
      expect(res.status).toBe(404)
      expect(res.headers.get('location')).toBeNull()
      expect(res.headers.get('content-type')).toStartWith('text/html')
    }
  })

  test('a redirect_uri outside the callback URL goes to the registered callback with redirect_uri_mismatch', async () => {
    fake.setNextLogin('alice')
    const location = await authorize({ redirect_uri: 'https://evil.example/callback' })
    expect(location.origin + location.pathname).toBe(CALLBACK)
    expect(location.searchParams.get('error')).toBe('redirect_uri_mismatch')
    expect(location.searchParams.get('state')).toBe('st-1')
    expect(location.searchParams.has('code')).toBe(false)
  })

  test('redirect URL rules from GitHub\'s docs, loopback ports, and kept query strings', async () => {
    const cb = 'http://example.com/path'
    for (const good of [cb, `${cb}/subdir/other`, 'http://oauth.example.com/path', 'http://oauth.example.com/path/subdir/other']) {
      expect(isAllowedRedirect(good, cb)).toBe(true)
    }
    for (const bad of ['http://example.com/bar', 'http://example.com/', 'http://example.com:8080/path', 'http://oauth.example.com:8080/path',
      'http://example.org', 'https://example.com/path', 'http://example.com/pathology', 'http://evilexample.com/path',
      'http://example.com/path/../bar', 'http://user@example.com/path', 'not a url']) {
      expect(isAllowedRedirect(bad, cb)).toBe(false)
    }
    expect(isAllowedRedirect('http://127.0.0.1:1234/path', 'http://127.0.0.1/path')).toBe(true)
    expect(isAllowedRedirect('http://localhost:1234/path', 'http://127.0.0.1/path')).toBe(false)
    fake.addApp({ clientId: 'Iv1.cli', clientSecret: 's', callbackUrl: 'http://127.0.0.1/cb' })
    fake.setNextLogin('bob')
    const res = await fetch(authorizeUrl({ client_id: 'Iv1.cli', redirect_uri: 'http://127.0.0.1:5555/cb?x=1', state: 's' }), { redirect: 'manual' })
    const location = new URL(res.headers.get('location') ?? '')
    expect(location.host).toBe('127.0.0.1:5555')
    expect(location.searchParams.get('x')).toBe('1')
    expect(location.searchParams.get('code')).toBeString()
  })

  test('denyNext: access_denied with description, error_uri and state, once', async () => {
    fake.setNextLogin('alice')
    fake.denyNext()
    const denied = await authorize()
    expect(Object.fromEntries(denied.searchParams)).toEqual({
      error: 'access_denied', error_description: 'The user has denied your application access.',
      error_uri: expect.stringContaining('#access-denied'), state: 'st-1',
    })
    expect((await codeFor()).length).toBe(20)
  })

  test('nobody signed in: the sign-in page (200 HTML), no redirect; defaultLogin and the cookie sign in', async () => {
    const res = await fetch(authorizeUrl({ state: 's' }), { redirect: 'manual' })
    expect(res.status).toBe(200)
    expect(res.headers.get('location')).toBeNull()
    expect(await res.text()).toContain('Sign in to GitHub')
    const viaCookie = await authorize({}, { headers: { cookie: `other=1; ${fake.loginCookieName}=bob` } })
    expect(viaCookie.searchParams.get('code')).toBeString()
    fake.stop()
    start({ defaultLogin: 'alice' })
    expect((await authorize()).searchParams.get('code')).toBeString()
    expect(() => fake.setNextLogin('mallory')).toThrow('unknown user')
  })

  test('a suspended app: application_suspended', async () => {
    fake.addApp({ ...APP, suspended: true })
    fake.setNextLogin('alice')
    expect((await authorize()).searchParams.get('error')).toBe('application_suspended')
  })
})

describe('device flow', () => {
  const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code'
  async function startDevice(accept = 'application/json'): Promise<Record<string, string | number>> {
    const res = await fetch(`${fake.webUrl}/login/device/code`, {
      method: 'POST', headers: { accept }, body: new URLSearchParams({ client_id: APP.clientId, scope: 'read:user user:email' }),
    })
    expect(res.status).toBe(200)
    if (accept.includes('json')) return (await res.json()) as Record<string, string | number>
    return Object.fromEntries(new URLSearchParams(await res.text()))
  }
  const poll = (deviceCode: string, clientId = APP.clientId) => exchange({ client_id: clientId, device_code: deviceCode, grant_type: DEVICE })

  test('device code answer: 40-char device_code, XXXX-XXXX user_code, /login/device, 900 s, 5 s (form by default)', async () => {
    start()
    const form = await startDevice('*/*')
    expect(form.device_code).toMatch(/^[0-9a-f]{40}$/)
    expect(form.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/)
    expect(form).toMatchObject({ verification_uri: `${fake.webUrl}/login/device`, expires_in: '900', interval: '5' })
    expect((await startDevice()).expires_in).toBe(900)
    expect((await fetch(`${fake.webUrl}/login/device`)).status).toBe(200)
  })

  test('authorization_pending until approved, then a token once; then incorrect_device_code', async () => {
    start({ deviceIntervalSec: 0 })
    const { device_code, user_code } = await startDevice()
    expect((await poll(String(device_code))).error).toBe('authorization_pending')
    fake.approveDevice(String(user_code).toLowerCase(), 'bob')
    const ok = await poll(String(device_code))
    expect(ok).toEqual({ access_token: expect.stringMatching(/^gho_/), token_type: 'bearer', scope: 'read:user,user:email' })
    const me = (await (await api('/user', `Bearer ${ok.access_token}`)).json()) as { login: string }
    expect(me.login).toBe('bob')
    expect((await poll(String(device_code))).error).toBe('incorrect_device_code')
    expect(() => fake.approveDevice(String(user_code), 'bob')).toThrow('no pending device authorization')
  })

  test('polling faster than the interval: slow_down with interval + 5', async () => {
    start()
    const { device_code } = await startDevice()
    expect((await poll(String(device_code))).error).toBe('authorization_pending')
    const slow = await poll(String(device_code))
    expect(slow).toMatchObject({ error: 'slow_down', interval: 10 })
    fake.advance(9)
    expect(await poll(String(device_code))).toMatchObject({ error: 'slow_down', interval: 15 })
    fake.advance(15)
    expect((await poll(String(device_code))).error).toBe('authorization_pending')
  })

  test('denied: access_denied on every later poll', async () => {
    start({ deviceIntervalSec: 0 })
    const { device_code, user_code } = await startDevice()
    fake.denyDevice(String(user_code))
    expect((await poll(String(device_code))).error).toBe('access_denied')
    expect((await poll(String(device_code))).error).toBe('access_denied')
  })

  test('after expires_in: expired_token', async () => {
    start({ deviceIntervalSec: 0 })
    const { device_code, user_code } = await startDevice()
    fake.advance(900)
    expect((await poll(String(device_code))).error).toBe('expired_token')
    expect(() => fake.approveDevice(String(user_code), 'alice')).toThrow()
  })

  test('unknown device code, another app\'s code, unknown client, disabled device flow', async () => {
    start({ deviceIntervalSec: 0 })
    const { device_code } = await startDevice()
    expect((await poll('0'.repeat(40))).error).toBe('incorrect_device_code')
    expect((await poll(String(device_code), OTHER.clientId)).error).toBe('incorrect_device_code')
    expect((await poll(String(device_code), 'Iv1.unknown')).error).toBe('incorrect_client_credentials')
    fake.addApp({ ...OTHER, deviceFlow: false })
    expect((await poll(String(device_code), OTHER.clientId)).error).toBe('device_flow_disabled')
    const res = await fetch(`${fake.webUrl}/login/device/code`, { method: 'POST', headers: { accept: 'application/json' }, body: new URLSearchParams({ client_id: OTHER.clientId }) })
    expect(((await res.json()) as { error: string }).error).toBe('device_flow_disabled')
  })
})

describe('REST API', () => {
  beforeEach(() => start())

  test('/user with Bearer or token: the profile; email is null unless the primary address is public', async () => {
    const token = fake.issueToken('alice')
    for (const scheme of ['Bearer', 'token', 'bearer']) {
      const res = await api('/user', `${scheme} ${token}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('x-oauth-scopes')).toBe('read:user, user:email')
      expect(await res.json()).toMatchObject({ id: 1001, login: 'alice', name: 'Alice A.', email: null, type: 'User', avatar_url: expect.any(String) })
    }
    const bob = (await (await api('/user', `Bearer ${fake.issueToken('bob', '')}`)).json()) as Record<string, unknown>
    expect(bob).toMatchObject({ login: 'bob', name: null, email: 'bob@example.com' })
  })

  test('no credentials: 401 Requires authentication; an unknown or revoked token: 401 Bad credentials', async () => {
    const none = await api('/user')
    expect(none.status).toBe(401)
    expect(await none.json()).toMatchObject({ message: 'Requires authentication', documentation_url: expect.stringContaining('docs.github.com') })
    const bad = await api('/user', 'Bearer gho_000000000000000000000000000000000000')
    expect(bad.status).toBe(401)
    expect(await bad.json()).toEqual({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' })
    const token = fake.issueToken('alice')
    fake.revokeTokens('alice')
    expect((await api('/user', `token ${token}`)).status).toBe(401)
    expect((await api(`/user?access_token=${token}`)).status).toBe(401)
  })

  test('/user/emails needs user:email or user; without it GitHub answers 404', async () => {
    const res = await api('/user/emails', `Bearer ${fake.issueToken('alice', 'user:email')}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual([
      { email: 'alice@example.com', primary: true, verified: true, visibility: 'private' },
      { email: 'a@old.example', primary: false, verified: false, visibility: null },
    ])
    expect((await api('/user/emails', `Bearer ${fake.issueToken('alice', 'user')}`)).status).toBe(200)
    const missing = await api('/user/emails', `Bearer ${fake.issueToken('alice', 'read:user')}`)
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { message: string }).message).toBe('Not Found')
  })

  test('a request without User-Agent is refused with 403, as GitHub does', async () => {
    const token = fake.issueToken('alice')
    const res = await fetch(`${fake.apiUrl}/user`, { headers: { authorization: `Bearer ${token}`, 'user-agent': '' } })
    expect(res.status).toBe(403)
  })

  test('API paths exist only under the configured prefix (/api, /api/v3 or none)', async () => {
    const token = fake.issueToken('alice')
    expect(fake.apiUrl).toBe(`${fake.webUrl}/api`)
    expect((await fetch(`${fake.webUrl}/user`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404)
    expect((await api('/users/alice', `Bearer ${token}`)).status).toBe(404)
    for (const apiPrefix of ['/api/v3', ''] as const) {
      fake.stop()
      start({ apiPrefix })
      expect(fake.apiUrl).toBe(`${fake.webUrl}${apiPrefix}`)
      expect((await api('/user', `Bearer ${fake.issueToken('bob')}`)).status).toBe(200)
    }
  })
})

describe('test controls', () => {
  beforeEach(() => start({ deviceIntervalSec: 0 }))

  test('failNext answers one 5xx or malformed body per endpoint, then normal service resumes', async () => {
    const code = await codeFor()
    fake.failNext('token', 502)
    const failed = await fetch(`${fake.webUrl}/login/oauth/access_token`, { method: 'POST', body: new URLSearchParams({ client_id: APP.clientId, client_secret: APP.clientSecret, code }) })
    expect(failed.status).toBe(502)
    expect(failed.headers.get('content-type')).toStartWith('text/html')
    fake.failNext('token', 'malformed')
    const malformed = await fetch(`${fake.webUrl}/login/oauth/access_token`, { method: 'POST', headers: { accept: 'application/json' }, body: '' })
    expect(malformed.status).toBe(200)
    await expect(malformed.json()).rejects.toThrow()
    const token = String((await webExchange(code)).access_token)
    fake.failNext('user', 500)
    fake.failNext('emails', 503)
    fake.failNext('device_code', 500)
    expect((await api('/user', `Bearer ${token}`)).status).toBe(500)
    expect((await api('/user/emails', `Bearer ${token}`)).status).toBe(503)
    expect((await fetch(`${fake.webUrl}/login/device/code`, { method: 'POST', body: `client_id=${APP.clientId}` })).status).toBe(500)
    expect((await api('/user', `Bearer ${token}`)).status).toBe(200)
    expect((await api('/user/emails', `Bearer ${token}`)).status).toBe(200)
  })

  test('the request log keeps method, full URL, headers and body, so secrets can be shown to stay out of URLs', async () => {
    const code = await codeFor()
    await webExchange(code)
    const tokenRequest = fake.requests.find((r) => r.path === '/login/oauth/access_token')
    expect(tokenRequest).toMatchObject({ method: 'POST', headers: expect.objectContaining({ accept: 'application/json' }) })
    expect(tokenRequest?.body).toContain('client_secret=app-secret')
    expect(tokenRequest?.url).toBe(`${fake.webUrl}/login/oauth/access_token`)
    expect(fake.requests.some((r) => r.url.includes(APP.clientSecret))).toBe(false)
    expect(fake.requests.map((r) => r.path)).toEqual(['/login/oauth/authorize', '/login/oauth/access_token'])
  })

  test('unknown paths and methods: 404', async () => {
    expect((await fetch(`${fake.webUrl}/login/oauth/access_token`)).status).toBe(404)
    expect((await fetch(`${fake.webUrl}/nowhere`)).status).toBe(404)
  })
})
