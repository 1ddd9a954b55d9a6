/**
 * A redirect-mode proxy's own browser client (`proxy:<hostname>`) at /authorize and /token, through the
 * whole server: exactly `<origin>/_oauth/callback` on an origin the proxy serves (RFC 6749 §3.1.2.3),
 * anything else a page and never a redirect (§3.1.2.4, §4.1.2.1), a public client with PKCE, tokens only
 * for that proxy's origins (RFC 8707 §2), and no client at all once the proxy leaves redirect mode.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { decodeJwt } from 'jose'
import { driveBrowser, startOAuthE2E, type OAuthE2E } from '../support/oauth-e2e.ts'

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')
const APP_CALLBACK = 'http://app.localhost:8080/_oauth/callback'

let t: OAuthE2E

beforeAll(async () => {
  t = await startOAuthE2E()
  for (const [hostname, mode] of [['app.localhost', 'redirect'], ['*.wild.test', 'redirect'], ['api.test', 'forward'], ['other.test', 'redirect']] as const) {
    await t.edge.createProxy(hostname, 'http://127.0.0.1:9')
    const auth = await t.edge.api('PUT', `/proxy/targets/${hostname}/auth`, { auth_enabled: true, auth_mode: mode, auth_required_users: ['alice'], oauth_mcp_users: ['alice'] })
    expect(auth.status).toBe(200)
  }
})
afterAll(() => t.stop())

function authorizeUrl(params: Record<string, string | undefined>): URL {
  const url = new URL(`${t.issuer}/authorize`)
  const all: Record<string, string | undefined> = {
    response_type: 'code', client_id: 'proxy:app.localhost', redirect_uri: APP_CALLBACK, state: 'st-1',
    code_challenge: CHALLENGE, code_challenge_method: 'S256', resource: 'http://app.localhost:8080', ...params,
  }
  for (const [name, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(name, value)
  return url
}

const token = (form: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${t.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form) })

async function codeFor(params: Record<string, string | undefined> = {}) {
  const run = await driveBrowser(t, authorizeUrl(params))
  return { ...run, code: run.final.searchParams.get('code') }
}

describe('the sign-in of a redirect-mode proxy', () => {
  test('the code comes back to the proxy\'s own /_oauth/callback with state and iss; the consent page names the proxy', async () => {
    const run = await codeFor()
    expect(`${run.final.origin}${run.final.pathname}`).toBe(APP_CALLBACK)
    expect(run.final.searchParams.get('state')).toBe('st-1')
    expect(run.final.searchParams.get('iss')).toBe(t.issuer)
    expect(run.code).not.toBeNull()
    expect(run.consentHtml).toContain('Sign in to <strong>app.localhost</strong>')
    expect(run.consentHtml).toContain('http://app.localhost:8080/_oauth/callback')
  })

  test('RFC 6749 §4.1.3 / RFC 7636 §4.5: the code is exchanged as a public client with the verifier; tokens are for that origin only; refresh works', async () => {
    const { code } = await codeFor()
    const response = await token({ grant_type: 'authorization_code', client_id: 'proxy:app.localhost', code: code!, redirect_uri: APP_CALLBACK, code_verifier: VERIFIER })
    expect(response.status).toBe(200)
    const tokens = (await response.json()) as { access_token: string; refresh_token: string }
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: 'http://app.localhost:8080', client_id: 'proxy:app.localhost', username: 'alice', scope: 'admin mcp' })
    const refreshed = await token({ grant_type: 'refresh_token', client_id: 'proxy:app.localhost', refresh_token: tokens.refresh_token })
    expect(refreshed.status).toBe(200)
  })

  test('a wildcard proxy\'s client: a name under it, any https port', async () => {
    const callback = 'https://a.wild.test:8443/_oauth/callback'
    const { code, final } = await codeFor({ client_id: 'proxy:*.wild.test', redirect_uri: callback, resource: 'https://a.wild.test:8443' })
    expect(`${final.origin}${final.pathname}`).toBe(callback)
    const response = await token({ grant_type: 'authorization_code', client_id: 'proxy:*.wild.test', code: code!, redirect_uri: callback, code_verifier: VERIFIER })
    expect(decodeJwt(((await response.json()) as { access_token: string }).access_token).aud).toBe('https://a.wild.test:8443')
  })

  test('a proxy with a resource_endpoint: its client gets tokens for the identifier its metadata advertises (origin and path)', async () => {
    await t.edge.createProxy('ep.test', 'http://127.0.0.1:9')
    expect((await t.edge.api('PUT', '/proxy/targets/ep.test/auth', { auth_enabled: true, auth_mode: 'redirect', oauth_mcp_users: ['alice'] })).status).toBe(200)
    expect((await t.edge.api('PUT', '/proxy/targets/ep.test/resource', { resource_endpoint: '/mcp' })).status).toBe(200)
    const callback = 'https://ep.test/_oauth/callback'
    const { code } = await codeFor({ client_id: 'proxy:ep.test', redirect_uri: callback, resource: 'https://ep.test/mcp' })
    const response = await token({ grant_type: 'authorization_code', client_id: 'proxy:ep.test', code: code!, redirect_uri: callback, code_verifier: VERIFIER })
    expect(decodeJwt(((await response.json()) as { access_token: string }).access_token).aud).toBe('https://ep.test/mcp')
  })

  test('RFC 6749 §4.1.3: a wrong redirect_uri or verifier at /token → invalid_grant; a secret for this public client → invalid_client', async () => {
    const { code } = await codeFor()
    const base = { grant_type: 'authorization_code', client_id: 'proxy:app.localhost', code: code!, redirect_uri: APP_CALLBACK, code_verifier: VERIFIER }
    expect(await (await token({ ...base, redirect_uri: 'http://app.localhost:9090/_oauth/callback' })).json()).toMatchObject({ error: 'invalid_grant' })
    expect(await (await token({ ...base, code_verifier: 'x'.repeat(43) })).json()).toMatchObject({ error: 'invalid_grant' })
    const withSecret = await token({ ...base, client_secret: 'anything' })
    expect(withSecret.status).toBe(401)
    expect(await withSecret.json()).toMatchObject({ error: 'invalid_client' })
  })
})

describe('RFC 6749 §3.1.2.4 / §4.1.2.1: an unregistered redirect_uri is a page, never a redirect', () => {
  test('another host, plain http on a public name, another path, a query, a default port written out, another proxy\'s origin', async () => {
    const refused: [string, string][] = [
      ['proxy:app.localhost', 'http://evil.localhost:8080/_oauth/callback'],
      ['proxy:app.localhost', 'http://app.localhost:8080/_oauth/callback/'],
      ['proxy:app.localhost', 'http://app.localhost:8080/callback'],
      ['proxy:app.localhost', 'http://app.localhost:8080/_oauth/callback?next=/'],
      ['proxy:app.localhost', 'https://app.localhost:443/_oauth/callback'],
      ['proxy:app.localhost', 'http://other.test/_oauth/callback'],
      ['proxy:app.localhost', 'https://other.test/_oauth/callback'],
      ['proxy:*.wild.test', 'http://a.wild.test/_oauth/callback'],
      ['proxy:*.wild.test', 'https://x.a.wild.test/_oauth/callback'],
      ['proxy:other.test', 'https://app.localhost/_oauth/callback'],
    ]
    for (const [clientId, redirectUri] of refused) {
      const response = await fetch(authorizeUrl({ client_id: clientId, redirect_uri: redirectUri }), { redirect: 'manual' })
      expect(`${clientId} ${redirectUri} ${response.status}`).toBe(`${clientId} ${redirectUri} 400`)
      expect(response.headers.get('location')).toBeNull()
      expect(await response.text()).toContain('Redirect URI not registered')
    }
  })

  test('OAuth 2.1 §4.1.1: redirect_uri is required of a proxy client (it registered no single one)', async () => {
    const response = await fetch(authorizeUrl({ redirect_uri: undefined }), { redirect: 'manual' })
    expect(response.status).toBe(400)
    expect(response.headers.get('location')).toBeNull()
  })

  test('no client for a forward-mode proxy, an unknown one, or a name under a wildcard: "Unknown application", no redirect', async () => {
    for (const clientId of ['proxy:api.test', 'proxy:nope.test', 'proxy:a.wild.test']) {
      const response = await fetch(authorizeUrl({ client_id: clientId, redirect_uri: 'https://api.test/_oauth/callback' }), { redirect: 'manual' })
      expect(response.status).toBe(400)
      expect(response.headers.get('location')).toBeNull()
      expect(await response.text()).toContain('Unknown application')
    }
  })
})

describe('RFC 8707 §2: a proxy client gets tokens only for its own proxy', () => {
  test('the API or another proxy as resource → invalid_target, back at the (registered) callback', async () => {
    for (const resource of [t.issuer, 'https://other.test', undefined]) {
      const response = await fetch(authorizeUrl({ resource }), { redirect: 'manual' })
      expect(response.status).toBe(302)
      const location = new URL(response.headers.get('location')!)
      expect(`${location.origin}${location.pathname}`).toBe(APP_CALLBACK)
      expect(location.searchParams.get('error')).toBe('invalid_target')
    }
  })

  test('a proxy that leaves redirect mode takes its client with it: /authorize says unknown, refresh → invalid_client', async () => {
    const { code } = await codeFor({ client_id: 'proxy:other.test', redirect_uri: 'https://other.test/_oauth/callback', resource: 'https://other.test' })
    const exchanged = await token({ grant_type: 'authorization_code', client_id: 'proxy:other.test', code: code!, redirect_uri: 'https://other.test/_oauth/callback', code_verifier: VERIFIER })
    const { refresh_token: refreshToken } = (await exchanged.json()) as { refresh_token: string }
    expect((await t.edge.api('PUT', '/proxy/targets/other.test/auth', { auth_mode: 'forward' })).status).toBe(200)
    const refused = await token({ grant_type: 'refresh_token', client_id: 'proxy:other.test', refresh_token: refreshToken })
    expect(refused.status).toBe(401)
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' })
    const page = await fetch(authorizeUrl({ client_id: 'proxy:other.test', redirect_uri: 'https://other.test/_oauth/callback', resource: 'https://other.test' }), { redirect: 'manual' })
    expect(page.status).toBe(400)
  })
})
