/**
 * Issue #13 at the token endpoint and the admin views: introspection (RFC 7662) answers a client only
 * about its own tokens unless an admin marked it a resource server (PATCH /oauth/clients/{id}); every
 * token issued records the client's use, which ends an unused client's expiry (OAUTH_UNUSED_CLIENT_TTL).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { clientAdminRoutes, registerRoutes, tokenRoutes, type TokenRoutesDeps } from '../../src/api/index.ts'
import { createLogger } from '../../src/lib/index.ts'
import { createClientRegistry, createIssuerResolver, parseClientMetadata, type ClientRegistry, type TokenResult } from '../../src/oauth/index.ts'
import { StoreUnavailableError } from '../../src/store/index.ts'
import { bearer, createTestApi } from '../support/api.ts'
import { createGrantsFixture, ISSUER, REDIRECT_URI, VERIFIER, type GrantsFixture } from '../support/grants.ts'
import { basic, expectOAuthError } from '../support/token-api.ts'

const TTL_SEC = 3600
const HOST = new URL(ISSUER).host
let f: GrantsFixture
let registry: ClientRegistry
let api: Awaited<ReturnType<typeof createTestApi>>
/** The same routes, with an admin deleting the client at the moment its tokens are issued. */
let racing: Awaited<ReturnType<typeof createTestApi>>
/** The same routes, with the store gone at the moment the use is recorded. */
let storeDown: Awaited<ReturnType<typeof createTestApi>>
let admin: string
const logger = createLogger('silent')

beforeAll(async () => {
  f = await createGrantsFixture()
  registry = createClientRegistry(f.store, f.clock, { unusedClientTtlSec: TTL_SEC })
  const resolveIssuer = createIssuerResolver({ publicUrl: ISSUER, apiOrigin: () => 'http://127.0.0.1:9000', apiProxyHostnames: async () => [] })
  const routes = (clients: TokenRoutesDeps['registry']) => [...tokenRoutes({ grants: f.grants, registry: clients, resolveIssuer, logger }), ...clientAdminRoutes(registry, f.grants), ...registerRoutes(registry)]
  api = await createTestApi({ extraRoutes: routes(registry) })
  racing = await createTestApi({
    extraRoutes: routes({
      authenticate: (...args) => registry.authenticate(...args),
      async recordUse(client) {
        await registry.delete(client.client_id)
        return registry.recordUse(client)
      },
    }),
  })
  storeDown = await createTestApi({
    extraRoutes: routes({
      authenticate: (...args) => registry.authenticate(...args),
      recordUse: async () => Promise.reject(new StoreUnavailableError('embedded', new Error('disk gone'))),
    }),
  })
  admin = await api.issue(['admin'])
})
afterAll(async () => {
  await api.close()
  await racing.close()
  await storeDown.close()
  f.close()
})

async function register(method: 'none' | 'client_secret_basic') {
  const parsed = parseClientMetadata({ client_name: 'App', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: method, grant_types: ['authorization_code', 'refresh_token'] })
  if (!parsed.ok) throw new Error(parsed.description)
  const registered = await registry.register(parsed.metadata)
  return { id: registered.client.client_id, secret: registered.clientSecret ?? '' }
}
type Client = Awaited<ReturnType<typeof register>>
const auth = (client: Client) => (client.secret ? basic(client.id, client.secret) : {})
const idParam = (client: Client): Record<string, string> => (client.secret ? {} : { client_id: client.id })

