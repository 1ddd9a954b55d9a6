/** @module The GitHub web application flow against the GitHub fake: authorize URL, callback, code exchange. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/lib/index.ts'
import { createGitHubClient, readAuthorizeCallback, type GitHubClient } from '../../src/oauth/index.ts'
import { createGitHubFake, type GitHubFake } from '../fixtures/github-fake.ts'

const CALLBACK = 'https://auth.example.com/callback'
const APP = { clientId: 'Iv1.web', clientSecret: 'web-secret-d41d8cd98f00', callbackUrl: CALLBACK }
const OTHER = { clientId: 'Iv1.other', clientSecret: 'other-secret-0cc175b9c0f1', callbackUrl: 'https://other.example.com/cb' }
const ALICE = { id: 1001, login: 'alice', emails: [{ email: 'alice@example.com', primary: true, verified: true }] }

let fake: GitHubFake
let github: GitHubClient
const logLines: string[] = []

beforeAll(() => {
  fake = createGitHubFake({ users: [ALICE], apps: [APP, OTHER] })
  github = createGitHubClient({ webUrl: fake.webUrl, apiUrl: fake.apiUrl, logger: createLogger('debug', (line) => logLines.push(line)) })
})
afterAll(() => fake.stop())

/** The browser's trip to GitHub: our authorize URL, approved as `alice`; returns GitHub's redirect back. */
async function visitGitHub(url: string): Promise<URL> {
  fake.setNextLogin('alice')
  const res = await fetch(url, { redirect: 'manual' })
  expect(res.status).toBe(302)
  return new URL(res.headers.get('location') ?? '')
}
async function codeFor(app = APP, redirectUri = CALLBACK): Promise<string> {
  const back = readAuthorizeCallback((await visitGitHub(github.authorizeUrl({ app, redirectUri, state: 'st' }))).searchParams)
  if (!back.ok) throw new Error(back.detail)
  return back.code
}

describe('authorizeUrl', () => {
  test('GitHub /login/oauth/authorize with client_id, redirect_uri, state and the default scope', () => {
    const url = new URL(github.authorizeUrl({ app: APP, redirectUri: CALLBACK, state: 'our-state' }))
    expect(url.origin + url.pathname).toBe(`${fake.webUrl}/login/oauth/authorize`)
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: APP.clientId, redirect_uri: CALLBACK, scope: 'read:user user:email', state: 'our-state' })
  })

  test('a scope is passed through; hostile values are encoded, never spliced', () => {
    const url = new URL(github.authorizeUrl({ app: APP, redirectUri: `${CALLBACK}?a=1&b=2`, state: 'x&client_id=evil#frag', scope: 'read:user' }))
    expect(url.searchParams.get('state')).toBe('x&client_id=evil#frag')
    expect(url.searchParams.getAll('client_id')).toEqual([APP.clientId])
    expect(url.searchParams.get('redirect_uri')).toBe(`${CALLBACK}?a=1&b=2`)
    expect(url.searchParams.get('scope')).toBe('read:user')
    expect(url.hash).toBe('')
  })

  test('the client secret never appears in the authorize URL', () => {
    expect(github.authorizeUrl({ app: APP, redirectUri: CALLBACK, state: 's' })).not.toContain(APP.clientSecret)
  })
})

describe('readAuthorizeCallback', () => {
  test('GitHub\'s redirect carries our state back with a code', async () => {
    const back = readAuthorizeCallback((await visitGitHub(github.authorizeUrl({ app: APP, redirectUri: CALLBACK, state: 'st-9' }))).searchParams)
    expect(back).toEqual({ ok: true, code: expect.stringMatching(/^[0-9a-f]{20}$/), state: 'st-9' })
  })

  test('the user denies: denied, with the state kept for the caller\'s check', async () => {
    fake.denyNext()
    const back = readAuthorizeCallback((await visitGitHub(github.authorizeUrl({ app: APP, redirectUri: CALLBACK, state: 'st-d' }))).searchParams)
    expect(back).toEqual({ ok: false, reason: 'denied', detail: 'access_denied: The user has denied your application access.', state: 'st-d' })
  })

  test('a redirect_uri outside the app\'s callback URL: redirect_mismatch', async () => {
    const back = readAuthorizeCallback((await visitGitHub(github.authorizeUrl({ app: APP, redirectUri: 'https://evil.example/cb', state: 's' }))).searchParams)
    expect(back).toMatchObject({ ok: false, reason: 'redirect_mismatch' })
  })

  test('a suspended app: bad_credentials; an unknown error or no code: upstream', () => {
    expect(readAuthorizeCallback(new URLSearchParams('error=application_suspended&state=s'))).toMatchObject({ ok: false, reason: 'bad_credentials', state: 's' })
    expect(readAuthorizeCallback(new URLSearchParams('error=server_error'))).toMatchObject({ ok: false, reason: 'upstream', state: null })
    for (const query of ['', 'state=s', 'code=', 'code=a%0Ab', `code=${'a'.repeat(300)}`]) {
      expect(readAuthorizeCallback(new URLSearchParams(query))).toMatchObject({ ok: false, reason: 'upstream' })
    }
  })
})

