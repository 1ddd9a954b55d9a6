/**
 * GitHub organisation and team allowlists (auth_required_orgs, auth_required_teams), end to end through the
 * whole server and the GitHub fake: checked at /callback and on every refresh (RFC 6749 §6: access may be
 * withdrawn), with `read:org` asked of GitHub only for a proxy that lists organisations or teams.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { decodeJwt } from 'jose'
import { driveBrowser, startOAuthE2E, type OAuthE2E } from '../support/oauth-e2e.ts'

const REDIRECT_URI = 'http://127.0.0.1:33419/cb'
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')

let t: OAuthE2E
let clientId: string

async function auth(hostname: string, fields: Record<string, unknown>) {
  const response = await t.edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_enabled: true, oauth_mcp_users: ['*'], ...fields })
  expect(response.status).toBe(200)
}

beforeAll(async () => {
  t = await startOAuthE2E()
  t.github.setMemberships('alice', { orgs: [{ org: 'acme' }], teams: [{ org: 'acme', slug: 'ops' }] })
  t.github.addUser({ id: 1002, login: 'bob', orgs: [{ org: 'other' }, { org: 'acme', state: 'pending' }] })
  t.github.addUser({ id: 1003, login: 'carol', orgs: [{ org: 'acme' }] })
  t.github.addUser({ id: 1007, login: 'gina' })
  for (const hostname of ['orgs.test', 'teams.test', 'plain.test', 'later.test']) await t.edge.createProxy(hostname, 'http://127.0.0.1:9')
  await auth('orgs.test', { auth_required_orgs: ['ACME'] })
  await auth('teams.test', { auth_required_teams: ['acme/ops'] })
  await auth('plain.test', {})
  await auth('later.test', {})
  const registered = await fetch(`${t.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], client_name: 'orgs test' }),
  })
  expect(registered.status).toBe(201)
  clientId = ((await registered.json()) as { client_id: string }).client_id
})
afterAll(() => t.stop())

function authorizationUrl(resource: string): URL {
  const url = new URL(`${t.issuer}/authorize`)
  for (const [name, value] of Object.entries({
    response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 'st', scope: 'mcp', resource,
  })) url.searchParams.set(name, value)
  return url
}

/** Signs in as `login` for `resource`; the final redirect (with code or error) and the scope GitHub was asked for. */
async function signIn(resource: string, login: string) {
  const before = t.github.requests.length
  const run = await driveBrowser(t, authorizationUrl(resource), login)
  const atGitHub = t.github.requests.slice(before).find((request) => request.path === '/login/oauth/authorize')
  return { final: run.final, githubScope: atGitHub ? new URL(atGitHub.url).searchParams.get('scope') : null }
}

