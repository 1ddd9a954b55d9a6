/**
 * Negative tests of /authorize, the consent form and /callback, each named by the rule it holds: errors
 * before the redirect URI is trusted are escaped pages without a Location; later ones redirect with
 * error, state and iss (RFC 9207); state and consent tickets are single-use and bound to the browser.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ISSUER, REDIRECT_URI } from '../support/grants.ts'
import { authorizePath, createAuthorizeApi, HOST, locationOf, ticketOf, type AuthorizeApi } from '../support/authorize-api.ts'

let t: AuthorizeApi
let clientId: string
let otherClient: string

beforeAll(async () => {
  t = await createAuthorizeApi()
  clientId = await t.register({ client_name: 'Good App' })
  otherClient = await t.register({ redirect_uris: ['https://other.example/cb'] })
})
afterAll(() => t.close())

/** An HTML error page that redirects nowhere. */
async function expectPage(response: Response, status: number): Promise<string> {
  expect(response.status).toBe(status)
  expect(response.headers.get('location')).toBeNull()
  expect(response.headers.get('content-type')).toStartWith('text/html')
  expect(response.headers.get('content-security-policy')).toContain("default-src 'none'")
  expect(response.headers.get('x-frame-options')).toBe('DENY')
  return response.text()
}

/** An error redirect to the registered URI with exactly error, error_description, state and iss. */
function expectErrorRedirect(response: Response, error: string, state: string | null = 'af0ifjsldkj'): void {
  expect(response.status).toBe(302)
  const back = locationOf(response)
  expect(back.origin + back.pathname).toBe(REDIRECT_URI)
  expect(back.searchParams.get('error')).toBe(error)
  expect(back.searchParams.get('error_description')).toBeString()
  expect(back.searchParams.get('iss')).toBe(ISSUER)
  expect(back.searchParams.get('state')).toBe(state)
}

/** Through consent to GitHub's authorize URL; returns the /callback URL GitHub sends the browser to. */
async function callbackFor(browser = t.browser(), login = 'alice'): Promise<URL> {
  const consent = await browser.get(authorizePath(clientId))
  const approved = await browser.postForm('/authorize/consent', { ticket: ticketOf(await consent.text()), decision: 'approve' })
  t.github.setNextLogin(login)
  return locationOf(await browser.get(locationOf(approved).href))
}

