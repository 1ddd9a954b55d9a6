/**
 * GET /oauth/events and the views over the OAuth activity log (/oauth/events/{ip,user,client,proxy}/…,
 * /logs/oauth/…, /logs/oauth-debug/{ip}, /logs/oauth-flow, /logs/oauth/sessions): admin only (RFC 6750
 * §3.1), every bad parameter a 400 naming it, filters and windows as documented. The events here are
 * recorded through the log itself; test/e2e/oauth-activity.test.ts makes them with real logins.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { oauthEventRoutes } from '../../src/api/index.ts'
import { createLogger } from '../../src/lib/index.ts'
import { createOAuthActivityLog, type OAuthActivityLog, type OAuthEventInput } from '../../src/logs/index.ts'
import { bearer, createTestApi } from '../support/api.ts'

const HOUR_MS = 3_600_000
let api: Awaited<ReturnType<typeof createTestApi>>
let log: OAuthActivityLog
let admin: string

const PATHS = [
  '/oauth/events',
  '/oauth/events/ip/192.0.2.1',
  '/oauth/events/user/alice',
  '/oauth/events/client/client-a',
  '/oauth/events/proxy/app.test',
  '/logs/oauth/192.0.2.1',
  '/logs/oauth/user/alice',
  '/logs/oauth/client/client-a',
  '/logs/oauth-debug/192.0.2.1',
  '/logs/oauth-flow',
  '/logs/oauth/sessions',
]

interface Event {
  type: string
  user: string | null
  client_id: string | null
  ip: string | null
  reason: string | null
  time: string
}

const record = (input: Partial<OAuthEventInput>) =>
  log.record({ type: 'login', user: 'alice', user_id: '1001', client_id: 'client-a', resource: 'https://app.test', scopes: ['mcp'], grant: 'authorization_code', ip: '192.0.2.1', user_agent: 'ua', ...input })

beforeAll(async () => {
  // The routes need the log, the log needs the test API's store and clock: the routes reach it late.
  api = await createTestApi({
    extraRoutes: oauthEventRoutes({ activity: { query: (filter, page) => log.query(filter, page) }, clock: { nowMs: () => api.clock.nowMs() } }),
  })
  log = createOAuthActivityLog({ store: api.store, clock: api.clock, logger: createLogger('silent'), nodeId: 'node-a', retentionMs: 30 * 24 * HOUR_MS })

  // Two days of activity: alice from 192.0.2.1 long ago, then bob, then alice again (the newest hour).
  record({ reason: 'old' })
  api.clock.advanceMs(40 * HOUR_MS)
  record({ type: 'login_refused', user: 'bob', user_id: '1002', client_id: 'client-b', resource: 'https://other.test', ip: '198.51.100.2', reason: 'user_not_allowed', scopes: undefined })
  api.clock.advanceMs(HOUR_MS)
  record({ type: 'consent_granted', user: undefined, user_id: undefined, grant: undefined })
  api.clock.advanceMs(1000)
  record({})
  api.clock.advanceMs(1000)
  record({ type: 'token_issued' })
  api.clock.advanceMs(1000)
  record({ type: 'token_refreshed', grant: 'refresh_token' })
  api.clock.advanceMs(HOUR_MS / 2)
  admin = await api.issue(['admin'])
})
afterAll(() => api.close())

const get = (path: string, token: string | null = admin) => api.app.request(path, { headers: token === null ? {} : bearer(token) })
async function json<T = { events: Event[]; next_cursor: string | null; count: number }>(path: string): Promise<T> {
  const response = await get(path)
  expect(response.status).toBe(200)
  return (await response.json()) as T
}
const kinds = (events: Event[]) => events.map((event) => `${event.type}:${event.user ?? '-'}`)

describe('who may read', () => {
  test('RFC 6750 §3.1: no token → 401 with a Bearer challenge; user or mcp scope → 403 insufficient_scope (events hold addresses and user names)', async () => {
    for (const path of PATHS) {
      const anonymous = await get(path, null)
      expect(anonymous.status).toBe(401)
      expect(anonymous.headers.get('www-authenticate')).toStartWith('Bearer')
      for (const scope of ['user', 'mcp'] as const) {
        const refused = await get(path, await api.issue([scope]))
        expect(refused.status).toBe(403)
        expect(await refused.json()).toMatchObject({ error: 'insufficient_scope' })
      }
      expect((await get(path)).status).toBe(200)
    }
  })

  test('answers are not cached', async () => {
    for (const path of PATHS.slice(0, 3)) expect((await get(path)).headers.get('cache-control')).toBe('no-store')
  })
})

describe('bad input: 400 naming the parameter', () => {
  const cases: [string, string][] = [
    ['/oauth/events?ip=192.0.2.300', 'query parameter ip'],
    ['/oauth/events?type=login,logout', 'query parameter type'],
    ['/oauth/events?limit=0', 'query parameter limit'],
    ['/oauth/events?limit=1001', 'query parameter limit'],
    ['/oauth/events?limit=ten', 'query parameter limit'],
    ['/oauth/events?order=sideways', 'query parameter order'],
    ['/oauth/events?from=yesterday', 'query parameter from'],
    ['/oauth/events?to=2026-13-45T00:00:00Z', 'query parameter to'],
    ['/oauth/events?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', 'query parameter from'],
    ['/oauth/events?from=2026-12-01T10:00:00', 'query parameter from'],
    ['/oauth/events?hours=2&from=2026-12-01T00:00:00Z', 'query parameter hours'],
    ['/oauth/events?hours=0', 'query parameter hours'],
    ['/oauth/events?hours=721', 'query parameter hours'],
    ['/oauth/events?cursor=not-a-cursor', 'query parameter cursor'],
    ['/oauth/events?proxy=bad_host!', 'query parameter proxy'],
    ['/oauth/events/ip/not-an-ip', 'path parameter ip'],
    ['/logs/oauth/999.1.1.1', 'path parameter ip'],
    ['/logs/oauth-debug/x', 'path parameter ip'],
    ['/logs/oauth-flow?session_id=abc', 'query parameter session_id'],
    ['/logs/oauth-flow?hours=25', 'query parameter hours'],
    ['/logs/oauth/sessions?hours=-1', 'query parameter hours'],
  ]
  for (const [path, field] of cases) {
    test(`${path} → 400 "${field}: …"`, async () => {
      const response = await get(path)
      expect(response.status).toBe(400)
      const body = (await response.json()) as { error: string; error_description: string }
      expect(body.error).toBe('invalid_request')
      expect(body.error_description).toStartWith(`${field}:`)
    })
  }


  test('unknown paths under the views are 404', async () => {
    for (const path of ['/oauth/events/session/abc', '/oauth/events/ip', '/logs/oauth-debug']) expect((await get(path)).status).toBe(404)
  })
})

describe('filters and windows', () => {
  test('/oauth/events: every event newest first; each filter alone and combined', async () => {
    expect(kinds((await json('/oauth/events')).events)).toEqual(['token_refreshed:alice', 'token_issued:alice', 'login:alice', 'consent_granted:-', 'login_refused:bob', 'login:alice'])
    expect(kinds((await json('/oauth/events?user=Bob')).events)).toEqual(['login_refused:bob'])
    expect(kinds((await json('/oauth/events?client_id=client-b')).events)).toEqual(['login_refused:bob'])
    expect(kinds((await json('/oauth/events?ip=198.51.100.2')).events)).toEqual(['login_refused:bob'])
    expect(kinds((await json('/oauth/events?type=login_refused,consent_granted')).events)).toEqual(['consent_granted:-', 'login_refused:bob'])
    expect(kinds((await json('/oauth/events?proxy=other.test')).events)).toEqual(['login_refused:bob'])
    expect(kinds((await json('/oauth/events?user=alice&type=login&hours=24')).events)).toEqual(['login:alice'])
    expect(kinds((await json('/oauth/events?order=oldest&limit=2')).events)).toEqual(['login:alice', 'login_refused:bob'])
  })

  test('from and to take ISO 8601, a time ago (as /logs/search does) or an event\'s time_ms, inclusive', async () => {
    const { events } = await json('/oauth/events')
    const bob = events.find((event) => event.user === 'bob')!
    const at = Date.parse(bob.time)
    expect(kinds((await json(`/oauth/events?from=${bob.time}&to=${at}`)).events)).toEqual(['login_refused:bob'])
    expect(kinds((await json(`/oauth/events?to=${at - 1}`)).events)).toEqual(['login:alice'])
    expect(kinds((await json('/oauth/events?from=1h')).events)).toEqual(['token_refreshed:alice', 'token_issued:alice', 'login:alice', 'consent_granted:-'])
    expect(kinds((await json('/oauth/events?to=90m&from=3d')).events)).toEqual(['login_refused:bob', 'login:alice'])
  })

  test('a cursor is a position: the next page in the same order, or the events past it the other way', async () => {
    const first = await json('/oauth/events?limit=2')
    expect(kinds((await json(`/oauth/events?limit=2&cursor=${first.next_cursor}`)).events)).toEqual(['login:alice', 'consent_granted:-'])
    expect(kinds((await json(`/oauth/events?order=oldest&cursor=${first.next_cursor}`)).events)).toEqual(['token_refreshed:alice'])
  })

  test("the original's views cover the last `hours` (default 24) and say which window they read", async () => {
    const view = await json<{ events: Event[]; ip: string; hours: number; start_time: string; end_time: string; count: number }>('/oauth/events/ip/192.0.2.1')
    expect(kinds(view.events)).toEqual(['token_refreshed:alice', 'token_issued:alice', 'login:alice', 'consent_granted:-'])
    expect(view).toMatchObject({ ip: '192.0.2.1', hours: 24, count: 4, end_time: new Date(api.clock.nowMs()).toISOString() })
    expect(kinds((await json('/oauth/events/ip/192.0.2.1?hours=48')).events)).toHaveLength(5)
    expect(kinds((await json('/logs/oauth/user/alice?hours=1')).events)).toEqual(['token_refreshed:alice', 'token_issued:alice', 'login:alice'])
    expect(kinds((await json('/oauth/events/user/ALICE?limit=1')).events)).toEqual(['token_refreshed:alice'])
    expect(kinds((await json('/logs/oauth/client/client-b')).events)).toEqual(['login_refused:bob'])
    expect(kinds((await json('/oauth/events/proxy/other.test')).events)).toEqual(['login_refused:bob'])
    expect((await json('/oauth/events/user/carol')).events).toEqual([])
  })

  test('/logs/oauth-debug/{ip}: oldest first, with counts by type; /logs/oauth-flow: the last hour by default, oldest first', async () => {
    const debug = await json<{ events: Event[]; by_type: Record<string, number> }>('/logs/oauth-debug/192.0.2.1?hours=48')
    expect(kinds(debug.events)).toEqual(['login:alice', 'consent_granted:-', 'login:alice', 'token_issued:alice', 'token_refreshed:alice'])
    expect(debug.by_type).toEqual({ login: 2, consent_granted: 1, token_issued: 1, token_refreshed: 1 })
    expect(kinds((await json('/logs/oauth-flow?username=alice&client_id=client-a')).events)).toEqual(['login:alice', 'token_issued:alice', 'token_refreshed:alice'])
    expect((await json('/logs/oauth-flow?username=bob')).events).toEqual([])
    expect(kinds((await json('/logs/oauth-flow?username=bob&hours=24')).events)).toEqual(['login_refused:bob'])
  })

  test('/logs/oauth/sessions: one per user, client and resource, most recent first', async () => {
    const { sessions } = await json<{ sessions: Record<string, unknown>[] }>('/logs/oauth/sessions?hours=48')
    expect(sessions).toEqual([
      expect.objectContaining({ user: 'alice', client_id: 'client-a', resource: 'https://app.test', logins: 2, tokens_issued: 1, refreshes: 1, revocations: 0, ended: false, last_ip: '192.0.2.1' }),
    ])
  })
})
