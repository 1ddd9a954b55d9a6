/**
 * `oauth-https-proxy login` on a server whose client registration is closed (OAUTH_REGISTRATION=closed):
 * the CLI signs in as the server's first-party client `oauth-https-proxy-cli`, which exists whatever the
 * registration mode, so nothing is registered. A real `serve` process with the GitHub fake as its
 * GitHub; the CLI spawned as a user runs it. Then an API command, a silent refresh after the access
 * token expires (2 s) and logout, all with that client; its tokens are for the API alone.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cleanupSpawned } from '../support/serve.ts'
import { stopCliProcesses } from './cli-process.ts'
import { startDeviceLoginServer, type DeviceLoginServer } from './device-login.ts'

const CLI_CLIENT_ID = 'oauth-https-proxy-cli'

let edge: DeviceLoginServer
let adminToken: string

beforeAll(async () => {
  edge = await startDeviceLoginServer({ OAUTH_REGISTRATION: 'closed', OAUTH_ACCESS_TOKEN_LIFETIME: '2s' })
  adminToken = await edge.issueAdminToken()
}, 30_000)
afterAll(async () => {
  await stopCliProcesses()
  await cleanupSpawned()
  await edge?.fake.stop()
})

const api = (path: string, init: RequestInit = {}) => fetch(`${edge.publicUrl}${path}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...init.headers } })
const deviceCode = (form: Record<string, string>) =>
  fetch(`${edge.publicUrl}/device/code`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) })

describe('login with OAUTH_REGISTRATION=closed', () => {
  test('registration really is closed: POST /register → 403 access_denied, and the metadata offers none', async () => {
    const refused = await fetch(`${edge.publicUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'x', token_endpoint_auth_method: 'none', grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], response_types: [] }),
    })
    expect([refused.status, ((await refused.json()) as { error: string }).error]).toEqual([403, 'access_denied'])
    const metadata = (await (await fetch(`${edge.publicUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
    expect(metadata.registration_endpoint).toBeUndefined()
  })

  test('login: the device flow approved at GitHub, as the first-party client; an API command then works; no client was registered', async () => {
    const result = await edge.login(edge.publicUrl)
    expect(result.stderr).toContain(`✓ Signed in to ${edge.publicUrl} as alice (scopes: admin)`)
    expect(result.code).toBe(0)
    expect(edge.stored().servers[edge.publicUrl]).toMatchObject({ client_id: CLI_CLIENT_ID, resource: edge.publicUrl })
    const info = await edge.cli(['system', 'info', '--url', edge.publicUrl, '--json'])
    expect(info.code).toBe(0)
    expect(JSON.parse(info.stdout)).toMatchObject({ you: { username: 'alice', scopes: ['admin'] } })
    expect(await (await api('/oauth/clients')).json()).toEqual([])
  }, 30_000)

  test('silent refresh with the first-party client: after the access token expires a command still works, the tokens rotated', async () => {
    const before = edge.stored().servers[edge.publicUrl]!.tokens!
    await Bun.sleep(2_100) // OAUTH_ACCESS_TOKEN_LIFETIME=2s: a real expiry.
    const result = await edge.cli(['system', 'info', '--url', edge.publicUrl])
    expect([result.code, result.stderr]).toEqual([0, ''])
    const after = edge.stored().servers[edge.publicUrl]!.tokens!
    expect(after.access_token).not.toBe(before.access_token)
    expect(after.refresh_token).not.toBe(before.refresh_token)
  }, 30_000)

  test("the CLI's client gets tokens for the API alone (RFC 8707 §2): a device flow for a proxy's resource → 400 invalid_target", async () => {
    const created = await api('/proxy/targets', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ proxy_hostname: 'app.test', target_url: 'http://127.0.0.1:9', auth_enabled: true }),
    })
    expect(created.status).toBe(201)
    const refused = await deviceCode({ client_id: CLI_CLIENT_ID, scope: 'user', resource: 'https://app.test' })
    expect([refused.status, ((await refused.json()) as { error: string }).error]).toEqual([400, 'invalid_target'])
    // Not an unknown resource: a registered-style request for the API itself is admitted up to GitHub.
    expect((await deviceCode({ client_id: CLI_CLIENT_ID, scope: 'user', resource: edge.publicUrl })).status).toBe(200)
  })

  test('logout revokes with the first-party client: the refresh token is dead, a command then exits 3', async () => {
    const { refresh_token: refreshToken } = edge.stored().servers[edge.publicUrl]!.tokens!
    const result = await edge.cli(['logout', '--url', edge.publicUrl])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(`✓ Signed out of ${edge.publicUrl} (tokens revoked)`)
    const refresh = await fetch(`${edge.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken!, client_id: CLI_CLIENT_ID }),
    })
    expect([refresh.status, ((await refresh.json()) as { error: string }).error]).toEqual([400, 'invalid_grant'])
    expect((await edge.cli(['system', 'info', '--url', edge.publicUrl])).code).toBe(3)
  }, 30_000)

  test('no token ever appeared on stdout or stderr', () => {
    const texts = edge.outputs.join('\n')
    expect(edge.seenTokens.size).toBeGreaterThanOrEqual(4)
    for (const token of edge.seenTokens) expect(texts).not.toContain(token)
  })
})
