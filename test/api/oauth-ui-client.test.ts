/**
 * The web UI's first-party client (`oauth-https-proxy-ui`) at /authorize and /token, through the whole
 * server: exactly `<origin>/ui/auth/callback` on an origin the API answers as (RFC 6749 §3.1.2.3),
 * anything else a page and never a redirect (§3.1.2.4); no consent page for it alone; a public client
 * with PKCE; tokens only for the API (RFC 8707 §2). Other clients keep their consent page.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { decodeJwt } from 'jose'
import { driveBrowser, startOAuthE2E, type OAuthE2E } from '../support/oauth-e2e.ts'

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')
const CLIENT_ID = 'oauth-https-proxy-ui'

let t: OAuthE2E
/** The UI opened at http://localhost:<API_PORT>: an origin the API answers as, other than PUBLIC_URL's. */
let uiCallback: string

beforeAll(async () => {
  t = await startOAuthE2E()
  uiCallback = `http://localhost:${new URL(t.issuer).port}/ui/auth/callback`
})
afterAll(() => t.stop())

function authorizeUrl(params: Record<string, string | undefined>): URL {
  const url = new URL(`${t.issuer}/authorize`)
  const all: Record<string, string | undefined> = {
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: uiCallback, state: 'st-ui',
    code_challenge: CHALLENGE, code_challenge_method: 'S256', resource: t.issuer, ...params,
  }
  for (const [name, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(name, value)
  return url
}

const token = (form: Record<string, string>) =>
  fetch(`${t.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) })

describe('the web UI\'s sign-in', () => {
  test('no consent page: /authorize goes straight to GitHub, and the code comes back to the UI\'s callback with state and iss', async () => {
    const run = await driveBrowser(t, authorizeUrl({}))
    expect(run.consentHtml).toBe('')
    expect(run.visited.map((url) => new URL(url).pathname)).toEqual(['/authorize', '/login/oauth/authorize', '/callback'])
    expect(`${run.final.origin}${run.final.pathname}`).toBe(uiCallback)
    expect(run.final.searchParams.get('state')).toBe('st-ui')
    expect(run.final.searchParams.get('iss')).toBe(t.issuer)

    // RFC 7636 §4.5: exchanged as a public client with the verifier; the token is for the API.
    const exchanged = await token({ grant_type: 'authorization_code', client_id: CLIENT_ID, code: run.final.searchParams.get('code')!, redirect_uri: uiCallback, code_verifier: VERIFIER })
    expect(exchanged.status).toBe(200)
    const tokens = (await exchanged.json()) as { access_token: string; refresh_token: string }
    expect(decodeJwt(tokens.access_token)).toMatchObject({ aud: t.issuer, client_id: CLIENT_ID, username: 'alice', scope: 'admin' })
    expect((await fetch(`${t.issuer}/system/info`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(200)
    expect((await token({ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: tokens.refresh_token })).status).toBe(200)
    // A secret for this public client is refused (RFC 6749 §2.3).
    const withSecret = await token({ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: tokens.refresh_token, client_secret: 'anything' })
    expect(withSecret.status).toBe(401)
  })

  test('a registered client still gets the consent page: the exemption is the UI\'s alone', async () => {
    const registered = await fetch(`${t.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:7777/cb'], token_endpoint_auth_method: 'none', client_name: 'Someone else' }),
    })
    const { client_id: clientId } = (await registered.json()) as { client_id: string }
    const run = await driveBrowser(t, authorizeUrl({ client_id: clientId, redirect_uri: 'http://127.0.0.1:7777/cb' }))
    expect(run.consentHtml).toContain('Someone else')
    expect(run.final.searchParams.get('code')).not.toBeNull()
  })
})

describe('RFC 6749 §3.1.2.4: a redirect_uri outside the rule is a page, never a redirect', () => {
  // Loopback origins on any port are the API's (the built-in localhost proxy answers on whatever port the edge has), as issuers are.
  test('another host, plain http on a public name, another path, a trailing slash, a query, a fragment, userinfo', async () => {
    const port = new URL(t.issuer).port
    const refused = [
      'https://evil.example/ui/auth/callback',
      `http://localhost:${port}/ui/auth/callback/`,
      `http://localhost:${port}/_oauth/callback`,
      `http://localhost:${port}/ui/auth/callback?next=/`,
      `http://localhost:${port}/ui/auth/callback#x`,
      `http://user@localhost:${port}/ui/auth/callback`,
      'http://example.com/ui/auth/callback',
      'http://app.localhost/ui/auth/callback',
    ]
    for (const redirectUri of refused) {
      const response = await fetch(authorizeUrl({ redirect_uri: redirectUri }), { redirect: 'manual' })
      expect(`${redirectUri} ${response.status}`).toBe(`${redirectUri} 400`)
      expect(response.headers.get('location')).toBeNull()
      expect(await response.text()).toContain('Redirect URI not registered')
    }
  })

  test('a proxy whose target is the API is one of its origins: the UI may sign in there', async () => {
    await t.edge.createProxy('admin.example.com', t.edge.server.apiUrl)
    const response = await fetch(authorizeUrl({ redirect_uri: 'https://admin.example.com/ui/auth/callback' }), { redirect: 'manual' })
    expect(response.status).toBe(302)
    expect(new URL(response.headers.get('location')!).origin).toBe(t.github.webUrl)
  })
})

test('RFC 8707 §2: the UI\'s client gets tokens for the API alone; another resource → invalid_target at its callback', async () => {
  await t.edge.createProxy('app.localhost', 'http://127.0.0.1:9', { auth_enabled: true })
  const response = await fetch(authorizeUrl({ resource: 'http://app.localhost' }), { redirect: 'manual' })
  expect(response.status).toBe(302)
  const location = new URL(response.headers.get('location')!)
  expect(`${location.origin}${location.pathname}`).toBe(uiCallback)
  expect(location.searchParams.get('error')).toBe('invalid_target')
})
