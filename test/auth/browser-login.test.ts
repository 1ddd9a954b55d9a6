/**
 * Browser sign-in (redirect mode) against the real grants, key ring and embedded store: the
 * authorization request it sends, the callback (state bound to the browser, RFC 9207 iss, PKCE,
 * access denied), the session cookie, refresh and sign-out. /authorize, consent and GitHub are the
 * Chromium end to end's (test/e2e/redirect-mode-chromium.test.ts).
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { LOGIN_COOKIE, SESSION_COOKIE } from '../../src/auth/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger, createManualClock, sha256Hex } from '../../src/lib/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'
import {
  ACCESS_TTL_SEC,
  authorizeAt,
  CLIENT_ID,
  errorResponseFor,
  header,
  headers,
  ISSUER,
  ORIGIN,
  PROXY,
  rawStore,
  REDIRECT_URI,
  REFRESH_TTL_SEC,
  sessionTokenOf,
  signIn,
  startLoginNode,
  TestBrowser,
  type LoginNode,
} from '../support/browser-login.ts'

let clock: ReturnType<typeof createManualClock>
let node: LoginNode

beforeEach(async () => {
  clock = createManualClock(Date.UTC(2026, 11, 1, 12))
  node = await startLoginNode(createEmbeddedStore({ dataDir: ':memory:', clock }), createMemoryBus(createLogger('error')), clock)
})
afterEach(async () => {
  node.close()
  await node.store.close()
})

const cookieAttributes = (line: string) => line.split(';').slice(1).map((part) => part.trim())

describe('signing in', () => {
  test('a browser without a session goes to /authorize: code, PKCE S256, state, the proxy client, its callback and resource (OAuth 2.1 §4.1.1)', async () => {
    const browser = new TestBrowser()
    const answer = browser.absorb(await node.login.signIn(browser.request('/dashboard?tab=1')))
    expect(answer.status).toBe(302)
    expect(answer.body).toBe('')
    expect(header(answer, 'cache-control')).toBe('no-store')
    const location = new URL(header(answer, 'location')!)
    expect(`${location.origin}${location.pathname}`).toBe(`${ISSUER}/authorize`)
    const query = Object.fromEntries(location.searchParams)
    expect(Object.keys(query).sort()).toEqual(['client_id', 'code_challenge', 'code_challenge_method', 'redirect_uri', 'resource', 'response_type', 'state'])
    expect(query).toMatchObject({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, code_challenge_method: 'S256', resource: ORIGIN })
    expect(query.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(query.state).toMatch(/^[A-Za-z0-9_-]{43}$/)
    // Nothing about where the browser goes back to travels in the request: it stays in the store.
    expect(location.href).not.toContain('dashboard')

    const [loginCookie] = headers(answer, 'set-cookie')
    expect(loginCookie).toMatch(new RegExp(`^${LOGIN_COOKIE}=[A-Za-z0-9_-]{43};`))
    expect(cookieAttributes(loginCookie!).sort()).toEqual(['HttpOnly', 'Max-Age=600', 'Path=/', 'SameSite=Lax', 'Secure'])
  })

  test('the callback exchanges the code, sets a __Host- session cookie and sends the browser back where it was', async () => {
    const browser = new TestBrowser()
    const answer = await signIn(node, browser, '/dashboard?tab=1')
    expect(answer.status).toBe(302)
    expect(header(answer, 'location')).toBe(`${ORIGIN}/dashboard?tab=1`)
    expect(header(answer, 'cache-control')).toBe('no-store')
    const [sessionCookie] = headers(answer, 'set-cookie')
    expect(sessionCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43};`))
    expect(cookieAttributes(sessionCookie!).sort()).toEqual(['HttpOnly', `Max-Age=${REFRESH_TTL_SEC}`, 'Path=/', 'SameSite=Lax', 'Secure'])

    // Synchronous from now on: the data plane's hot path.
    const token = node.login.sessionToken(browser.request('/anything'))
    expect(typeof token).toBe('string')
    const verified = await node.verify(token as string)
    expect(verified.ok).toBe(true)
    if (verified.ok) expect(verified.claims).toMatchObject({ iss: ISSUER, aud: ORIGIN, username: 'alice', clientId: CLIENT_ID, scopes: ['user'] })
  })

  test('RFC 9700 §4.11: a sign-in started at //evil.example, /\\evil or an absolute URL comes back to / on the proxy', async () => {
    for (const target of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', '/.//evil.example']) {
      expect(header(await signIn(node, new TestBrowser(), target), 'location')).toBe(`${ORIGIN}/`)
    }
  })

  test('a browser sent to sign in with a session cookie (its token refused by the gate) has that session ended and the cookie cleared', async () => {
    const browser = new TestBrowser()
    await signIn(node, browser)
    const sessionId = browser.jar.get(SESSION_COOKIE)!
    const token = node.login.sessionToken(browser.request('/')) as string
    const answer = browser.absorb(await node.login.signIn(browser.request('/again')))
    expect(answer.status).toBe(302)
    expect(headers(answer, 'set-cookie')).toContain(`${SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`)
    expect(browser.jar.has(SESSION_COOKIE)).toBe(false)
    expect(node.events).toContainEqual({ type: 'session_ended', sessionHash: sha256Hex(sessionId) })
    expect(await node.verify(token)).toEqual({ ok: false, reason: 'revoked' })
    // A browser without one gets no such header.
    expect(headers(await node.login.signIn(new TestBrowser().request('/')), 'set-cookie')).toHaveLength(1)
  })

  test('two tabs signing in at once both finish (one sign-in cookie, two states)', async () => {
    const browser = new TestBrowser()
    const first = browser.absorb(await node.login.signIn(browser.request('/one')))
    const second = browser.absorb(await node.login.signIn(browser.request('/two')))
    expect(headers(second, 'set-cookie')[0]).toBe(headers(first, 'set-cookie')[0]!)
    const back1 = await authorizeAt(node, header(first, 'location')!)
    const back2 = await authorizeAt(node, header(second, 'location')!)
    expect(header(browser.absorb(await node.login.callback(browser.request(back2))), 'location')).toBe(`${ORIGIN}/two`)
    expect(header(browser.absorb(await node.login.callback(browser.request(back1))), 'location')).toBe(`${ORIGIN}/one`)
  })
})

describe('the callback refuses', () => {
  async function started(browser = new TestBrowser()) {
    const answer = browser.absorb(await node.login.signIn(browser.request('/private')))
    return { browser, location: header(answer, 'location')! }
  }
  const expectNoSession = (answer: { headers: readonly (readonly [string, string])[] }) => {
    expect(headers(answer as never, 'set-cookie').filter((line) => line.startsWith(`${SESSION_COOKIE}=`) && !line.includes('Max-Age=0'))).toEqual([])
    expect(header(answer as never, 'location')).toBeUndefined()
  }

  test('RFC 6749 §10.12: a code and state sent to another browser finish nothing there (login CSRF), and the first browser can still finish', async () => {
    const { browser, location } = await started()
    const back = await authorizeAt(node, location)
    const victim = new TestBrowser()
    victim.jar.set(LOGIN_COOKIE, 'A'.repeat(43))
    for (const other of [new TestBrowser(), victim]) {
      const refused = await node.login.callback(other.request(back))
      expect(refused.status).toBe(400)
      expect(refused.body).toContain('Sign-in expired')
      expectNoSession(refused)
    }
    expect(header(await node.login.callback(browser.request(back)), 'location')).toBe(`${ORIGIN}/private`)
  })

  test('RFC 6749 §10.12: a state is used once', async () => {
    const { browser, location } = await started()
    const back = await authorizeAt(node, location)
    expect((await node.login.callback(browser.request(back))).status).toBe(302)
    const again = await node.login.callback(browser.request(back))
    expect(again.status).toBe(400)
    // Refused for its state, before any code exchange is tried.
    expect(again.body).toContain('Sign-in expired')
    expectNoSession(again)
  })

  test('a sign-in older than ten minutes has expired', async () => {
    const { browser, location } = await started()
    const back = await authorizeAt(node, location)
    clock.advanceMs(601_000)
    expect((await node.login.callback(browser.request(back))).status).toBe(400)
  })

  test('a state started on one origin does not finish on another of the same proxy', async () => {
    const { browser, location } = await started()
    const back = await authorizeAt(node, location)
    const elsewhere = browser.request(back, 'GET', 'https://other.example.com')
    const refused = await node.login.callback({ ...elsewhere, proxyHostname: PROXY })
    expect(refused.status).toBe(400)
    expectNoSession(refused)
  })

  test('RFC 6749 §3.1: a repeated state or code is refused', async () => {
    const { browser, location } = await started()
    const back = await authorizeAt(node, location)
    const state = new URLSearchParams(back.split('?')[1]).get('state')!
    expect((await node.login.callback(browser.request(`${back}&state=${state}`))).status).toBe(400)
    const second = await started(browser)
    const back2 = await authorizeAt(node, second.location)
    const repeatedCode = await node.login.callback(browser.request(`${back2}&code=other`))
    expect(repeatedCode.status).toBe(400)
    expectNoSession(repeatedCode)
  })

  test('RFC 9207 §2.4: a response without our iss, or with another, is a mix-up and makes no session', async () => {
    for (const iss of [null, 'https://evil.example.com']) {
      const { browser, location } = await started()
      const refused = await node.login.callback(browser.request(await authorizeAt(node, location, { iss })))
      expect(refused.status).toBe(400)
      expect(refused.body).toContain('Sign-in failed')
      expectNoSession(refused)
    }
  })

  test('RFC 7636 §4.6: a code bound to another challenge is refused at the exchange (the verifier is the one we kept)', async () => {
    const { browser, location } = await started()
    const back = await authorizeAt(node, location, { codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' })
    const refused = await node.login.callback(browser.request(back))
    expect(refused.status).toBe(400)
    expectNoSession(refused)
  })

  test('RFC 6749 §4.1.2.1 access_denied: a 403 page naming the host, escaped, and no redirect (no loop)', async () => {
    const { browser, location } = await started()
    const denied = await node.login.callback(browser.request(errorResponseFor(location, 'access_denied')))
    expect(denied.status).toBe(403)
    expect(header(denied, 'content-type')).toBe('text/html; charset=utf-8')
    expect(denied.body).toContain(`Your GitHub account is not allowed on ${PROXY}`)
    // The authorization server's description is not echoed into our page.
    expect(denied.body).not.toContain('bob')
    expectNoSession(denied)
  })

  test('server_error and temporarily_unavailable are 502, other errors 400; neither makes a session', async () => {
    for (const [error, status] of [['temporarily_unavailable', 502], ['server_error', 502], ['invalid_scope', 400]] as const) {
      const { browser, location } = await started()
      const failed = await node.login.callback(browser.request(errorResponseFor(location, error)))
      expect(failed.status).toBe(status)
      expectNoSession(failed)
    }
  })

  test('only GET reaches the callback (405 with Allow)', async () => {
    const { browser, location } = await started()
    const answer = await node.login.callback(browser.request(await authorizeAt(node, location), 'POST'))
    expect(answer.status).toBe(405)
    expect(header(answer, 'allow')).toBe('GET')
  })
})

describe('sessions', () => {
  test('a token about to expire is refreshed (asynchronously, once), the store updated, and synchronous again afterwards', async () => {
    const browser = new TestBrowser()
    await signIn(node, browser)
    const first = node.login.sessionToken(browser.request('/')) as string
    clock.advanceMs((ACCESS_TTL_SEC - 29) * 1000)
    const pending = [node.login.sessionToken(browser.request('/')), node.login.sessionToken(browser.request('/a'))]
    expect(pending[0]).toBeInstanceOf(Promise)
    expect(pending[1]).toBe(pending[0]!)
    const refreshed = (await pending[0]) as string
    expect(refreshed).not.toBe(first)
    expect((await node.verify(refreshed)).ok).toBe(true)
    expect(typeof node.login.sessionToken(browser.request('/'))).toBe('string')
    // The old refresh token was rotated away (RFC 9700 §4.14.2): the grants hold one family for this session.
    const families = await node.grants.listFamilies('alice')
    expect(families).toHaveLength(1)
  })

  test('RFC 6749 §6: a refresh the policy refuses ends the session, announced by the id\'s hash, never the id', async () => {
    const browser = new TestBrowser()
    await signIn(node, browser)
    const sessionId = browser.jar.get(SESSION_COOKIE)!
    node.policy.recheck = async () => null
    clock.advanceMs(ACCESS_TTL_SEC * 1000)
    expect(await sessionTokenOf(node, browser)).toBeNull()
    expect(node.events).toContainEqual({ type: 'session_ended', sessionHash: sha256Hex(sessionId) })
    expect(JSON.stringify(node.events)).not.toContain(sessionId)
    node.policy.recheck = async (grant) => grant.scopes
    expect(await sessionTokenOf(node, browser)).toBeNull()
  })

  test('a refresh that cannot be decided (the policy throws: GitHub unreachable) fails this request but keeps the session', async () => {
    const browser = new TestBrowser()
    await signIn(node, browser)
    node.policy.recheck = async () => {
      throw new Error('GitHub did not answer')
    }
    clock.advanceMs(ACCESS_TTL_SEC * 1000)
    await expect(sessionTokenOf(node, browser)).rejects.toThrow('GitHub did not answer')
    node.policy.recheck = async (grant) => grant.scopes
    expect(await sessionTokenOf(node, browser)).toBeString()
    expect(node.events.filter((event) => event.type === 'session_ended')).toEqual([])
  })

  test('an unknown, malformed or foreign session cookie gives no token', async () => {
    const browser = new TestBrowser()
    browser.jar.set(SESSION_COOKIE, 'B'.repeat(43))
    expect(await sessionTokenOf(node, browser)).toBeNull()
    browser.jar.set(SESSION_COOKIE, '../../x')
    expect(node.login.sessionToken(browser.request('/'))).toBeNull()
    expect(node.login.sessionToken({ ...browser.request('/'), cookies: null })).toBeNull()

    const signedIn = new TestBrowser()
    await signIn(node, signedIn)
    // The same cookie presented to another proxy (only possible by copying it): refused there, kept here.
    const foreign = { ...signedIn.request('/'), origin: 'https://other.example.com', resource: 'https://other.example.com', proxyHostname: 'other.example.com' }
    expect(await node.login.sessionToken(foreign)).toBeNull()
    expect(typeof node.login.sessionToken(signedIn.request('/'))).toBe('string')
  })

  test('signing in again replaces the session (session fixation): the old id is refused', async () => {
    const browser = new TestBrowser()
    await signIn(node, browser)
    const old = browser.jar.get(SESSION_COOKIE)!
    await signIn(node, browser)
    expect(browser.jar.get(SESSION_COOKIE)).not.toBe(old)
    const withOld = new TestBrowser()
    withOld.jar.set(SESSION_COOKIE, old)
    expect(await sessionTokenOf(node, withOld)).toBeNull()
    expect(await sessionTokenOf(node, browser)).toBeString()
  })

  test('the backend never sees our cookies', async () => {
    expect(node.login.backendCookies(`theme=dark; ${SESSION_COOKIE}=x; ${LOGIN_COOKIE}=y; csrftoken=abc`)).toBe('theme=dark; csrftoken=abc')
    expect(node.login.backendCookies(`${SESSION_COOKIE}=x`)).toBeNull()
  })
})

describe('signing out', () => {
  test('GET (and HEAD) only asks: a page whose button POSTs to the same path, escaped, under a CSP that lets the form go to its own origin; the session goes on', async () => {
    const browser = new TestBrowser()
    await signIn(node, browser)
    for (const method of ['GET', 'HEAD']) {
      const answer = browser.absorb(await node.login.signOut(browser.request('/_oauth/logout?next=%3Cscript%3E', method)))
      expect(answer.status).toBe(200)
      expect(headers(answer, 'set-cookie')).toEqual([])
      expect(answer.body).toContain('<form method="post" action="/_oauth/logout"><button type="submit">Sign out</button></form>')
      expect(answer.body).toContain(`Sign out of ${PROXY}?`)
      expect(header(answer, 'content-security-policy')).toContain("form-action 'self'")
      expect(header(answer, 'content-security-policy')).toContain("frame-ancestors 'none'")
      // With no-referrer the browser would send the form's POST with "Origin: null".
      expect(header(answer, 'referrer-policy')).toBe('same-origin')
    }
    expect(browser.jar.has(SESSION_COOKIE)).toBe(true)
    expect(await sessionTokenOf(node, browser)).toBeString()
    expect(node.events.filter((event) => event.type === 'session_ended')).toEqual([])
  })

  test('a path with markup in it is escaped in the form', async () => {
    const answer = await node.login.signOut(new TestBrowser().request('/_oauth/logout"><script>x</script>'))
    expect(answer.body).not.toContain('<script>')
    expect(answer.body).toContain('action="/_oauth/logout&quot;&gt;&lt;script&gt;x&lt;/script&gt;"')
  })

  test('POST ends the session, revokes its tokens (RFC 7009), clears the cookie (Max-Age=0) and says so', async () => {
    const browser = new TestBrowser()
    await signIn(node, browser)
    const sessionId = browser.jar.get(SESSION_COOKIE)!
    const token = node.login.sessionToken(browser.request('/')) as string
    const answer = browser.absorb(await node.login.signOut(browser.request('/_oauth/logout', 'POST')))
    expect(answer.status).toBe(200)
    expect(answer.body).toContain('Signed out')
    expect(answer.body).toContain(`You are signed out of ${PROXY}.`)
    expect(header(answer, 'cache-control')).toBe('no-store')
    expect(headers(answer, 'set-cookie')).toEqual([`${SESSION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`])
    expect(browser.jar.has(SESSION_COOKIE)).toBe(false)

    const withOld = new TestBrowser()
    withOld.jar.set(SESSION_COOKIE, sessionId)
    expect(await sessionTokenOf(node, withOld)).toBeNull()
    expect(await node.verify(token)).toEqual({ ok: false, reason: 'revoked' })
    expect(await node.grants.listFamilies('alice')).toEqual([])
    expect(node.events).toContainEqual({ type: 'session_ended', sessionHash: sha256Hex(sessionId) })
  })

  test('without a session it still answers the page and clears the cookie; PUT is 405', async () => {
    const browser = new TestBrowser()
    browser.jar.set(SESSION_COOKIE, 'C'.repeat(43))
    const answer = await node.login.signOut(browser.request('/_oauth/logout', 'POST'))
    expect(answer.status).toBe(200)
    expect(headers(answer, 'set-cookie')[0]).toContain('Max-Age=0')
    // A made-up cookie puts nothing on the bus.
    expect(node.events.filter((event) => event.type === 'session_ended')).toEqual([])
    const put = await node.login.signOut(browser.request('/_oauth/logout', 'PUT'))
    expect([put.status, header(put, 'allow')]).toEqual([405, 'GET, HEAD, POST'])
  })
})

describe('secrets', () => {
  test('the store holds no session id, sign-in cookie, state, code verifier or token; the log none either', async () => {
    const browser = new TestBrowser()
    const started = browser.absorb(await node.login.signIn(browser.request('/')))
    const location = new URL(header(started, 'location')!)
    const storedDuringSignIn = await rawStore(node.store)
    expect(storedDuringSignIn).not.toContain(location.searchParams.get('state')!)
    expect(storedDuringSignIn).not.toContain(browser.jar.get(LOGIN_COOKIE)!)
    const back = await authorizeAt(node, location.href)
    const code = new URLSearchParams(back.split('?')[1]).get('code')!
    browser.absorb(await node.login.callback(browser.request(back)))
    clock.advanceMs(ACCESS_TTL_SEC * 1000)
    const refreshed = (await sessionTokenOf(node, browser))!

    const stored = await rawStore(node.store)
    const secrets = [browser.jar.get(SESSION_COOKIE)!, browser.jar.get(LOGIN_COOKIE)!, location.searchParams.get('state')!, code, refreshed]
    for (const secret of secrets) expect(stored).not.toContain(secret)
    const log = node.logLines.join('\n')
    for (const secret of secrets) expect(log).not.toContain(secret)
    expect(log).toContain('browser signed in')
  })
})
