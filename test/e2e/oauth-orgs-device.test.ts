/**
 * GitHub organisation and team allowlists at the device grant (RFC 8628, delegated to GitHub's device
 * flow), end to end: read:org asked of GitHub only for a proxy with a list, the membership checked when
 * the user approves, and again on refresh.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { decodeJwt } from 'jose'
import { startOAuthE2E, type OAuthE2E } from '../support/oauth-e2e.ts'

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'
let t: OAuthE2E
let clientId: string

beforeAll(async () => {
  t = await startOAuthE2E()
  t.github.setMemberships('alice', { orgs: [{ org: 'acme' }] })
  t.github.addUser({ id: 1002, login: 'bob', orgs: [{ org: 'other' }] })
  for (const hostname of ['orgs.test', 'plain.test']) await t.edge.createProxy(hostname, 'http://127.0.0.1:9')
  for (const [hostname, lists] of [['orgs.test', { auth_required_orgs: ['acme'] }], ['plain.test', {}]] as const) {
    expect((await t.edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_enabled: true, oauth_mcp_users: ['*'], ...lists })).status).toBe(200)
  }
  const registered = await fetch(`${t.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:1/cb'], token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT, 'refresh_token'], client_name: 'device test' }),
  })
  expect(registered.status).toBe(201)
  clientId = ((await registered.json()) as { client_id: string }).client_id
})
afterAll(() => t.stop())

const post = (path: string, form: Record<string, string>) =>
  fetch(`${t.issuer}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: clientId, ...form }) })

/** Starts a device authorization, approves it at GitHub as `login`, polls once; the poll's answer and the scope GitHub was asked for. */
async function deviceLogin(resource: string, login: string) {
  const before = t.github.requests.length
  const started = await post('/device/code', { resource, scope: 'mcp' })
  expect(started.status).toBe(200)
  const { device_code: deviceCode, user_code: userCode } = (await started.json()) as { device_code: string; user_code: string }
  const atGitHub = t.github.requests.slice(before).find((request) => request.path === '/login/device/code')
  t.github.approveDevice(userCode, login)
  const polled = await post('/token', { grant_type: DEVICE_GRANT, device_code: deviceCode })
  return { polled, githubScope: atGitHub ? new URLSearchParams(atGitHub.body).get('scope') : null }
}

describe('device grant (RFC 8628)', () => {
  test('a member of the listed organisation gets tokens for the proxy; GitHub was asked for read:org', async () => {
    const { polled, githubScope } = await deviceLogin('https://orgs.test', 'alice')
    expect(githubScope?.split(' ')).toEqual(['read:user', 'user:email', 'read:org'])
    expect(polled.status).toBe(200)
    const tokens = (await polled.json()) as { access_token: string; refresh_token: string }
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: 'https://orgs.test', username: 'alice' })
    // The membership is asked again on refresh, with the GitHub token kept for it.
    const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token })
    expect(refreshed.status).toBe(200)
    t.github.setMemberships('alice', { orgs: [] })
    const { refresh_token: next } = (await refreshed.json()) as { refresh_token: string }
    expect(await (await post('/token', { grant_type: 'refresh_token', refresh_token: next })).json()).toMatchObject({ error: 'invalid_grant' })
    t.github.setMemberships('alice', { orgs: [{ org: 'acme' }] })
  })

  test('RFC 8628 §3.5: a user outside the organisation → access_denied', async () => {
    const { polled, githubScope } = await deviceLogin('https://orgs.test', 'bob')
    expect(githubScope).toContain('read:org')
    expect(polled.status).toBe(400)
    expect(await polled.json()).toMatchObject({ error: 'access_denied' })
  })

  test('a proxy without a list asks GitHub for read:user user:email only', async () => {
    const { polled, githubScope } = await deviceLogin('https://plain.test', 'bob')
    expect(githubScope).toBe('read:user user:email')
    expect(polled.status).toBe(200)
  })
})