describe('exchangeCode', () => {
  test('a fresh code buys an access token (POST form, Accept: application/json, the secret in the body only)', async () => {
    const code = await codeFor()
    const result = await github.exchangeCode({ app: APP, code, redirectUri: CALLBACK })
    expect(result).toEqual({ ok: true, accessToken: expect.stringMatching(/^gho_/), scopes: ['read:user', 'user:email'] })
    const sent = fake.requests.findLast((r) => r.path === '/login/oauth/access_token')
    expect(sent).toMatchObject({ method: 'POST', url: `${fake.webUrl}/login/oauth/access_token` })
    expect(sent?.headers).toMatchObject({ accept: 'application/json', 'content-type': expect.stringContaining('application/x-www-form-urlencoded'), 'user-agent': 'oauth-https-proxy' })
    expect(Object.fromEntries(new URLSearchParams(sent?.body))).toEqual({ client_id: APP.clientId, client_secret: APP.clientSecret, code, redirect_uri: CALLBACK })
  })

  test('a code used twice: bad_code', async () => {
    const code = await codeFor()
    expect((await github.exchangeCode({ app: APP, code, redirectUri: CALLBACK })).ok).toBe(true)
    expect(await github.exchangeCode({ app: APP, code, redirectUri: CALLBACK })).toEqual({
      ok: false, reason: 'bad_code', detail: 'bad_verification_code: The code passed is incorrect or expired.',
    })
  })

  test('an expired code, an unknown code, another app\'s code: bad_code', async () => {
    const expired = await codeFor()
    fake.advance(601)
    expect(await github.exchangeCode({ app: APP, code: expired, redirectUri: CALLBACK })).toMatchObject({ ok: false, reason: 'bad_code' })
    expect(await github.exchangeCode({ app: APP, code: '0'.repeat(20), redirectUri: CALLBACK })).toMatchObject({ ok: false, reason: 'bad_code' })
    const othersCode = await codeFor(OTHER, OTHER.callbackUrl)
    expect(await github.exchangeCode({ app: APP, code: othersCode, redirectUri: CALLBACK })).toMatchObject({ ok: false, reason: 'bad_code' })
  })

  test('a wrong client secret or an unknown client id: bad_credentials', async () => {
    const code = await codeFor()
    for (const app of [{ ...APP, clientSecret: 'wrong' }, { clientId: 'Iv1.nobody', clientSecret: 'x' }]) {
      expect(await github.exchangeCode({ app, code, redirectUri: CALLBACK })).toMatchObject({ ok: false, reason: 'bad_credentials', detail: expect.stringMatching(/^incorrect_client_credentials: /) })
    }
  })

  test('a redirect_uri other than the one authorized: redirect_mismatch', async () => {
    const code = await codeFor(APP, `${CALLBACK}/sub`)
    expect(await github.exchangeCode({ app: APP, code, redirectUri: CALLBACK })).toMatchObject({ ok: false, reason: 'redirect_mismatch' })
  })

  test('failNext 502 (an HTML page) and a malformed 200 body: upstream, and the next call works', async () => {
    const code = await codeFor()
    fake.failNext('token', 502)
    expect(await github.exchangeCode({ app: APP, code, redirectUri: CALLBACK })).toEqual({ ok: false, reason: 'upstream', detail: 'HTTP 502' })
    fake.failNext('token', 'malformed')
    expect(await github.exchangeCode({ app: APP, code, redirectUri: CALLBACK })).toEqual({ ok: false, reason: 'upstream', detail: 'HTTP 200 with a body that is not JSON' })
    // The fake answers an injected failure before it looks at the code, so the code is still good.
    expect((await github.exchangeCode({ app: APP, code, redirectUri: CALLBACK })).ok).toBe(true)
  })

  test('the client secret never appears in any request URL the fake logged', () => {
    expect(fake.requests.length).toBeGreaterThan(10)
    for (const r of fake.requests) {
      expect(r.url).not.toContain(APP.clientSecret)
      expect(r.url).not.toContain(OTHER.clientSecret)
    }
  })

  test('log lines name the failure but never a code, a token or a secret', () => {
    expect(logLines.some((line) => line.includes('"reason":"bad_code"'))).toBe(true)
    const codes = fake.requests.flatMap((r) => new URLSearchParams(r.body).getAll('code'))
    expect(codes.length).toBeGreaterThan(0)
    for (const line of logLines) {
      for (const secret of [APP.clientSecret, OTHER.clientSecret, 'gho_', ...codes]) expect(line).not.toContain(secret)
    }
  })
})
