/** POST /device/code and the device grant at /token (issue #4, RFC 8628), end to end against the GitHub fake. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createDeviceGrant, deviceRoutes, tokenRoutes } from '../../src/api/index.ts'
import { createLogger } from '../../src/lib/index.ts'
import {
  accessFor,
  createDeviceAuthorizations,
  createGitHubClient,
  createIssuerResolver,
  parseClientMetadata,
  resolveResource,
  type SiteAccessLists,
  type TokenResult,
} from '../../src/oauth/index.ts'
import { createGitHubFake, type GitHubFake } from '../fixtures/github-fake.ts'
import { createTestApi } from '../support/api.ts'
import { createGrantsFixture, ISSUER, REDIRECT_URI, RESOURCE, type GrantsFixture } from '../support/grants.ts'
import { expectOAuthError } from '../support/token-api.ts'

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
const HOST = new URL(ISSUER).host
const APP = { clientId: 'Iv1.dev', clientSecret: 'dev-secret-92eb5ffee6ae', callbackUrl: `${ISSUER}/callback` }
const USERS = [{ id: 1001, login: 'alice' }, { id: 1002, login: 'bob' }, { id: 1003, login: 'carol' }]
/** mcp.example.com admits alice (mcp) and carol (user only); bob is nobody there. */
const SITE: SiteAccessLists = { requiredUsers: ['alice', 'carol'], adminUsers: null, userUsers: ['carol'], mcpUsers: ['alice'] }
const NOBODY = { adminUsers: [], userUsers: [], mcpUsers: [] }

let f: GrantsFixture
let fake: GitHubFake
let api: Awaited<ReturnType<typeof createTestApi>>
let client: string
let otherClient: string
let codeOnlyClient: string
let noAppResource = false

beforeAll(async () => {
  f = await createGrantsFixture()
  fake = createGitHubFake({ users: USERS, apps: [APP], now: () => f.clock.nowMs() })
  const logger = createLogger('silent')
  const github = createGitHubClient({ webUrl: fake.webUrl, apiUrl: fake.apiUrl, logger })
  const devices = createDeviceAuthorizations({
    store: f.store,
    clock: f.clock,
    logger,
    github,
    githubAppFor: async () => (noAppResource ? null : APP),
    accessFor: async (user, resource) => accessFor(user, resource === RESOURCE ? SITE : null, NOBODY),
    grants: f.grants,
  })
  const resolveIssuer = createIssuerResolver({ publicUrl: ISSUER, apiOrigin: () => 'http://127.0.0.1:9000', apiProxyHostnames: async () => [] })
  api = await createTestApi({
    extraRoutes: [
      ...deviceRoutes({
        devices, registry: f.registry, resolveIssuer, logger,
        resolveResource: async (requested) => resolveResource(requested, { apiResource: ISSUER, proxyResources: (r) => r === RESOURCE }),
      }),
      ...tokenRoutes({ grants: f.grants, registry: f.registry, resolveIssuer, logger, deviceGrant: createDeviceGrant({ devices, logger }) }),
    ],
  })
  const register = async (input: Record<string, unknown>) => {
    const parsed = parseClientMetadata({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT, 'refresh_token'], ...input })
    if (!parsed.ok) throw new Error(parsed.description)
    return (await f.registry.register(parsed.metadata)).client.client_id
  }
  client = await register({})
  otherClient = await register({})
  codeOnlyClient = await register({ grant_types: ['authorization_code'] })
})
afterAll(async () => {
  fake.stop()
  await api.close()
  await f.close()
})

const post = (path: string, body: Record<string, string>) =>
  api.app.request(path, { method: 'POST', headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() })

async function start(body: Record<string, string> = {}) {
  const response = await post('/device/code', { client_id: client, resource: RESOURCE, scope: 'mcp', ...body })
  expect(response.status).toBe(200)
  return (await response.json()) as { device_code: string; user_code: string; verification_uri: string; expires_in: number; interval: number }
}

const poll = (deviceCode: string, clientId = client) => post('/token', { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId })
const githubPolls = () => fake.requests.filter((r) => r.path === '/login/oauth/access_token').length
const wait = (sec: number) => f.clock.advanceMs(sec * 1000)

