/**
 * The OAuth activity log end to end (issue #12): real logins through the whole server and the GitHub
 * fake — registration, consent given and refused, the code exchanged and replayed, refresh, refresh
 * reuse (RFC 9700 §4.14.2), revocation (RFC 7009), a refused user, the device grant (RFC 8628) — then
 * every query endpoint, filters and cursor paging, and a search of the store and every answer for the
 * tokens, codes, states and secrets of those flows: none may appear.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { STREAMS } from '../../src/store/index.ts'
import { consentForm, driveBrowser, GITHUB_APP, startOAuthE2E, type OAuthE2E } from '../support/oauth-e2e.ts'

const REDIRECT_URI = 'http://127.0.0.1:33419/cb'
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
const USER_AGENT = 'activity-e2e/1.0 (+test)'

interface Event {
  id: string
  time: string
  time_ms: number
  type: string
  user: string | null
  user_id: string | null
  client_id: string | null
  resource: string | null
  scopes: string[] | null
  grant: string | null
  reason: string | null
  ip: string | null
  user_agent: string | null
  node: string
}
interface Page {
  events: Event[]
  count: number
  next_cursor: string | null
}

let t: OAuthE2E
let publicClient: string
let confidentialClient: string
/** Every secret value the flows below produced or sent: none may be in the log or an answer. */
const secrets = new Set<string>([GITHUB_APP.clientSecret])
const remember = (...values: (string | null | undefined)[]) => {
  for (const value of values) if (value) secrets.add(value)
}

async function register(body: Record<string, unknown>) {
  const response = await fetch(`${t.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, 'x-real-ip': '203.0.113.7', 'x-forwarded-for': '203.0.113.8' },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], client_name: 'activity', ...body }),
  })
  expect(response.status).toBe(201)
  const registered = (await response.json()) as { client_id: string; client_secret?: string; registration_access_token: string }
  remember(registered.client_secret, registered.registration_access_token)
  return registered
}

function authorizationUrl(clientId: string, state: string): URL {
  const url = new URL(`${t.issuer}/authorize`)
  const fields = { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: CHALLENGE, code_challenge_method: 'S256', state, resource: t.issuer }
  for (const [name, value] of Object.entries(fields)) url.searchParams.set(name, value)
  remember(state)
  return url
}

/** A browser login as `login`; the redirect back to the client, with the code, remembered as secrets with GitHub's own code and state. */
async function signIn(clientId: string, login: string) {
  const run = await driveBrowser(t, authorizationUrl(clientId, `client-state-${crypto.randomUUID()}`), login)
  for (const visited of run.visited) {
    const url = new URL(visited)
    remember(url.searchParams.get('code'), url.pathname === '/login/oauth/authorize' || url.pathname === '/callback' ? url.searchParams.get('state') : null)
  }
  remember(run.final.searchParams.get('code'))
  return run.final
}

const token = (clientId: string, form: Record<string, string>, auth?: string) =>
  fetch(`${t.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': USER_AGENT, ...(auth ? { authorization: auth } : {}) },
    body: new URLSearchParams(auth ? form : { client_id: clientId, ...form }),
  })

async function exchange(clientId: string, code: string, auth?: string) {
  const response = await token(clientId, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: VERIFIER }, auth)
  const body = (await response.json()) as { access_token: string; refresh_token: string; error?: string }
  remember(body.access_token, body.refresh_token)
  return { status: response.status, body }
}

const admin = (path: string) => t.edge.api('GET', path)
async function events(path: string): Promise<Page> {
  const response = await admin(path)
  expect(response.status).toBe(200)
  return (await response.json()) as Page
}

