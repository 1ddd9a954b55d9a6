/**
 * Who may register (issue #13): OAUTH_REGISTRATION open | token (an initial access token, RFC 7591 §3) |
 * closed, the per-address hourly limit (RFC 7591 §5 abuse limits) and the 16 KiB metadata cap, over the
 * in-process API. The address is the edge's X-Real-IP, as for a request the edge hands to the API.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { oauthMetadataRoutes, registerRoutes, registrationTokenRoutes, type RegistrationGate } from '../../src/api/index.ts'
import { createManualClock } from '../../src/lib/index.ts'
import { createClientRegistry, createIssuerResolver, createRegistrationLimiter, createRegistrationTokens } from '../../src/oauth/index.ts'
import { createExemptions } from '../../src/ratelimit/index.ts'
import { COLLECTIONS, createEmbeddedStore } from '../../src/store/index.ts'
import { bearer, createTestApi } from '../support/api.ts'

const ORIGIN = 'https://auth.example.com'
const HOUR_MS = 3_600_000
/** 12:00:00 plus 15 minutes: three quarters of the hour are left. */
const clock = createManualClock(Date.UTC(2026, 10, 27, 12, 15))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const registry = createClientRegistry(store, clock)
const tokens = createRegistrationTokens(store, clock)
const PER_HOUR = 3

type Json = Record<string, unknown>
type Api = Awaited<ReturnType<typeof createTestApi>>
const apis: Api[] = []
async function apiWith(gate: RegistrationGate): Promise<Api> {
  const api = await createTestApi({ extraRoutes: [...registerRoutes(registry, undefined, gate), ...registrationTokenRoutes(tokens)] })
  apis.push(api)
  return api
}
let open: Api
let tokenOnly: Api
let closed: Api
beforeAll(async () => {
  // Each gate its own limiter instance over the one store: what separate nodes are.
  open = await apiWith({ mode: 'open', limiter: createRegistrationLimiter(store, clock, PER_HOUR), isExempt: createExemptions(['192.0.2.0/24']) })
  tokenOnly = await apiWith({ mode: 'token', tokens, limiter: createRegistrationLimiter(store, clock, 100) })
  closed = await apiWith({ mode: 'closed', limiter: createRegistrationLimiter(store, clock, 100) })
})
afterAll(async () => {
  for (const api of apis) await api.close()
  await store.close()
})

