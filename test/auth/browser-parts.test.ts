/** The small parts of browser sign-in: PKCE, our cookies, the return path (no open redirect), the pages' escaping. */
import { describe, expect, test } from 'bun:test'
import { LOGIN_COOKIE, SESSION_COOKIE } from '../../src/auth/index.ts'
import { clearedHostCookie, cookieValues, hostCookie, withoutCookies } from '../../src/auth/cookies.ts'
import { accessDeniedPage, escapeHtml, signedOutPage } from '../../src/auth/pages.ts'
import { newCodeVerifier, s256Challenge } from '../../src/auth/pkce.ts'
import { returnPathOf } from '../../src/auth/return-path.ts'

describe('PKCE (RFC 7636)', () => {
  test('RFC 7636 Appendix B: the S256 challenge of the example verifier', () => {
    expect(s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
  })

  test('RFC 7636 §4.1: a verifier is 43 unreserved characters, new every time', () => {
    const verifiers = new Set(Array.from({ length: 50 }, newCodeVerifier))
    expect(verifiers.size).toBe(50)
    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9\-._~]{43}$/)
  })
})

describe('cookies', () => {
  test('__Host- cookies carry Secure, Path=/, no Domain, HttpOnly, SameSite=Lax and Max-Age', () => {
    expect(hostCookie(SESSION_COOKIE, 'abc', 60)).toBe('__Host-ohp-session=abc; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=Lax')
    expect(clearedHostCookie(LOGIN_COOKIE)).toBe('__Host-ohp-login=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax')
    expect(hostCookie(SESSION_COOKIE, 'abc', 60)).not.toContain('Domain')
    expect(() => hostCookie('ohp-session', 'abc', 60)).toThrow()
  })

  test('RFC 6265 §5.4: every value sent under a name, in order; names are exact', () => {
    expect(cookieValues(null, SESSION_COOKIE)).toEqual([])
    expect(cookieValues(`a=1; ${SESSION_COOKIE}=x; __host-ohp-session=y; ${SESSION_COOKIE}=z;${SESSION_COOKIE}x=w`, SESSION_COOKIE)).toEqual(['x', 'z'])
    expect(cookieValues(`${SESSION_COOKIE}`, SESSION_COOKIE)).toEqual([])
  })

  test('the backend gets every other cookie exactly as sent, and no header when only ours were there', () => {
    expect(withoutCookies(`a=1; ${SESSION_COOKIE}=s; b="two words"; ${LOGIN_COOKIE}=l; c=`, [SESSION_COOKIE, LOGIN_COOKIE])).toBe('a=1; b="two words"; c=')
    expect(withoutCookies(`${SESSION_COOKIE}=s;${LOGIN_COOKIE}=l`, [SESSION_COOKIE, LOGIN_COOKIE])).toBeNull()
    expect(withoutCookies(`${SESSION_COOKIE}`, [SESSION_COOKIE])).toBeNull()
  })
})

describe('the return path (RFC 9700 §4.11: no open redirector)', () => {
  const ORIGIN = 'https://app.example.com'
  test.each([
    ['/dashboard?tab=1', '/dashboard?tab=1'],
    ['/', '/'],
    ['/a%2F%2Fb', '/a%2F%2Fb'],
    ['/search?q=//evil.example', '/search?q=//evil.example'],
  ])('%s stays %s', (target, expected) => {
    expect(returnPathOf(ORIGIN, target)).toBe(expected)
  })

  test.each([
    '//evil.example/x',
    '/\\evil.example',
    '/\\/evil.example',
    '\\\\evil.example',
    'https://evil.example/',
    'https://app.example.com/',
    'javascript:alert(1)',
    '/.//evil.example',
    '/a/../..//evil.example',
    '/%2e%2e//evil.example',
    '',
    '*',
    '/_oauth/callback?code=x',
    '/_oauth/logout',
  ])('%p goes back to / instead', (target) => {
    expect(returnPathOf(ORIGIN, target)).toBe('/')
  })
})

describe('pages', () => {
  test('every text is HTML-escaped', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
    const denied = accessDeniedPage('https://<script>alert(1)</script>.example.com')
    expect(denied.status).toBe(403)
    expect(denied.body).not.toContain('<script>')
    expect(denied.body).toContain('Your GitHub account is not allowed on &lt;script&gt;alert(1)&lt;/script&gt;.example.com')
  })

  test('pages are no-store, sniff-proof, send no Referer, and run nothing', () => {
    const page = signedOutPage('https://app.example.com', [['set-cookie', clearedHostCookie(SESSION_COOKIE)]])
    const headers = new Map(page.headers)
    expect(headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(headers.get('cache-control')).toBe('no-store')
    expect(headers.get('referrer-policy')).toBe('no-referrer')
    expect(headers.get('x-content-type-options')).toBe('nosniff')
    expect(headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(page.body).toContain('Signed out')
  })
})