const token = (form: Record<string, string>) =>
  fetch(`${t.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: clientId, ...form }) })

async function tokensFor(resource: string, login = 'alice') {
  const { final } = await signIn(resource, login)
  const code = final.searchParams.get('code')
  if (!code) throw new Error(`no code: ${final.href}`)
  const response = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: VERIFIER })
  expect(response.status).toBe(200)
  return (await response.json()) as { access_token: string; refresh_token: string; scope: string }
}

const refresh = (refreshToken: string) => token({ grant_type: 'refresh_token', refresh_token: refreshToken })

describe('at login (/callback)', () => {
  test('a member of a listed organisation signs in: GitHub was asked for read:org, the token is for the proxy', async () => {
    const { final, githubScope } = await signIn('https://orgs.test', 'alice')
    expect(githubScope?.split(' ')).toEqual(['read:user', 'user:email', 'read:org'])
    expect(final.searchParams.get('code')).not.toBeNull()
    const tokens = await tokensFor('https://orgs.test')
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: 'https://orgs.test', username: 'alice', scope: 'mcp' })
  })

  test('RFC 6749 §4.1.2.1: only invited (pending), or in no organisation → access_denied, with iss (RFC 9207)', async () => {
    for (const login of ['bob', 'gina']) {
      const { final, githubScope } = await signIn('https://orgs.test', login)
      expect(githubScope).toContain('read:org')
      expect(final.searchParams.get('error')).toBe('access_denied')
      expect(final.searchParams.get('iss')).toBe(t.issuer)
      expect(final.searchParams.get('code')).toBeNull()
    }
  })

  test('teams: a member of the listed team signs in; a member of the organisation outside the team is refused', async () => {
    const alice = await signIn('https://teams.test', 'alice')
    expect(alice.githubScope).toContain('read:org')
    expect(alice.final.searchParams.get('code')).not.toBeNull()
    const carol = await signIn('https://teams.test', 'carol')
    expect(carol.final.searchParams.get('error')).toBe('access_denied')
  })

  test('RFC 6749 §4.1.2.1: GitHub not answering the membership check → temporarily_unavailable, not access_denied', async () => {
    t.github.failNext('orgs', 503)
    const { final } = await signIn('https://orgs.test', 'alice')
    expect(final.searchParams.get('error')).toBe('temporarily_unavailable')
    expect(final.searchParams.get('code')).toBeNull()
  })

  test('read:org is asked only where a list is set: a proxy without one, and the API, ask for read:user user:email', async () => {
    expect((await signIn('https://plain.test', 'alice')).githubScope).toBe('read:user user:email')
    expect((await signIn(t.issuer, 'alice')).githubScope).toBe('read:user user:email')
  })
})

describe('on every refresh', () => {
  test('while a member the refresh works; after leaving the organisation it is refused (invalid_grant) and the family ends', async () => {
    t.github.addUser({ id: 1004, login: 'dave', orgs: [{ org: 'acme' }] })
    const first = await tokensFor('https://orgs.test', 'dave')
    const second = await refresh(first.refresh_token)
    expect(second.status).toBe(200)
    const { refresh_token: next } = (await second.json()) as { refresh_token: string }
    t.github.setMemberships('dave', { orgs: [] })
    const refused = await refresh(next)
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({ error: 'invalid_grant' })
    const families = await t.edge.api('GET', '/oauth/tokens?username=dave')
    expect(await families.json()).toEqual([])
    // Rejoining does not revive the ended family: a new sign-in is needed.
    t.github.setMemberships('dave', { orgs: [{ org: 'acme' }] })
    expect((await refresh(next)).status).toBe(400)
  })

  test('a team left: the same', async () => {
    t.github.addUser({ id: 1005, login: 'erin', orgs: [{ org: 'acme' }], teams: [{ org: 'acme', slug: 'ops' }] })
    const first = await tokensFor('https://teams.test', 'erin')
    t.github.setMemberships('erin', { teams: [] })
    expect(await (await refresh(first.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' })
  })

  test('the user revoked our app at GitHub (401 on the membership check) → the refresh is refused', async () => {
    t.github.addUser({ id: 1006, login: 'frank', orgs: [{ org: 'acme' }] })
    const first = await tokensFor('https://orgs.test', 'frank')
    t.github.revokeTokens('frank')
    expect(await (await refresh(first.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' })
  })

  test('GitHub unreachable: the refresh fails with 503 temporarily_unavailable and a Retry-After (RFC 9110 §15.6.4) but ends nothing; the same refresh token works once GitHub answers', async () => {
    const first = await tokensFor('https://orgs.test', 'alice')
    t.github.failNext('orgs', 502)
    const failed = await refresh(first.refresh_token)
    expect(failed.status).toBe(503)
    expect(failed.headers.get('retry-after')).toBe('30')
    expect(await failed.json()).toMatchObject({ error: 'temporarily_unavailable' })
    expect((await refresh(first.refresh_token)).status).toBe(200)
  })

  test('a grant made before the proxy listed organisations kept no GitHub token: its next refresh is refused, and a new sign-in asks for read:org', async () => {
    const first = await tokensFor('https://later.test', 'alice')
    expect((await refresh(first.refresh_token)).status).toBe(200)
    const latest = await tokensFor('https://later.test', 'alice')
    await auth('later.test', { auth_required_orgs: ['acme'] })
    expect(await (await refresh(latest.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' })
    expect((await signIn('https://later.test', 'alice')).githubScope).toContain('read:org')
  })

  test('the GitHub token is kept only sealed: not in the store, the family listing or the access token', async () => {
    const before = t.github.requests.length
    const tokens = await tokensFor('https://orgs.test', 'alice')
    const githubTokens = t.github.requests.slice(before).flatMap((request) => (request.headers.authorization?.startsWith('Bearer gho_') ? [request.headers.authorization.slice(7)] : []))
    expect(githubTokens.length).toBeGreaterThan(0)
    const store = t.edge.server.store
    const dump: string[] = []
    for (const key of await store.list('')) dump.push(key, (await store.get(key))?.value ?? '')
    const listing = await (await t.edge.api('GET', '/oauth/tokens?username=alice')).text()
    for (const secret of new Set(githubTokens)) {
      expect(dump.join('\n')).not.toContain(secret)
      expect(listing).not.toContain(secret)
      expect(tokens.access_token).not.toContain(secret)
      expect(JSON.stringify(decodeJwt(tokens.access_token))).not.toContain(secret)
    }
  })
})