beforeAll(async () => {
  t = await startOAuthE2E()
  t.github.addUser({ id: 1002, login: 'bob' })

  publicClient = (await register({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT] })).client_id
  const confidential = await register({ token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'] })
  confidentialClient = confidential.client_id
  const basic = `Basic ${btoa(`${confidential.client_id}:${confidential.client_secret}`)}`

  // alice: login, exchange, two refreshes, then the first refresh token again (reuse), which ends the family.
  const first = await exchange(publicClient, (await signIn(publicClient, 'alice')).searchParams.get('code')!)
  expect(first.status).toBe(200)
  const refreshed = await token(publicClient, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token })
  expect(refreshed.status).toBe(200)
  const second = (await refreshed.json()) as { access_token: string; refresh_token: string }
  remember(second.access_token, second.refresh_token)
  // Rotated twice, so the first token is past the grace a racing twin gets (it would be answered, not refused).
  const third = (await (await token(publicClient, { grant_type: 'refresh_token', refresh_token: second.refresh_token })).json()) as { access_token: string; refresh_token: string }
  remember(third.access_token, third.refresh_token)
  expect((await token(publicClient, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token })).status).toBe(400)

  // alice with the confidential client: a code replayed (RFC 6749 §10.5), then RFC 7009 revocation.
  const code = (await signIn(confidentialClient, 'alice')).searchParams.get('code')!
  const pair = await exchange(confidentialClient, code, basic)
  expect(pair.status).toBe(200)
  expect((await exchange(confidentialClient, code, basic)).status).toBe(400)
  const again = await exchange(confidentialClient, (await signIn(confidentialClient, 'alice')).searchParams.get('code')!, basic)
  const revoked = await fetch(`${t.issuer}/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    body: new URLSearchParams({ token: again.body.refresh_token }),
  })
  expect(revoked.status).toBe(200)

  // bob holds no scope at the API: refused at /callback.
  expect((await signIn(publicClient, 'bob')).searchParams.get('error')).toBe('access_denied')

  // Consent refused, from a browser of its own.
  const consentPage = await fetch(authorizationUrl(publicClient, 'denied-state'), { redirect: 'manual' })
  const cookie = consentPage.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ')
  const { action, fields } = consentForm(await consentPage.text(), `${t.issuer}/authorize`)
  const denied = await fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: t.issuer, cookie },
    body: new URLSearchParams({ ...fields, decision: 'deny' }),
  })
  expect(new URL(denied.headers.get('location')!).searchParams.get('error')).toBe('access_denied')

  // The device grant (RFC 8628) as alice.
  const device = await fetch(`${t.issuer}/device/code`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: publicClient, scope: 'admin' }) })
  expect(device.status).toBe(200)
  const { device_code: deviceCode, user_code: userCode } = (await device.json()) as { device_code: string; user_code: string }
  remember(deviceCode, userCode)
  t.github.approveDevice(userCode, 'alice')
  const polled = await token(publicClient, { grant_type: DEVICE_GRANT, device_code: deviceCode })
  expect(polled.status).toBe(200)
  const deviceTokens = (await polled.json()) as { access_token: string; refresh_token: string }
  remember(deviceTokens.access_token, deviceTokens.refresh_token)
}, 60_000)
afterAll(() => t.stop())

describe('events of real flows', () => {
  test('each step of the flows is one event, in order, with user, client, resource, scopes and reason', async () => {
    const { events: all } = await events('/oauth/events?order=oldest&limit=1000')
    const of = (clientId: string) => all.filter((event) => event.client_id === clientId).map((event) => [event.type, event.user, event.grant, event.reason])
    expect(of(publicClient).slice(0, 9)).toEqual([
      ['client_registered', null, null, null],
      ['consent_granted', null, null, null],
      ['login', 'alice', 'authorization_code', null],
      ['token_issued', 'alice', 'authorization_code', null],
      ['token_refreshed', 'alice', 'refresh_token', null],
      ['token_refreshed', 'alice', 'refresh_token', null],
      ['refresh_reuse_detected', 'alice', 'refresh_token', 'token_reused'],
      ['token_revoked', 'alice', null, 'refresh token reused'],
      ['consent_granted', null, null, null],
    ])
    const bob = all.find((event) => event.user === 'bob')!
    expect(bob).toMatchObject({ type: 'login_refused', client_id: publicClient, grant: 'authorization_code', resource: t.issuer })
    expect(bob.reason).toBeString()
    expect(all.filter((event) => event.type === 'consent_denied')).toEqual([expect.objectContaining({ client_id: publicClient, resource: t.issuer })])
    const login = all.find((event) => event.type === 'login')!
    expect(login).toMatchObject({ user: 'alice', user_id: expect.any(String), resource: t.issuer, scopes: ['admin'], ip: '127.0.0.1', node: expect.any(String) })
    expect(Date.parse(login.time)).toBeGreaterThan(Date.now() - 120_000)

    expect(of(confidentialClient)).toContainEqual(['token_refused', null, 'authorization_code', 'code_replayed'])
    expect(of(confidentialClient)).toContainEqual(['token_revoked', 'alice', null, 'authorization code replayed'])
    expect(of(confidentialClient)).toContainEqual(['token_revoked', 'alice', null, 'revoked by its client (RFC 7009)'])
    expect(of(publicClient)).toContainEqual(['login', 'alice', 'device_code', null])
    expect(of(publicClient)).toContainEqual(['token_issued', 'alice', 'device_code', null])
  })

  test('the address is the connection\'s: X-Real-IP and X-Forwarded-For sent straight to the API are not believed; the user agent is kept', async () => {
    const { events: registrations } = await events('/oauth/events?type=client_registered')
    expect(registrations.length).toBeGreaterThanOrEqual(2)
    for (const event of registrations) expect(event).toMatchObject({ ip: '127.0.0.1', user_agent: USER_AGENT })
    expect((await events('/oauth/events?ip=203.0.113.7')).events).toEqual([])
  })

  test('through the edge (the localhost proxy, in-process to the API) the event carries the client address the edge saw', async () => {
    const response = await fetch(`http://127.0.0.1:${t.edge.httpPort}/register`, {
      method: 'POST',
      headers: { host: 'localhost', 'content-type': 'application/json', 'x-real-ip': '198.51.100.9', 'user-agent': USER_AGENT },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
    })
    expect(response.status).toBe(201)
    const { client_id: clientId, registration_access_token: rat } = (await response.json()) as { client_id: string; registration_access_token: string }
    remember(rat)
    const { events: found } = await events(`/oauth/events?client_id=${clientId}`)
    expect(found).toEqual([expect.objectContaining({ type: 'client_registered', ip: '127.0.0.1', user_agent: USER_AGENT })])
  })
})

