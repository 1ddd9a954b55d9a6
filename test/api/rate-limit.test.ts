/**
 * The API's rate limits (#13) on a real server: the authorization server per client address, the
 * management API per address and per token subject, each over its threshold and under it; RFC 6585
 * §4 429 with Retry-After, RFC 6749 §5.2's body with temporarily_unavailable on the AS endpoints;
 * RATE_LIMIT_EXEMPT; /verify from FORWARD_AUTH_TRUSTED; a request through the edge counted under the
 * client the edge saw; /metrics counts. Clients are 127.0.0.x source addresses (the test's own calls,
 * from 127.0.0.1, are exempt).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { decodeJwt } from 'jose'
import { systemClock } from '../../src/lib/index.ts'
import { issueAccessToken } from '../../src/oauth/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { httpFrom, type HttpReply } from '../support/http-from.ts'
import { waitFor } from '../support/ports.ts'

const OAUTH_BURST = 4
const API_ADDRESS_BURST = 6
const API_TOKEN_BURST = 5

let edge: TestEdge
let apiPort: number

beforeAll(async () => {
  edge = await startTestEdge({
    RATE_LIMIT_EXEMPT: '127.0.0.1',
    // One an hour after the burst: nothing refills while a test runs.
    RATE_LIMIT_OAUTH: `1/h,${OAUTH_BURST}`,
    RATE_LIMIT_API_ADDRESS: `1/h,${API_ADDRESS_BURST}`,
    RATE_LIMIT_API: `1/h,${API_TOKEN_BURST}`,
    FORWARD_AUTH_TRUSTED: '127.0.0.50',
  })
  apiPort = Number(new URL(edge.server.apiUrl).port)
})

afterAll(async () => {
  await edge?.stop()
})

const METADATA = '/.well-known/oauth-authorization-server'

async function repeat(times: number, send: () => Promise<HttpReply>): Promise<HttpReply[]> {
  const replies: HttpReply[] = []
  for (let i = 0; i < times; i++) replies.push(await send())
  return replies
}

const statuses = (replies: readonly HttpReply[]) => replies.map((reply) => reply.status)

/** An admin token for another subject, with the issuer and audience of the edge's own admin token. */
function tokenFor(subject: string): Promise<string> {
  const { iss, aud } = decodeJwt(edge.adminToken)
  return issueAccessToken(edge.server.keyRing, systemClock, {
    issuer: iss!,
    audience: aud as string,
    subject,
    username: subject.replace(/^local:/, ''),
    scopes: ['admin'],
    clientId: 'test',
    ttlSec: 600,
  })
}

describe('the authorization server, per client address', () => {
  test(`under the limit every request is served; past the burst of ${OAUTH_BURST}: 429, Retry-After, RFC 6749 §5.2 temporarily_unavailable, readable cross-origin`, async () => {
    const replies = await repeat(OAUTH_BURST + 2, () => httpFrom('127.0.0.20', apiPort, { path: METADATA }))
    expect(statuses(replies)).toEqual([200, 200, 200, 200, 429, 429])
    const refused = replies[OAUTH_BURST]!
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(3_000)
    expect(refused.headers['content-type']).toStartWith('application/json')
    expect(refused.headers['cache-control']).toBe('no-store')
    expect(refused.headers['access-control-allow-origin']).toBe('*')
    const body = JSON.parse(refused.body) as { error: string; error_description: string }
    expect(body.error).toBe('temporarily_unavailable')
    expect(body.error_description).toStartWith('too many requests from this address; retry after ')
  })

  test('every AS endpoint draws on the one bucket; another address still has its own', async () => {
    const from = '127.0.0.21'
    const form = { 'content-type': 'application/x-www-form-urlencoded' }
    const sent = [
      await httpFrom(from, apiPort, { method: 'POST', path: '/token', headers: form, body: 'grant_type=authorization_code' }),
      await httpFrom(from, apiPort, { method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: '{}' }),
      await httpFrom(from, apiPort, { path: '/authorize' }),
      await httpFrom(from, apiPort, { path: '/jwks' }),
    ]
    // Under the limit each endpoint gives its own answer (RFC 6749 §5.2 400s here), never a 429.
    expect(statuses(sent).every((status) => status !== 429)).toBe(true)
    const over = [
      await httpFrom(from, apiPort, { method: 'POST', path: '/token', headers: form, body: 'grant_type=authorization_code' }),
      await httpFrom(from, apiPort, { method: 'POST', path: '/device/code', headers: form, body: 'client_id=x' }),
      await httpFrom(from, apiPort, { method: 'POST', path: '/revoke', headers: form, body: 'token=x' }),
      await httpFrom(from, apiPort, { method: 'POST', path: '/introspect', headers: form, body: 'token=x' }),
      await httpFrom(from, apiPort, { path: '/callback?state=x&code=y' }),
      await httpFrom(from, apiPort, { path: '/authorize?client_id=x' }),
    ]
    expect(statuses(over)).toEqual([429, 429, 429, 429, 429, 429])
    for (const reply of over) expect(JSON.parse(reply.body).error).toBe('temporarily_unavailable')
    // OAuth 2.1 §3.1: the authorization endpoint is navigated to, never made readable cross-origin.
    expect(over[5]!.headers['access-control-allow-origin']).toBeUndefined()
    expect((await httpFrom('127.0.0.22', apiPort, { path: '/jwks' })).status).toBe(200)
  })

  test('RATE_LIMIT_EXEMPT: an exempt address is never limited', async () => {
    const replies = await repeat(OAUTH_BURST * 3, () => httpFrom('127.0.0.1', apiPort, { path: METADATA }))
    expect(statuses(replies).every((status) => status === 200)).toBe(true)
  })

  test('through the edge (the localhost proxy) the limit counts the client the edge saw, not the edge', async () => {
    await waitFor(async () => (await edge.api('GET', '/proxy/targets/localhost')).status === 200, { what: 'the localhost proxy' })
    const viaEdge = (from: string) => httpFrom(from, edge.httpPort, { path: '/jwks', host: 'localhost' })
    const replies = await repeat(OAUTH_BURST + 1, () => viaEdge('127.0.0.60'))
    expect(statuses(replies)).toEqual([200, 200, 200, 200, 429])
    expect(replies[OAUTH_BURST]!.headers['retry-after']).toBeDefined()
    expect((await viaEdge('127.0.0.61')).status).toBe(200)
  })
})