const post = (app: typeof api, path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
  app.app.request(path, { method: 'POST', headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() })

async function tokensFor(client: Client, app = api): Promise<Response> {
  const code = await f.codeFor(client.id)
  return post(app, '/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: VERIFIER, ...idParam(client) }, auth(client))
}
async function tokens(client: Client): Promise<TokenResult> {
  const response = await tokensFor(client)
  expect(response.status).toBe(200)
  return (await response.json()) as TokenResult
}
const introspect = async (as: Client, token: string) => (await post(api, '/introspect', { token }, auth(as))).text()
const adminRequest = (method: string, path: string, body?: unknown, token: string | null = admin) =>
  api.app.request(path, { method, headers: { ...(token === null ? {} : bearer(token)), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
const adminView = async (clientId: string) => (await (await adminRequest('GET', `/oauth/clients/${clientId}`)).json()) as Record<string, unknown>

describe('RFC 7662 introspection across clients', () => {
  test("RFC 7662 §4: another client's access and refresh token → exactly {\"active\":false}; the owner's own → active", async () => {
    const owner = await register('client_secret_basic')
    const stranger = await register('client_secret_basic')
    const pair = await tokens(owner)
    for (const token of [pair.access_token, pair.refresh_token]) {
      expect(await introspect(stranger, token)).toBe('{"active":false}')
      expect(JSON.parse(await introspect(owner, token))).toMatchObject({ active: true, client_id: owner.id, username: 'alice' })
    }
  })

  test('a client an admin marks as a resource server learns about every client\'s tokens; unmarked, no longer', async () => {
    const owner = await register('none')
    const resourceServer = await register('client_secret_basic')
    const pair = await tokens(owner)
    expect(await introspect(resourceServer, pair.access_token)).toBe('{"active":false}')

    const marked = await adminRequest('PATCH', `/oauth/clients/${resourceServer.id}`, { resource_server: true })
    expect(marked.status).toBe(200)
    expect(await marked.json()).toMatchObject({ client_id: resourceServer.id, resource_server: true, last_used_at: null })
    expect(JSON.parse(await introspect(resourceServer, pair.access_token))).toMatchObject({ active: true, client_id: owner.id })
    const listed = (await (await adminRequest('GET', '/oauth/clients')).json()) as { client_id: string; resource_server: boolean }[]
    expect(listed.find((c) => c.client_id === resourceServer.id)?.resource_server).toBe(true)
    expect(listed.find((c) => c.client_id === owner.id)?.resource_server).toBe(false)

    expect((await adminRequest('PATCH', `/oauth/clients/${resourceServer.id}`, { resource_server: false })).status).toBe(200)
    expect(await introspect(resourceServer, pair.access_token)).toBe('{"active":false}')
  })

  test('PATCH /oauth/clients/{id}: 401 without a token, 403 for user scope, 400 naming the field, 404 unknown, 409 for a public client', async () => {
    const confidential = await register('client_secret_basic')
    const publicClient = await register('none')
    expect((await adminRequest('PATCH', `/oauth/clients/${confidential.id}`, { resource_server: true }, null)).status).toBe(401)
    expect((await adminRequest('PATCH', `/oauth/clients/${confidential.id}`, { resource_server: true }, await api.issue(['user']))).status).toBe(403)
    for (const [body, description] of [
      [{ resource_server: 'yes' }, 'field resource_server: expected true or false'],
      [{ resource_server: true, client_name: 'x' }, 'field client_name: unknown field'],
      [{}, 'field resource_server: is required'],
    ] as const) {
      const response = await adminRequest('PATCH', `/oauth/clients/${confidential.id}`, body)
      expect([response.status, ((await response.json()) as { error_description: string }).error_description]).toEqual([400, description])
    }
    expect((await adminRequest('PATCH', '/oauth/clients/AAAAAAAAAAAAAAAAAAAAAA', { resource_server: true })).status).toBe(404)
    const conflict = await adminRequest('PATCH', `/oauth/clients/${publicClient.id}`, { resource_server: true })
    expect(conflict.status).toBe(409)
    expect(((await conflict.json()) as { error_description: string }).error_description).toContain('RFC 7662 §2.1')
    // Unmarking a public client is harmless and allowed.
    expect((await adminRequest('PATCH', `/oauth/clients/${publicClient.id}`, { resource_server: false })).status).toBe(200)
  })
})

describe('the token endpoint records each client\'s use', () => {
  test('a code exchange sets last_used_at and ends the client\'s expiry; an unused client is gone after the TTL', async () => {
    const used = await register('none')
    const unused = await register('none')
    expect(await adminView(unused.id)).toMatchObject({ last_used_at: null, expires_at: Math.floor(f.clock.nowMs() / 1000) + TTL_SEC })
    await tokens(used)
    expect(await adminView(used.id)).toMatchObject({ last_used_at: Math.floor(f.clock.nowMs() / 1000), expires_at: null })
    f.clock.advanceMs(TTL_SEC * 1000)
    expect((await adminRequest('GET', `/oauth/clients/${unused.id}`)).status).toBe(404)
    expect((await adminRequest('GET', `/oauth/clients/${used.id}`)).status).toBe(200)
    const listed = ((await (await adminRequest('GET', '/oauth/clients')).json()) as { client_id: string }[]).map((c) => c.client_id)
    expect(listed).toContain(used.id)
    expect(listed).not.toContain(unused.id)
  })

  test('a refresh a minute later moves last_used_at; one within the minute does not', async () => {
    const client = await register('none')
    let pair = await tokens(client)
    const first = (await adminView(client.id)).last_used_at as number
    const refresh = async () => {
      const response = await post(api, '/token', { grant_type: 'refresh_token', refresh_token: pair.refresh_token, client_id: client.id })
      expect(response.status).toBe(200)
      pair = (await response.json()) as TokenResult
    }
    f.clock.advanceMs(30_000)
    await refresh()
    expect((await adminView(client.id)).last_used_at).toBe(first)
    f.clock.advanceMs(30_000)
    await refresh()
    expect((await adminView(client.id)).last_used_at).toBe(first + 60)
  })

  test('RFC 6749 §5.2: a client deleted while its tokens were issued gets invalid_client, and the tokens are revoked', async () => {
    const client = await register('none')
    await expectOAuthError(await tokensFor(client, racing), 401, 'invalid_client')
    expect(await f.grants.listClientFamilies(client.id)).toEqual([])
  })

  test('a use that cannot be recorded: a first one fails the request (503), a later one is only logged', async () => {
    const fresh = await register('none')
    const failed = await tokensFor(fresh, storeDown)
    expect(failed.status).toBe(503)
    expect(failed.headers.get('retry-after')).toBeString()
    const used = await register('none')
    await tokens(used)
    expect((await tokensFor(used, storeDown)).status).toBe(200)
  })
})