describe('queries', () => {
  test('filters: user (any case), client, ip, type list, proxy (the resource host), time range', async () => {
    const { events: all } = await events('/oauth/events?limit=1000')
    const alice = await events('/oauth/events?user=ALICE&limit=1000')
    expect(alice.events.length).toBeGreaterThan(5)
    expect(alice.events).toEqual(all.filter((event) => event.user === 'alice'))
    expect((await events(`/oauth/events?client_id=${confidentialClient}&limit=1000`)).events).toEqual(all.filter((event) => event.client_id === confidentialClient))
    expect((await events('/oauth/events?ip=127.0.0.1&limit=1000')).events).toEqual(all.filter((event) => event.ip === '127.0.0.1'))
    expect((await events('/oauth/events?ip=::ffff:127.0.0.1&limit=1000')).events).toEqual(all.filter((event) => event.ip === '127.0.0.1'))
    const logins = await events('/oauth/events?type=login,login_refused&limit=1000')
    expect(logins.events.map((event) => event.type).sort()).toEqual(all.filter((event) => event.type === 'login' || event.type === 'login_refused').map((event) => event.type).sort())
    expect((await events('/oauth/events?proxy=127.0.0.1&limit=1000')).events).toEqual(all.filter((event) => event.resource === t.issuer))
    expect((await events('/oauth/events?proxy=elsewhere.test')).events).toEqual([])
    const middle = all[Math.floor(all.length / 2)]!
    const since = await events(`/oauth/events?from=${middle.time_ms}&limit=1000`)
    expect(since.events).toEqual(all.filter((event) => event.time_ms >= middle.time_ms))
    expect((await events(`/oauth/events?to=${new Date(Date.now() - 3_600_000).toISOString()}`)).events).toEqual([])
    expect((await events('/oauth/events?hours=1&limit=1000')).events).toEqual(all)
  })

  test('cursor paging: the pages join up to the whole list, and events that arrive meanwhile shift no page', async () => {
    const { events: all } = await events('/oauth/events?limit=1000')
    const seen: Event[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: Page = await events(`/oauth/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      seen.push(...page.events)
      cursor = page.next_cursor
      // New activity between pages: a registration, newer than everything paged.
      if (pages++ === 0) await register({ token_endpoint_auth_method: 'none' })
    } while (cursor !== null)
    expect(seen.map((event) => event.id)).toEqual(all.map((event) => event.id))
    const oldest = await events('/oauth/events?order=oldest&limit=2')
    expect(oldest.events.map((event) => event.id)).toEqual(all.slice(-2).reverse().map((event) => event.id))
    expect(oldest.next_cursor).not.toBeNull()
  })

  test("the original's views: /oauth/events/{ip,user,client,proxy}/… and /logs/oauth/{ip}, /logs/oauth/user/…, /logs/oauth/client/…", async () => {
    const { events: all } = await events('/oauth/events?limit=1000')
    const alice = all.filter((event) => event.user === 'alice')
    for (const path of ['/oauth/events/user/alice', '/logs/oauth/user/alice']) {
      const view = (await events(path)) as Page & { hours: number; start_time: string; end_time: string }
      expect(view.events).toEqual(alice)
      expect(view).toMatchObject({ hours: 24, count: alice.length })
      expect(Date.parse(view.end_time) - Date.parse(view.start_time)).toBe(24 * 3_600_000)
    }
    for (const path of ['/oauth/events/ip/127.0.0.1', '/logs/oauth/127.0.0.1']) expect((await events(path)).events).toEqual(all.filter((event) => event.ip === '127.0.0.1'))
    for (const path of [`/oauth/events/client/${publicClient}`, `/logs/oauth/client/${publicClient}`]) expect((await events(path)).events).toEqual(all.filter((event) => event.client_id === publicClient))
    expect((await events('/oauth/events/proxy/127.0.0.1')).events).toEqual(all.filter((event) => event.resource === t.issuer))
    expect((await events('/oauth/events/user/alice?limit=2')).events).toEqual(alice.slice(0, 2))
  })

  test('/logs/oauth-debug/{ip} and /logs/oauth-flow: traces oldest first; /logs/oauth/sessions per user, client and resource', async () => {
    const { events: all } = await events('/oauth/events?limit=1000')
    const debug = (await events('/logs/oauth-debug/127.0.0.1')) as Page & { by_type: Record<string, number> }
    expect(debug.events).toEqual(all.filter((event) => event.ip === '127.0.0.1').reverse())
    expect(debug.by_type.login).toBe(all.filter((event) => event.type === 'login' && event.ip === '127.0.0.1').length)
    const flow = await events(`/logs/oauth-flow?username=alice&client_id=${confidentialClient}`)
    expect(flow.events).toEqual(all.filter((event) => event.user === 'alice' && event.client_id === confidentialClient).reverse())
    const response = await admin('/logs/oauth/sessions')
    expect(response.status).toBe(200)
    const { sessions } = (await response.json()) as { sessions: { user: string; client_id: string; logins: number; refreshes: number; revocations: number; reuse_detected: number; ended: boolean; last_ip: string }[] }
    const publicSession = sessions.find((session) => session.user === 'alice' && session.client_id === publicClient)!
    expect(publicSession).toMatchObject({ logins: 2, refreshes: 2, reuse_detected: 1, last_ip: '127.0.0.1' })
    const confidential = sessions.find((session) => session.user === 'alice' && session.client_id === confidentialClient)!
    expect(confidential).toMatchObject({ logins: 2, revocations: 2, ended: true })
  })
})

describe('no secret anywhere', () => {
  test('the store and every answer hold none of the tokens, codes, states, device codes or client secrets of the flows', async () => {
    expect(secrets.size).toBeGreaterThan(15)
    const stored = await t.edge.server.store.query(STREAMS.oauth, { limit: 10_000 })
    expect(stored.length).toBeGreaterThan(20)
    const answers: string[] = stored.map((entry) => entry.data)
    for (const path of [
      '/oauth/events?limit=1000',
      '/oauth/events/user/alice',
      '/oauth/events/ip/127.0.0.1',
      `/oauth/events/client/${publicClient}`,
      '/oauth/events/proxy/127.0.0.1',
      '/logs/oauth/127.0.0.1',
      '/logs/oauth/user/alice',
      `/logs/oauth/client/${confidentialClient}`,
      '/logs/oauth-debug/127.0.0.1',
      '/logs/oauth-flow?username=alice&hours=24',
      '/logs/oauth/sessions',
    ]) {
      const response = await admin(path)
      expect(response.status).toBe(200)
      answers.push(await response.text())
    }
    const all = answers.join('\n')
    for (const secret of secrets) expect(all.includes(secret) ? secret : null).toBeNull()
  })
})