describe('before the redirect URI is trusted: a page, never a redirect (OAuth 2.1 §4.1.2.1, RFC 9700 §4.11)', () => {
  test('OA-06: unknown client_id', async () => {
    await expectPage(await t.browser().get(authorizePath('nobody-registered-me')), 400)
    await expectPage(await t.browser().get(authorizePath(clientId, { client_id: undefined })), 400)
  })

  test('OA-05: redirect_uri mismatch is an escaped page with no Location', async () => {
    for (const redirect of [`${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, 'http://localhost:33418/callback', 'http://127.0.0.1:33418/other']) {
      await expectPage(await t.browser().get(authorizePath(clientId, { redirect_uri: redirect })), 400)
    }
    const html = await expectPage(await t.browser().get(authorizePath(clientId, { redirect_uri: 'https://x.example/"><script>alert(1)</script>' })), 400)
    expect(html).not.toContain('<script>')
    expect(html).toContain('&lt;script&gt;')
  })

  test('OAuth 2.1 §7.12.2: open-redirect attempts (look-alike host, another client\'s URI) are refused', async () => {
    for (const redirect of ['http://localhost.evil.com/callback', 'http://127.0.0.1.evil.com:33418/callback', 'http://127.0.0.1:33418@evil.com/callback', 'https://other.example/cb']) {
      await expectPage(await t.browser().get(authorizePath(clientId, { redirect_uri: redirect })), 400)
    }
    await expectPage(await t.browser().get(authorizePath(otherClient, { redirect_uri: REDIRECT_URI })), 400)
  })

  test('RFC 6749 §3.1: a repeated client_id or redirect_uri', async () => {
    await expectPage(await t.browser().get(`${authorizePath(clientId)}&client_id=${otherClient}`), 400)
    await expectPage(await t.browser().get(`${authorizePath(clientId)}&redirect_uri=${encodeURIComponent('https://other.example/cb')}`), 400)
  })

  test('a host that is not an issuer gets 404', async () => {
    const response = await t.browser('evil.example').get(authorizePath(clientId))
    await expectPage(response, 404)
  })
})

describe('after it: error redirects with state and iss (RFC 6749 §4.1.2.1, RFC 9207 §2)', () => {
  test('RFC 6749 §4.1.2.1: response_type other than code → unsupported_response_type; missing → invalid_request', async () => {
    expectErrorRedirect(await t.browser().get(authorizePath(clientId, { response_type: 'token' })), 'unsupported_response_type')
    expectErrorRedirect(await t.browser().get(authorizePath(clientId, { response_type: undefined })), 'invalid_request')
  })

  test('OA-01 / RFC 9700 §2.1.1: plain PKCE, a missing method, or a missing challenge → invalid_request', async () => {
    expectErrorRedirect(await t.browser().get(authorizePath(clientId, { code_challenge_method: 'plain' })), 'invalid_request')
    expectErrorRedirect(await t.browser().get(authorizePath(clientId, { code_challenge_method: undefined })), 'invalid_request')
    expectErrorRedirect(await t.browser().get(authorizePath(clientId, { code_challenge: undefined })), 'invalid_request')
    expectErrorRedirect(await t.browser().get(authorizePath(clientId, { code_challenge: 'short' })), 'invalid_request')
  })

  test('AS-04 / RFC 8707 §2: an unknown resource, one with a fragment, or two resources → invalid_target', async () => {
    for (const resource of ['https://unknown.example', 'https://mcp.example.com#x', 'not a uri']) {
      expectErrorRedirect(await t.browser().get(authorizePath(clientId, { resource })), 'invalid_target')
    }
    expectErrorRedirect(await t.browser().get(`${authorizePath(clientId)}&resource=${ISSUER}&resource=${ISSUER}`), 'invalid_target')
  })

  test('RFC 6749 §3.3: a scope outside admin, user, mcp → invalid_scope', async () => {
    expectErrorRedirect(await t.browser().get(authorizePath(clientId, { scope: 'mcp offline_access' })), 'invalid_scope')
  })

  test('a request without state gets its error without state, still with iss', async () => {
    expectErrorRedirect(await t.browser().get(authorizePath(clientId, { state: undefined, response_type: 'token' })), 'unsupported_response_type', null)
  })

  test('no GitHub app configured → server_error with a clear description, before any consent', async () => {
    t.settings.githubApp = null
    try {
      const response = await t.browser().get(authorizePath(clientId))
      expectErrorRedirect(response, 'server_error')
      expect(locationOf(response).searchParams.get('error_description')).toContain('GITHUB_CLIENT_ID')
    } finally {
      t.settings.githubApp = { clientId: 'Iv1.fakeapp', clientSecret: 'fake-app-secret' }
    }
  })
})

describe('consent (MCP security best practices: CSRF, clickjacking, escaping)', () => {
  test('a consent form posted with another browser\'s cookie, a forged ticket, or twice → 403 page', async () => {
    const victim = t.browser()
    const ticket = ticketOf(await (await victim.get(authorizePath(clientId))).text())
    const attacker = t.browser()
    await attacker.get(authorizePath(clientId))
    await expectPage(await attacker.postForm('/authorize/consent', { ticket, decision: 'approve' }), 403)
    await expectPage(await t.browser().postForm('/authorize/consent', { ticket, decision: 'approve' }), 403)
    await expectPage(await victim.postForm('/authorize/consent', { ticket: 'A'.repeat(43), decision: 'approve' }), 403)
    await expectPage(await victim.postForm('/authorize/consent', { ticket, decision: 'approve' }, { origin: 'https://evil.example' }), 403)
    // The attacker's attempts did not burn the victim's ticket; it works once.
    expect((await victim.postForm('/authorize/consent', { ticket, decision: 'approve' })).status).toBe(303)
    await expectPage(await victim.postForm('/authorize/consent', { ticket, decision: 'approve' }), 403)
  })

  test('XSS in client_name and parameters is shown as text', async () => {
    const evil = await t.register({ client_name: '<img src=x onerror=alert(1)>"Evil"' })
    const html = await (await t.browser().get(authorizePath(evil, { resource: `${ISSUER}/"><script>x</script>` }))).text()
    expect(html).not.toContain('<img src=x')
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
  })
})

describe('/callback (AS-05, GH-01)', () => {
  test('CVE-2026-27124 regression: a state from another browser is refused with a page', async () => {
    const callback = await callbackFor()
    const response = await t.browser().get(callback.href)
    await expectPage(response, 400)
  })

  test('state replay: the second use of a state is refused', async () => {
    const browser = t.browser()
    const callback = await callbackFor(browser)
    expect(locationOf(await browser.get(callback.href)).searchParams.get('code')).toBeString()
    await expectPage(await browser.get(callback.href), 400)
  })

  test('a missing or unknown state, or no cookie at all → page', async () => {
    const browser = t.browser()
    await browser.get(authorizePath(clientId))
    await expectPage(await browser.get('/callback?code=abc'), 400)
    await expectPage(await browser.get(`/callback?code=abc&state=${'A'.repeat(43)}`), 400)
    await expectPage(await t.app.request('/callback?code=abc&state=x', { headers: { host: HOST } }), 400)
  })

  test('a GitHub user not on the resource\'s allowlist → access_denied with state and iss', async () => {
    const browser = t.browser()
    // On the API, OAUTH_MCP_USERS names mallory: she is admitted (with mcp only).
    const response = await browser.get((await callbackFor(browser, 'mallory')).href)
    expect(locationOf(response).searchParams.get('code')).toBeString()
    // The MCP proxy's auth_required_users names only alice.

    const consent = await browser.get(authorizePath(clientId, { resource: 'https://mcp.example.com', scope: 'mcp' }))
    const approved = await browser.postForm('/authorize/consent', { ticket: ticketOf(await consent.text()), decision: 'approve' })
    t.github.setNextLogin('mallory')
    const gh = await browser.get(locationOf(approved).href)
    expectErrorRedirect(await browser.get(locationOf(gh).href), 'access_denied')
  })

  test('requested scopes the user does not hold → access_denied', async () => {
    const browser = t.browser()
    const consent = await browser.get(authorizePath(clientId, { scope: 'admin' }))
    const approved = await browser.postForm('/authorize/consent', { ticket: ticketOf(await consent.text()), decision: 'approve' })
    t.github.setNextLogin('alice')
    const gh = await browser.get(locationOf(approved).href)
    expectErrorRedirect(await browser.get(locationOf(gh).href), 'access_denied')
  })
})