describe('the management API', () => {
  test(`per client address: under the limit served; past the burst of ${API_ADDRESS_BURST}, 429 too_many_requests with Retry-After`, async () => {
    const replies = await repeat(API_ADDRESS_BURST + 1, () => httpFrom('127.0.0.30', apiPort, { path: '/system/version' }))
    expect(statuses(replies)).toEqual([...Array(API_ADDRESS_BURST).fill(200), 429])
    const refused = replies[API_ADDRESS_BURST]!
    expect(JSON.parse(refused.body)).toEqual({ error: 'too_many_requests', error_description: expect.stringMatching(/^too many requests; retry after \d+ s$/) })
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(3_000)
    // The authorization server's bucket is another one.
    expect((await httpFrom('127.0.0.30', apiPort, { path: METADATA })).status).toBe(200)
  })

  test('GET /health is never counted: a load balancer checks every node from its one address, on a schedule', async () => {
    const checks = await repeat(API_ADDRESS_BURST * 3, () => httpFrom('127.0.0.31', apiPort, { path: '/health' }))
    expect(statuses(checks)).toEqual(checks.map(() => 200))
    // The address's bucket was not drawn on: its whole burst is left for the rest of the API.
    const others = await repeat(API_ADDRESS_BURST + 1, () => httpFrom('127.0.0.31', apiPort, { path: '/system/version' }))
    expect(statuses(others)).toEqual([...Array(API_ADDRESS_BURST).fill(200), 429])
  })

  test(`per token subject: one token from many addresses is limited after ${API_TOKEN_BURST}; another user's token is not`, async () => {
    const token = await tokenFor('local:busy-script')
    const withToken = (from: string, bearer = token) => httpFrom(from, apiPort, { path: '/system/info', headers: { authorization: `Bearer ${bearer}` } })
    const replies = []
    for (let i = 0; i < API_TOKEN_BURST + 1; i++) replies.push(await withToken(`127.0.0.${100 + i}`))
    expect(statuses(replies)).toEqual([...Array(API_TOKEN_BURST).fill(200), 429])
    expect(JSON.parse(replies[API_TOKEN_BURST]!.body).error).toBe('too_many_requests')
    // From an address with room left, the limited token is still refused, another subject's is served.
    expect((await withToken('127.0.0.100')).status).toBe(429)
    expect((await withToken('127.0.0.100', await tokenFor('local:someone-else'))).status).toBe(200)
  })

  test('an invalid token is no subject: only its address is counted, and the route answers 401', async () => {
    const replies = await repeat(3, () => httpFrom('127.0.0.40', apiPort, { path: '/system/info', headers: { authorization: 'Bearer not-a-token' } }))
    expect(statuses(replies)).toEqual([401, 401, 401])
  })

  test('/verify from a forward-auth proxy in FORWARD_AUTH_TRUSTED is not counted per address; from anyone else it is', async () => {
    const trusted = await repeat(API_ADDRESS_BURST + 3, () => httpFrom('127.0.0.50', apiPort, { path: '/verify', headers: { 'x-forwarded-host': 'nobody.test', 'x-forwarded-uri': '/' } }))
    expect(statuses(trusted).includes(429)).toBe(false)
    const untrusted = await repeat(API_ADDRESS_BURST + 1, () => httpFrom('127.0.0.51', apiPort, { path: '/verify' }))
    expect(statuses(untrusted).at(-1)).toBe(429)
  })

  test('ohp_rate_limited_total counts every refusal by scope', async () => {
    const metrics = await (await edge.api('GET', '/metrics')).text()
    const count = (scope: string) => Number(new RegExp(`^ohp_rate_limited_total\\{scope="${scope}"\\} (\\d+)$`, 'm').exec(metrics)?.[1])
    expect(metrics).toContain('# TYPE ohp_rate_limited_total counter')
    expect(count('oauth')).toBeGreaterThanOrEqual(2 + 6 + 1)
    expect(count('api_address')).toBeGreaterThanOrEqual(2)
    expect(count('api_token')).toBeGreaterThanOrEqual(2)
    expect(count('proxy')).toBe(0)
  })
})
