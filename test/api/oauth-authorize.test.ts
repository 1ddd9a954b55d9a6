/**
 * The authorization code flow end to end (issue #4 "/authorize", "Consent", "/callback"): a browser with a
 * cookie jar goes through the consent page and the GitHub fake, the client redeems the code at /token
 * with its PKCE verifier, and the access token opens the API.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { TokenResult } from '../../src/oauth/index.ts'
import { ISSUER, REDIRECT_URI, RESOURCE, VERIFIER } from '../support/grants.ts'
import { authorizePath, createAuthorizeApi, HOST, locationOf, LOOPBACK_ISSUER, ticketOf, type AuthorizeApi, type Browser } from '../support/authorize-api.ts'

let t: AuthorizeApi
let clientId: string

beforeAll(async () => {
  t = await createAuthorizeApi()
  clientId = await t.register({ client_name: 'Inspector' })
})
afterAll(() => t.close())

/** From the consent page's Approve to the client's redirect URI, signing in at GitHub as `login`. */
async function approveAndSignIn(browser: Browser, consentPage: Response, login: string): Promise<URL> {
  const approved = await browser.postForm('/authorize/consent', { ticket: ticketOf(await consentPage.text()), decision: 'approve' })
  expect(approved.status).toBe(303)
  return signIn(browser, locationOf(approved), login)
}

async function signIn(browser: Browser, githubAuthorize: URL, login: string): Promise<URL> {
  t.github.setNextLogin(login)
  const atGitHub = await browser.get(githubAuthorize.href)
  expect(atGitHub.status).toBe(302)
  const callback = locationOf(atGitHub)
  expect(callback.origin + callback.pathname).toBe(`${ISSUER}/callback`)
  const back = await browser.get(callback.href)
  expect(back.status).toBe(302)
  return locationOf(back)
}

async function redeem(code: string, resource?: string): Promise<Response> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: VERIFIER, client_id: clientId }
  if (resource) form.resource = resource
  return t.app.request('/token', { method: 'POST', headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() })
}