describe('POST /device/code (RFC 8628 §3.1–§3.2)', () => {
  test('answers our device_code with GitHub\'s user_code and verification_uri, never cached, readable cross-origin', async () => {
    const response = await post('/device/code', { client_id: client, resource: RESOURCE })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    const body = (await response.json()) as Record<string, unknown>
    expect(body).toEqual({
      device_code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), user_code: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/),
      verification_uri: `${fake.webUrl}/login/device`, expires_in: 900, interval: 5,
    })
    // Only the public client id went to GitHub.
    const sent = fake.requests.findLast((r) => r.path === '/login/device/code')
    expect(new URLSearchParams(sent?.body).get('client_id')).toBe(APP.clientId)
    expect(sent?.body).not.toContain('secret')
  })

  test('the store holds neither our device code nor GitHub\'s in plaintext', async () => {
    const { device_code } = await start()
    await poll(device_code)
    const githubCode = new URLSearchParams(fake.requests.findLast((r) => r.path === '/login/oauth/access_token')?.body).get('device_code')!
    const raw = await f.rawStore()
    expect(raw).toContain('oauth/device-codes/')
    expect(raw).not.toContain(device_code)
    expect(raw).not.toContain(githubCode)
  })

  test('RFC 6749 §5.2 errors: invalid_client, unauthorized_client, invalid_target (RFC 8707), invalid_scope', async () => {
    await expectOAuthError(await post('/device/code', { resource: RESOURCE }), 401, 'invalid_client')
    await expectOAuthError(await post('/device/code', { client_id: 'nobody' }), 401, 'invalid_client')
    await expectOAuthError(await post('/device/code', { client_id: codeOnlyClient }), 400, 'unauthorized_client')
    await expectOAuthError(await post('/device/code', { client_id: client, resource: 'https://elsewhere.example.com' }), 400, 'invalid_target')
    await expectOAuthError(await post('/device/code', { client_id: client, scope: 'mcp root' }), 400, 'invalid_scope')
  })

  test('no GitHub app for the resource: 503 server_error', async () => {
    noAppResource = true
    try {
      const response = await post('/device/code', { client_id: client })
      expect(response.status).toBe(503)
      expect(((await response.json()) as { error: string }).error).toBe('server_error')
    } finally {
      noAppResource = false
    }
  })
})

describe('grant_type=device_code at /token (RFC 8628 §3.4–§3.5)', () => {
  test('pending, then approved: tokens for the resource with the requested scope; the code is then spent', async () => {
    const { device_code, user_code } = await start()
    await expectOAuthError(await poll(device_code), 400, 'authorization_pending')
    wait(5)
    fake.approveDevice(user_code, 'alice')
    const response = await poll(device_code)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const tokens = (await response.json()) as TokenResult
    expect(tokens.scope).toBe('mcp')
    expect(await f.verify(tokens.access_token)).toMatchObject({ ok: true, claims: { iss: ISSUER, aud: RESOURCE, clientId: client, username: 'alice', sub: '1001' } })
    // Refresh works as for any family.
    expect((await post('/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client })).status).toBe(200)
    wait(5)
    await expectOAuthError(await poll(device_code), 400, 'invalid_grant')
  })

  test('slow_down: polling faster than the interval adds 5 s for good, enforced by us before GitHub is asked', async () => {
    const { device_code } = await start()
    await expectOAuthError(await poll(device_code), 400, 'authorization_pending')
    const before = githubPolls()
    await expectOAuthError(await poll(device_code), 400, 'slow_down')
    expect(githubPolls()).toBe(before)
    // The interval is now 10 s from the last (too fast) poll: 5 s later is still too fast.
    wait(5)
    await expectOAuthError(await poll(device_code), 400, 'slow_down')
    wait(15)
    await expectOAuthError(await poll(device_code), 400, 'authorization_pending')
    expect(githubPolls()).toBe(before + 1)
  })

  test('the user denies at GitHub: access_denied, and the code is gone', async () => {
    const { device_code, user_code } = await start()
    fake.denyDevice(user_code)
    await expectOAuthError(await poll(device_code), 400, 'access_denied')
    wait(5)
    await expectOAuthError(await poll(device_code), 400, 'invalid_grant')
  })

  test('expired by our own clock: expired_token without asking GitHub', async () => {
    const { device_code, expires_in } = await start()
    wait(expires_in)
    const before = githubPolls()
    await expectOAuthError(await poll(device_code), 400, 'expired_token')
    expect(githubPolls()).toBe(before)
  })

  test('expired at GitHub (its clock ahead of ours): expired_token relayed', async () => {
    const { device_code } = await start()
    fake.advance(900)
    await expectOAuthError(await poll(device_code), 400, 'expired_token')
  })

  test('another client\'s device code: invalid_grant, and the owner is not slowed down by it', async () => {
    const { device_code, user_code } = await start()
    await expectOAuthError(await poll(device_code, otherClient), 400, 'invalid_grant')
    fake.approveDevice(user_code, 'alice')
    expect((await poll(device_code)).status).toBe(200)
  })

  test('a user the resource does not admit: access_denied; one without a requested scope: access_denied', async () => {
    const bob = await start()
    fake.approveDevice(bob.user_code, 'bob')
    await expectOAuthError(await poll(bob.device_code), 400, 'access_denied')
    // carol is admitted but holds only "user"; this client asked for "mcp".
    const carol = await start()
    fake.approveDevice(carol.user_code, 'carol')
    await expectOAuthError(await poll(carol.device_code), 400, 'access_denied')
  })

  test('scopes are the requested ones the user holds (requested ∩ granted)', async () => {
    const { device_code, user_code } = await start({ scope: 'user mcp' })
    fake.approveDevice(user_code, 'carol')
    const tokens = (await (await poll(device_code)).json()) as TokenResult
    expect(tokens.scope).toBe('user')
    expect(await f.verify(tokens.access_token)).toMatchObject({ ok: true })
  })

  test('unknown or malformed device_code → invalid_grant; missing → invalid_request', async () => {
    await expectOAuthError(await poll('x'.repeat(43)), 400, 'invalid_grant')
    await expectOAuthError(await poll('../../etc'), 400, 'invalid_grant')
    await expectOAuthError(await post('/token', { grant_type: DEVICE_GRANT, client_id: client }), 400, 'invalid_request')
  })
})
