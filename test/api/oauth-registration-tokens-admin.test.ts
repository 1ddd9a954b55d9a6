/**
 * Initial access tokens (RFC 7591 §3, OAUTH_REGISTRATION=token) as an admin manages them: GET
 * /oauth/registration-tokens lists them without the token or its hash (an id, the label, who issued it
 * when, the expiry, the uses), DELETE /oauth/registration-tokens/{id} stops one at once. The API's
 * conventions: 401 without a token, 403 with a user token, 400 naming the field, 404 for an unknown
 * id (there is no conflict to answer 409 for). Over the in-process API with POST /register in token mode.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { registerRoutes, registrationTokenRoutes } from '../../src/api/index.ts'
import { createManualClock, sha256Hex } from '../../src/lib/index.ts'
import { createClientRegistry, createRegistrationTokens } from '../../src/oauth/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'
import { bearer, createTestApi } from '../support/api.ts'

const ORIGIN = 'https://auth.example.com'
const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const tokens = createRegistrationTokens(store, clock)
const CLIENT = { client_name: 'App', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none' }

type Json = Record<string, unknown>
type View = { id: string; label: string | null; single_use: boolean; uses: number; created_at: string; created_by: string; expires_at: string }
let api: Awaited<ReturnType<typeof createTestApi>>
let admin: string
let user: string

beforeAll(async () => {
  api = await createTestApi({ extraRoutes: [...registerRoutes(createClientRegistry(store, clock), undefined, { mode: 'token', tokens }), ...registrationTokenRoutes(tokens)] })
  admin = await api.issue(['admin'])
  user = await api.issue(['user'])
})
afterAll(async () => {
  await api.close()
  await store.close()
})

const request = (method: string, path: string, options: { token?: string; body?: unknown } = {}) =>
  api.app.request(`${ORIGIN}${path}`, {
    method,
    headers: { ...(options.token ? bearer(options.token) : {}), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })

async function issue(body: Json = {}): Promise<{ initial_access_token: string; id: string }> {
  const response = await request('POST', '/oauth/registration-tokens', { token: admin, body })
  expect(response.status).toBe(201)
  return (await response.json()) as { initial_access_token: string; id: string }
}

async function list(): Promise<View[]> {
  const response = await request('GET', '/oauth/registration-tokens', { token: admin })
  expect(response.status).toBe(200)
  expect(response.headers.get('cache-control')).toBe('no-store')
  return (await response.json()) as View[]
}

const register = (token: string) =>
  api.app.request(`${ORIGIN}/register`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify(CLIENT) })

const errorOf = async (response: Response) => [response.status, ((await response.json()) as Json).error_description]

describe('GET /oauth/registration-tokens', () => {
  test('each token by its id, label, issuer and time, expiry and uses; never the token or its hash', async () => {
    const issued = await issue({ label: 'CI runner', expires_in: 3600 })
    expect(issued.id).toMatch(/^[0-9a-f]{16}$/)
    const response = await request('GET', '/oauth/registration-tokens', { token: admin })
    const text = await response.text()
    expect(text).not.toContain(issued.initial_access_token)
    expect(text).not.toContain(sha256Hex(issued.initial_access_token))
    const listed = (JSON.parse(text) as View[]).find((token) => token.id === issued.id)
    expect(listed).toEqual({
      id: issued.id,
      label: 'CI runner',
      single_use: true,
      uses: 0,
      created_at: new Date(clock.nowMs()).toISOString(),
      created_by: 'alice',
      expires_at: new Date(clock.nowMs() + 3_600_000).toISOString(),
    })
  })

  test('uses count the registrations admitted; a spent single-use token stays listed (uses 1) and admits no more', async () => {
    const reusable = await issue({ single_use: false, label: 'fleet' })
    const once = await issue()
    for (let i = 0; i < 3; i++) expect((await register(reusable.initial_access_token)).status).toBe(201)
    expect((await register(once.initial_access_token)).status).toBe(201)
    expect((await register(once.initial_access_token)).status).toBe(401)
    const byId = new Map((await list()).map((token) => [token.id, token]))
    expect(byId.get(reusable.id)).toMatchObject({ label: 'fleet', single_use: false, uses: 3 })
    expect(byId.get(once.id)).toMatchObject({ label: null, single_use: true, uses: 1 })
  })

  test('oldest first; an expired token is no longer listed', async () => {
    const first = await issue({ expires_in: 60 })
    clock.advanceMs(1_000)
    const second = await issue({ expires_in: 120 })
    const ids = (await list()).map((token) => token.id)
    expect(ids.indexOf(first.id)).toBeLessThan(ids.indexOf(second.id))
    clock.advanceMs(60_000)
    const after = (await list()).map((token) => token.id)
    expect(after).not.toContain(first.id)
    expect(after).toContain(second.id)
  })
})

describe('DELETE /oauth/registration-tokens/{id}', () => {
  test('204: gone from the list, and the token admits no registration from then on; again → 404', async () => {
    const issued = await issue({ single_use: false })
    expect((await register(issued.initial_access_token)).status).toBe(201)
    expect((await request('DELETE', `/oauth/registration-tokens/${issued.id}`, { token: admin })).status).toBe(204)
    expect((await list()).map((token) => token.id)).not.toContain(issued.id)
    expect((await register(issued.initial_access_token)).status).toBe(401)
    expect(await errorOf(await request('DELETE', `/oauth/registration-tokens/${issued.id}`, { token: admin }))).toEqual([404, `no registration token ${issued.id} (unknown, expired or deleted)`])
  })

  test('404 for an id no token has, or an expired token', async () => {
    expect((await request('DELETE', '/oauth/registration-tokens/0123456789abcdef', { token: admin })).status).toBe(404)
    const expiring = await issue({ expires_in: 60 })
    clock.advanceMs(61_000)
    expect((await request('DELETE', `/oauth/registration-tokens/${expiring.id}`, { token: admin })).status).toBe(404)
  })
})

describe('the API conventions', () => {
  test('401 without a token, 403 with a user token, on GET, POST and DELETE; nothing deleted', async () => {
    const issued = await issue()
    const calls = [
      ['GET', '/oauth/registration-tokens'],
      ['POST', '/oauth/registration-tokens'],
      ['DELETE', `/oauth/registration-tokens/${issued.id}`],
    ] as const
    for (const [method, path] of calls) {
      const body = method === 'POST' ? {} : undefined
      expect({ method, status: (await request(method, path, { body })).status }).toEqual({ method, status: 401 })
      expect({ method, status: (await request(method, path, { token: user, body })).status }).toEqual({ method, status: 403 })
    }
    expect((await list()).map((token) => token.id)).toContain(issued.id)
  })

  test('400 naming the field: a malformed id, a bad label', async () => {
    for (const id of ['not-an-id', '0123456789ABCDEF', '0123456789abcde', `${'a'.repeat(64)}`]) {
      expect(await errorOf(await request('DELETE', `/oauth/registration-tokens/${id}`, { token: admin }))).toEqual([400, 'path parameter id: expected the 16 hex digits of an id from GET /oauth/registration-tokens'])
    }
    const cases: [unknown, string][] = [
      ['', 'field label: expected at least one character'],
      ['x'.repeat(201), 'field label: expected at most 200 characters'],
      ['line\nbreak', 'field label: expected no control characters'],
      ['\u001b[31mred', 'field label: expected no control characters'],
      [42, 'field label: expected text'],
    ]
    for (const [label, description] of cases) {
      expect(await errorOf(await request('POST', '/oauth/registration-tokens', { token: admin, body: { label } }))).toEqual([400, description])
    }
  })

  test('the OpenAPI document describes GET and DELETE, admin only', async () => {
    const document = (await (await api.app.request(`${ORIGIN}/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>> }
    expect(Object.keys(document.paths['/oauth/registration-tokens']!).sort()).toEqual(['get', 'post'])
    expect(Object.keys(document.paths['/oauth/registration-tokens/{id}']!)).toEqual(['delete'])
    expect(Object.keys(document.paths['/oauth/registration-tokens/{id}']!.delete!.responses)).toEqual(expect.arrayContaining(['204', '400', '401', '403', '404']))
  })
})