describe('the browser flow (OAuth 2.1 §4.1, RFC 9207, MCP security best practices)', () => {
  test('consent page → GitHub → /callback → code + state + iss → /token → the API accepts the token', async () => {
    const browser = t.browser()
    const consent = await browser.get(authorizePath(clientId))
    expect(consent.status).toBe(200)
    expect(consent.headers.get('content-type')).toStartWith('text/html')
    expect(consent.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(consent.headers.get('x-frame-options')).toBe('DENY')
    expect(consent.headers.get('access-control-allow-origin')).toBeNull()

    const html = await consent.clone().text()
    expect(html).toContain('Inspector')
    expect(html).toContain('127.0.0.1:33418')
    expect(html).toContain(ISSUER)
    // AS-05: nothing has gone to GitHub before the approval.
    expect(t.github.requests.filter((r) => r.path === '/login/oauth/authorize')).toHaveLength(0)

    const cookie = browser.setCookies.find((line) => line.startsWith('__Host-oauth-browser='))!
    expect(cookie).toMatch(/; Path=\/(;|$)/)
    expect(cookie).toContain('; Secure')
    expect(cookie).toContain('; HttpOnly')
    expect(cookie).toContain('; SameSite=Lax')
    expect(cookie).not.toContain('Domain')

    const back = await approveAndSignIn(browser, consent, 'alice')
    expect(back.origin + back.pathname).toBe(REDIRECT_URI)
    expect([...back.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state'])
    expect(back.searchParams.get('state')).toBe('af0ifjsldkj')
    expect(back.searchParams.get('iss')).toBe(ISSUER)

    const response = await redeem(back.searchParams.get('code')!)
    expect(response.status).toBe(200)
    const tokens = (await response.json()) as TokenResult
    // No scope requested: the user's granted scopes (OAUTH_USER_USERS, OAUTH_MCP_USERS name alice).
    expect(tokens.scope).toBe('user mcp')
    expect(await t.f.verify(tokens.access_token, ISSUER)).toMatchObject({ ok: true, claims: { iss: ISSUER, aud: ISSUER, sub: '1001', clientId } })
    const keys = await t.app.request('/oauth/keys', { headers: { host: HOST, authorization: `Bearer ${tokens.access_token}` } })
    expect(keys.status).toBe(200)

    // Codes never reach the log.
    expect(t.logLines.join('')).not.toContain(back.searchParams.get('code')!)
  })

  test('a remembered approval skips the consent page; a new resource or wider scope asks again', async () => {
    const browser = t.browser()
    const first = await browser.get(authorizePath(clientId, { scope: 'mcp', resource: RESOURCE }))
    await approveAndSignIn(browser, first, 'alice')

    const again = await browser.get(authorizePath(clientId, { scope: 'mcp', resource: `${RESOURCE}/mcp` }))
    expect(again.status).toBe(302)
    const github = locationOf(again)
    expect(github.origin).toBe(t.github.webUrl)
    expect(github.searchParams.get('redirect_uri')).toBe(`${ISSUER}/callback`)
    const back = await signIn(browser, github, 'alice')
    const tokens = (await (await redeem(back.searchParams.get('code')!, RESOURCE)).json()) as TokenResult
    expect(tokens.scope).toBe('mcp')
    expect(await t.f.verify(tokens.access_token)).toMatchObject({ ok: true, claims: { aud: RESOURCE } })

    expect((await browser.get(authorizePath(clientId, { scope: 'mcp user', resource: RESOURCE }))).status).toBe(200)
    expect((await browser.get(authorizePath(clientId, { scope: 'mcp' }))).status).toBe(200)
    // Another browser has approved nothing.
    expect((await t.browser().get(authorizePath(clientId, { scope: 'mcp', resource: RESOURCE }))).status).toBe(200)
  })

  test('Deny → access_denied with state and iss, and nothing goes to GitHub (RFC 6749 §4.1.2.1)', async () => {
    const browser = t.browser()
    const before = t.github.requests.length
    const consent = await browser.get(authorizePath(clientId))
    const denied = await browser.postForm('/authorize/consent', { ticket: ticketOf(await consent.text()), decision: 'deny' })
    expect(denied.status).toBe(303)
    const back = locationOf(denied)
    expect(back.origin + back.pathname).toBe(REDIRECT_URI)
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: 'access_denied', state: 'af0ifjsldkj', iss: ISSUER })
    expect(t.github.requests.length).toBe(before)
  })

  test('RFC 8252 §7.3: a loopback redirect may use any port, and the code is bound to that exact URI', async () => {
    const browser = t.browser()
    const redirect = 'http://127.0.0.1:54321/callback'
    const consent = await browser.get(authorizePath(clientId, { redirect_uri: redirect }))
    expect(consent.status).toBe(200)
    const back = await approveAndSignIn(browser, consent, 'alice')
    expect(back.origin + back.pathname).toBe(redirect)
  })

  test('a loopback http issuer uses a plain cookie name (browsers refuse __Host- without Secure)', async () => {
    const browser = t.browser(new URL(LOOPBACK_ISSUER).host)
    const consent = await browser.get(authorizePath(clientId))
    expect(consent.status).toBe(200)
    const cookie = browser.setCookies.find((line) => line.startsWith('oauth-browser='))!
    expect(cookie).toContain('; HttpOnly')
    expect(cookie).toContain('; SameSite=Lax')
    expect(cookie).not.toContain('Secure')
  })

  test('GitHub login refused by the user → access_denied to the client, with iss', async () => {
    const browser = t.browser()
    const consent = await browser.get(authorizePath(clientId))
    const approved = await browser.postForm('/authorize/consent', { ticket: ticketOf(await consent.text()), decision: 'approve' })
    t.github.setNextLogin('alice')
    t.github.denyNext()
    const atGitHub = await browser.get(locationOf(approved).href)
    const back = locationOf(await browser.get(locationOf(atGitHub).href))
    expect(Object.fromEntries(back.searchParams)).toMatchObject({ error: 'access_denied', state: 'af0ifjsldkj', iss: ISSUER })
  })
})