const CLIENT = { client_name: 'App', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none' }
function register(api: Api, options: { address?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const body = options.body ?? CLIENT
  return api.app.request(`${ORIGIN}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.address ? { 'x-real-ip': options.address } : {}), ...options.headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}
const clientCount = async () => (await store.list(COLLECTIONS.oauthClients)).length

async function expectError(response: Response, status: number, error: string): Promise<Json> {
  const body = (await response.json()) as Json
  expect([response.status, body.error]).toEqual([status, error])
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description'])
  expect(response.headers.get('cache-control')).toBe('no-store')
  return body
}

describe('OAUTH_REGISTRATIONS_PER_HOUR: registration requests per client address per hour', () => {
  test('RFC 7591 §5: the 4th request from one address in an hour → 429 with Retry-After to the hour\'s end; nothing stored', async () => {
    for (let i = 0; i < PER_HOUR; i++) expect((await register(open, { address: '198.51.100.7' })).status).toBe(201)
    const before = await clientCount()
    const refused = await register(open, { address: '198.51.100.7' })
    const body = await expectError(refused, 429, 'temporarily_unavailable')
    expect(body.error_description).toContain(`at most ${PER_HOUR} registration requests per client address per hour`)
    expect(refused.headers.get('retry-after')).toBe(String(45 * 60))
    expect(refused.headers.get('access-control-allow-origin')).toBe('*')
    expect(await clientCount()).toBe(before)
  })

  test('refused before the body is read: an over-limit request with a broken or oversized body is still 429', async () => {
    for (let i = 0; i < PER_HOUR; i++) await register(open, { address: '198.51.100.8' })
    await expectError(await register(open, { address: '198.51.100.8', body: '{not json' }), 429, 'temporarily_unavailable')
    await expectError(await register(open, { address: '198.51.100.8', body: JSON.stringify({ ...CLIENT, padding: 'x'.repeat(20_000) }) }), 429, 'temporarily_unavailable')
  })

  test('every request counts, refused ones too: three invalid bodies use up the hour', async () => {
    for (let i = 0; i < PER_HOUR; i++) await expectError(await register(open, { address: '198.51.100.9', body: { redirect_uris: ['javascript:x'] } }), 400, 'invalid_redirect_uri')
    await expectError(await register(open, { address: '198.51.100.9' }), 429, 'temporarily_unavailable')
  })

  test('another address is unaffected; an IPv6 client counts by its /64', async () => {
    for (let i = 0; i < PER_HOUR; i++) await register(open, { address: '198.51.100.10' })
    expect((await register(open, { address: '198.51.100.11' })).status).toBe(201)
    // Three addresses of one /64 share a count; the next /64 has its own.
    for (const address of ['2001:db8:1:2::1', '2001:db8:1:2::ffff:2', '2001:db8:1:2:aaaa::3']) expect((await register(open, { address })).status).toBe(201)
    await expectError(await register(open, { address: '2001:db8:1:2::4' }), 429, 'temporarily_unavailable')
    expect((await register(open, { address: '2001:db8:1:3::1' })).status).toBe(201)
  })

  test('RATE_LIMIT_EXEMPT: an exempt address is not counted', async () => {
    for (let i = 0; i < PER_HOUR + 2; i++) expect((await register(open, { address: '192.0.2.1' })).status).toBe(201)
  })

  test('the next hour starts a new count', async () => {
    for (let i = 0; i < PER_HOUR; i++) await register(open, { address: '198.51.100.12' })
    await expectError(await register(open, { address: '198.51.100.12' }), 429, 'temporarily_unavailable')
    clock.advanceMs(HOUR_MS)
    expect((await register(open, { address: '198.51.100.12' })).status).toBe(201)
  })
})

describe('the client metadata cap (16 KiB)', () => {
  const padded = (bytes: number) => {
    const base = JSON.stringify({ ...CLIENT, padding: '' })
    return JSON.stringify({ ...CLIENT, padding: 'x'.repeat(bytes - base.length) })
  }
  test('exactly 16,384 bytes is accepted; one byte more → 413 invalid_client_metadata naming the limit', async () => {
    expect(padded(16_384)).toHaveLength(16_384)
    expect((await register(tokenOnly, { body: padded(16_384), headers: bearer((await tokens.issue({ ttlSec: 60, singleUse: true, createdBy: 't' })).token) })).status).toBe(201)
    const over = await register(tokenOnly, { body: padded(16_385), headers: bearer((await tokens.issue({ ttlSec: 60, singleUse: true, createdBy: 't' })).token) })
    expect((await expectError(over, 413, 'invalid_client_metadata')).error_description).toContain('at most 16384 bytes (16 KiB)')
  })
})

describe('OAUTH_REGISTRATION=closed', () => {
  test('RFC 7591 §3.2.2-style 403 access_denied, whatever the body; nothing stored', async () => {
    const before = await clientCount()
    for (const body of [CLIENT, '{not json']) {
      const response = await register(closed, { body })
      expect((await expectError(response, 403, 'access_denied')).error_description).toContain('OAUTH_REGISTRATION=closed')
    }
    expect(await clientCount()).toBe(before)
  })
})

describe('RFC 8414 §2 metadata', () => {
  test('registration_endpoint is advertised unless registration is closed', async () => {
    const resolveIssuer = createIssuerResolver({ publicUrl: ORIGIN, apiOrigin: () => 'http://127.0.0.1:9000', apiProxyHostnames: async () => [] })
    const metadataOf = async (offersRegistration: boolean | undefined) => {
      const api = await createTestApi({ env: { PUBLIC_URL: ORIGIN }, extraRoutes: oauthMetadataRoutes({ resolveIssuer, ...(offersRegistration === undefined ? {} : { offersRegistration }) }) })
      apis.push(api)
      return (await (await api.app.request('/.well-known/oauth-authorization-server', { headers: { host: new URL(ORIGIN).host } })).json()) as Json
    }
    expect((await metadataOf(undefined)).registration_endpoint).toBe(`${ORIGIN}/register`)
    expect((await metadataOf(true)).registration_endpoint).toBe(`${ORIGIN}/register`)
    const closedMetadata = await metadataOf(false)
    expect(closedMetadata).not.toHaveProperty('registration_endpoint')
    expect(closedMetadata.token_endpoint).toBe(`${ORIGIN}/token`)
  })
})

describe('OAUTH_REGISTRATION=token (RFC 7591 §3 initial access token)', () => {
  let admin: string
  beforeAll(async () => {
    admin = await tokenOnly.issue(['admin'])
  })
  const issueToken = async (body: Json = {}) => {
    const response = await tokenOnly.app.request('/oauth/registration-tokens', { method: 'POST', headers: { ...bearer(admin), 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(response.status).toBe(201)
    expect(response.headers.get('cache-control')).toBe('no-store')
    return (await response.json()) as { initial_access_token: string; single_use: boolean; expires_in: number; expires_at: string }
  }

  test('RFC 6750 §3: no token → 401 invalid_token with a bare Bearer challenge; a wrong one → error="invalid_token"', async () => {
    const missing = await register(tokenOnly)
    await expectError(missing, 401, 'invalid_token')
    expect(missing.headers.get('www-authenticate')).toBe('Bearer')
    for (const authorization of ['Bearer ' + 'A'.repeat(43), 'Bearer not a token', 'Basic dXNlcjpwYXNz']) {
      const wrong = await register(tokenOnly, { headers: { authorization } })
      await expectError(wrong, 401, 'invalid_token')
      expect(wrong.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
    }
  })

  test('a single-use token admits one registration; the second → 401', async () => {
    const issued = await issueToken()
    expect(issued).toMatchObject({ single_use: true, expires_in: 86_400 })
    expect((await register(tokenOnly, { headers: bearer(issued.initial_access_token) })).status).toBe(201)
    await expectError(await register(tokenOnly, { headers: bearer(issued.initial_access_token) }), 401, 'invalid_token')
  })

  test('invalid metadata does not spend it: 400, then the corrected request → 201', async () => {
    const { initial_access_token: token } = await issueToken()
    await expectError(await register(tokenOnly, { headers: bearer(token), body: { redirect_uris: ['http://evil.example/cb'] } }), 400, 'invalid_redirect_uri')
    expect((await register(tokenOnly, { headers: bearer(token) })).status).toBe(201)
  })

  test('of two registrations racing with one single-use token exactly one gets a client', async () => {
    const { initial_access_token: token } = await issueToken()
    const statuses = await Promise.all(Array.from({ length: 6 }, async () => (await register(tokenOnly, { headers: bearer(token) })).status))
    expect(statuses.sort()).toEqual([201, 401, 401, 401, 401, 401])
  })

  test('single_use false admits any number until expires_in has passed', async () => {
    const { initial_access_token: token, expires_at } = await issueToken({ single_use: false, expires_in: 600 })
    expect(expires_at).toBe(new Date(clock.nowMs() + 600_000).toISOString())
    for (let i = 0; i < 3; i++) expect((await register(tokenOnly, { headers: bearer(token) })).status).toBe(201)
    clock.advanceMs(600_000)
    await expectError(await register(tokenOnly, { headers: bearer(token) }), 401, 'invalid_token')
  })

  test('the token is stored only as its hash', async () => {
    const { initial_access_token: token } = await issueToken()
    const dump: string[] = []
    for (const key of await store.list('')) dump.push(key, (await store.get(key))?.value ?? '')
    expect(dump.join('\n')).not.toContain(token)
    expect(await store.list(COLLECTIONS.oauthRegistrationTokens)).not.toHaveLength(0)
  })

  test('POST /oauth/registration-tokens: 401 without a token, 403 for user scope, 400 naming the field', async () => {
    const post = (body: unknown, headers: Record<string, string>) =>
      tokenOnly.app.request('/oauth/registration-tokens', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
    expect((await post({}, {})).status).toBe(401)
    expect((await post({}, bearer(await tokenOnly.issue(['user'])))).status).toBe(403)
    const cases: [unknown, string][] = [
      [{ expires_in: 59 }, 'field expires_in: expected at least 60 seconds'],
      [{ expires_in: 400 * 86_400 }, 'field expires_in: expected at most 31536000 seconds (365 days)'],
      [{ expires_in: '1h' }, 'field expires_in: expected seconds'],
      [{ single_use: 'yes' }, 'field single_use: expected true or false'],
      [{ uses: 3 }, 'field uses: unknown field'],
    ]
    for (const [body, description] of cases) {
      const response = await post(body, bearer(admin))
      expect([response.status, ((await response.json()) as Json).error_description]).toEqual([400, description])
    }
  })
})
