/** @module GitHub user lookup (`/user`, `/user/emails`) against the GitHub fake, on github.com and Enterprise layouts. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/lib/index.ts'
import { createGitHubClient, type GitHubClient } from '../../src/oauth/index.ts'
import { createGitHubFake, type FakeUser, type GitHubFake } from '../fixtures/github-fake.ts'

const USERS: FakeUser[] = [
  // A private primary (GitHub's default): still the user's own address, released to us by `user:email`.
  { id: 1001, login: 'alice', name: 'Alice A.', emails: [{ email: 'a@old.example', verified: true }, { email: 'alice@example.com', primary: true, verified: true }] },
  { id: 1002, login: 'bob', name: null, emails: [{ email: 'bob@example.com', primary: true, verified: true, visibility: 'public' }] },
  // The primary is unverified: no email, even though another address is verified.
  { id: 1003, login: 'carol', emails: [{ email: 'carol@example.com', primary: true, verified: false }, { email: 'c@work.example', verified: true }] },
  { id: 1004, login: 'dave-emu_acme', emails: [] },
  { id: 2 ** 40, login: 'erin' },
]

let fake: GitHubFake
let github: GitHubClient
const logLines: string[] = []
const logger = createLogger('debug', (line) => logLines.push(line))

beforeAll(() => {
  fake = createGitHubFake({ users: USERS })
  github = createGitHubClient({ webUrl: fake.webUrl, apiUrl: fake.apiUrl, logger })
})
afterAll(() => fake.stop())

describe('fetchUser', () => {
  test('id becomes sub (a string), login becomes username; the primary verified email even when private', async () => {
    expect(await github.fetchUser(fake.issueToken('alice'))).toEqual({ ok: true, user: { sub: '1001', username: 'alice', email: 'alice@example.com' }, name: 'Alice A.' })
  })

  test('a public primary verified email, no display name', async () => {
    expect(await github.fetchUser(fake.issueToken('bob'))).toEqual({ ok: true, user: { sub: '1002', username: 'bob', email: 'bob@example.com' }, name: null })
  })

  test('an unverified primary is ignored, and no other address stands in for it', async () => {
    const result = await github.fetchUser(fake.issueToken('carol'))
    expect(result).toEqual({ ok: true, user: { sub: '1003', username: 'carol' }, name: null })
    expect(result.ok && 'email' in result.user).toBe(false)
  })

  test('no addresses at all; a large id; an Enterprise Managed User login with `_`', async () => {
    expect(await github.fetchUser(fake.issueToken('dave-emu_acme'))).toEqual({ ok: true, user: { sub: '1004', username: 'dave-emu_acme' }, name: null })
    expect(await github.fetchUser(fake.issueToken('erin'))).toMatchObject({ ok: true, user: { sub: '1099511627776', username: 'erin' } })
  })

  test('a token without user:email: /user/emails answers 404, which means no email, not an error', async () => {
    expect(await github.fetchUser(fake.issueToken('alice', 'read:user'))).toEqual({ ok: true, user: { sub: '1001', username: 'alice' }, name: 'Alice A.' })
    // The broader `user` scope includes user:email.
    expect(await github.fetchUser(fake.issueToken('alice', 'user'))).toMatchObject({ ok: true, user: { email: 'alice@example.com' } })
  })

  test('headers: Bearer, the GitHub media type, the API version and our User-Agent', async () => {
    const token = fake.issueToken('alice')
    const before = fake.requests.length
    await github.fetchUser(token)
    const sent = fake.requests.slice(before)
    expect(sent.map((r) => `${r.method} ${r.path}`).sort()).toEqual(['GET /api/user', 'GET /api/user/emails'])
    for (const r of sent) {
      expect(r.headers).toMatchObject({
        authorization: `Bearer ${token}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'oauth-https-proxy',
      })
      expect(r.url).not.toContain(token)
    }
  })

  test('a revoked or unknown token: bad_token (401 Bad credentials)', async () => {
    const token = fake.issueToken('bob')
    fake.revokeTokens('bob')
    expect(await github.fetchUser(token)).toEqual({ ok: false, reason: 'bad_token', detail: '/user: HTTP 401' })
    expect(await github.fetchUser('gho_000000000000000000000000000000000000')).toMatchObject({ ok: false, reason: 'bad_token' })
  })

  test('a token that cannot go in a header is refused before any request', async () => {
    const before = fake.requests.length
    for (const token of ['', 'a b', 'gho_x\r\nX-Evil: 1', 'é']) {
      expect(await github.fetchUser(token)).toMatchObject({ ok: false, reason: 'bad_token' })
    }
    expect(fake.requests.length).toBe(before)
  })

  test('failNext on /user or /user/emails (5xx or malformed): upstream, then normal service resumes', async () => {
    const token = fake.issueToken('alice')
    const cases = [['user', 500, '/user: HTTP 500'], ['user', 'malformed', '/user: unexpected answer shape at (root)'],
      ['emails', 503, '/user/emails: HTTP 503'], ['emails', 'malformed', '/user/emails: unexpected answer shape at (root)']] as const
    for (const [endpoint, failure, detail] of cases) {
      fake.failNext(endpoint, failure)
      expect(await github.fetchUser(token)).toEqual({ ok: false, reason: 'upstream', detail })
    }
    expect((await github.fetchUser(token)).ok).toBe(true)
  })

  test('log lines never carry the access token', () => {
    expect(logLines.some((line) => line.includes('github user lookup failed'))).toBe(true)
    for (const line of logLines) expect(line).not.toMatch(/gho_[A-Za-z0-9]{36}/)
  })
})

describe('GitHub Enterprise Server layout (API under /api/v3)', () => {
  let ghe: GitHubFake
  beforeAll(() => {
    ghe = createGitHubFake({ users: USERS, apiPrefix: '/api/v3' })
  })
  afterAll(() => ghe.stop())

  test('GITHUB_API_URL with a path: requests go below it, a trailing slash is tolerated', async () => {
    for (const apiUrl of [ghe.apiUrl, `${ghe.apiUrl}/`]) {
      const client = createGitHubClient({ webUrl: `${ghe.webUrl}/`, apiUrl, logger })
      const before = ghe.requests.length
      expect(await client.fetchUser(ghe.issueToken('alice'))).toMatchObject({ ok: true, user: { sub: '1001', email: 'alice@example.com' } })
      expect(ghe.requests.slice(before).map((r) => r.path).sort()).toEqual(['/api/v3/user', '/api/v3/user/emails'])
      expect(new URL(client.authorizeUrl({ app: { clientId: 'Iv1.x' }, redirectUri: 'https://a.example/cb', state: 's' })).pathname).toBe('/login/oauth/authorize')
    }
  })

  test('the github.com layout against an Enterprise server: the 404 is an upstream error, not a user', async () => {
    const wrong = createGitHubClient({ webUrl: ghe.webUrl, apiUrl: `${ghe.webUrl}/api`, logger })
    expect(await wrong.fetchUser(ghe.issueToken('alice'))).toEqual({ ok: false, reason: 'upstream', detail: '/user: HTTP 404' })
  })
})
