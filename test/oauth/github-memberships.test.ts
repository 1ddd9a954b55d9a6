/**
 * GitHub organisation and team memberships (`GET /user/memberships/orgs/{org}`, `GET /orgs/{org}/teams/
 * {team_slug}/memberships/{username}`) asked with the user's token, against the GitHub fake; and the fake's
 * own organisation endpoints (/user/orgs, /user/teams) as GitHub documents them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/lib/index.ts'
import { createGitHubClient, MEMBERSHIP_GITHUB_SCOPE, type GitHubClient } from '../../src/oauth/index.ts'
import { createGitHubFake, type FakeUser, type GitHubFake } from '../fixtures/github-fake.ts'

const USERS: FakeUser[] = [
  {
    id: 1001,
    login: 'alice',
    orgs: [{ org: 'Acme' }, { org: 'invited-org', state: 'pending' }, { org: 'locked' }],
    teams: [{ org: 'acme', slug: 'ops' }, { org: 'acme', slug: 'new-team', state: 'pending' }, { org: 'locked', slug: 'all' }],
  },
  { id: 1002, login: 'bob', orgs: [{ org: 'other' }] },
]

let fake: GitHubFake
let github: GitHubClient
const logLines: string[] = []

beforeAll(() => {
  fake = createGitHubFake({ users: USERS, restrictedOrgs: ['locked'] })
  github = createGitHubClient({ webUrl: fake.webUrl, apiUrl: fake.apiUrl, logger: createLogger('debug', (line) => logLines.push(line)), timeoutMs: 2000 })
})
afterAll(() => fake.stop())

const token = (login = 'alice', scope = MEMBERSHIP_GITHUB_SCOPE) => fake.issueToken(login, scope)
const find = (orgs: string[], teams: string[] = [], login = 'alice', accessToken = token(login)) => github.findMembership(accessToken, { login, orgs, teams })

describe('findMembership', () => {
  test('an active organisation membership matches (org logins compare case-insensitively, as on GitHub)', async () => {
    expect(await find(['acme'])).toEqual({ ok: true, matched: 'org:acme', refused: [] })
  })

  test('a pending invitation, an organisation the user is not in, an empty list: no match', async () => {
    expect(await find(['invited-org'])).toEqual({ ok: true, matched: null, refused: [] })
    expect(await find(['other'])).toEqual({ ok: true, matched: null, refused: [] })
    expect(await find([])).toEqual({ ok: true, matched: null, refused: [] })
  })

  test('teams: an active team membership matches; a pending one, another team or another org\'s team does not', async () => {
    expect(await find([], ['acme/ops'])).toEqual({ ok: true, matched: 'team:acme/ops', refused: [] })
    expect(await find([], ['acme/new-team', 'acme/security', 'other/ops'])).toEqual({ ok: true, matched: null, refused: [] })
  })

  test('either list admits: the first entry that matches ends the search (one request per entry until then)', async () => {
    const before = fake.requests.length
    expect(await find(['other', 'acme', 'never-asked'], ['acme/ops'])).toEqual({ ok: true, matched: 'org:acme', refused: [] })
    expect(fake.requests.slice(before).map((r) => r.path)).toEqual(['/api/user/memberships/orgs/other', '/api/user/memberships/orgs/acme'])
    expect(await find(['other'], ['acme/ops'])).toMatchObject({ ok: true, matched: 'team:acme/ops' })
  })

  test('a token without read:org: GitHub answers 403, which is no membership (the entry is reported as refused)', async () => {
    const result = await find(['acme'], ['acme/ops'], 'alice', token('alice', 'read:user user:email'))
    expect(result).toEqual({ ok: true, matched: null, refused: ['org:acme', 'team:acme/ops'] })
    // `user` and `admin:org` include what read:org allows.
    expect(await find(['acme'], [], 'alice', token('alice', 'user'))).toMatchObject({ matched: 'org:acme' })
    expect(await find([], ['acme/ops'], 'alice', token('alice', 'admin:org'))).toMatchObject({ matched: 'team:acme/ops' })
  })

  test('an organisation with OAuth app access restrictions: 403 on its endpoints, whatever the scopes', async () => {
    expect(await find(['locked'], ['locked/all'])).toEqual({ ok: true, matched: null, refused: ['org:locked', 'team:locked/all'] })
  })

  test('a revoked GitHub token: 401 → bad_token, at once', async () => {
    const revoked = token('bob')
    fake.revokeTokens('bob')
    expect(await find(['other'], [], 'bob', revoked)).toMatchObject({ ok: false, reason: 'bad_token' })
    expect(await find(['acme'], [], 'alice', 'not a token')).toMatchObject({ ok: false, reason: 'bad_token' })
  })

  test('GitHub failing: upstream when nothing matched, but a later match still decides', async () => {
    fake.failNext('orgs', 502)
    expect(await find(['acme'])).toMatchObject({ ok: false, reason: 'upstream' })
    fake.failNext('orgs', 'malformed')
    expect(await find(['other', 'acme'])).toEqual({ ok: true, matched: 'org:acme', refused: [] })
    fake.failNext('orgs', 503)
    expect(await find(['acme', 'other'])).toMatchObject({ ok: false, reason: 'upstream' })
    expect(await find(['acme'])).toMatchObject({ ok: true, matched: 'org:acme' })
  })

  test('a name that is no GitHub login or team slug ("..", a slash, an escape) is no membership and costs no request', async () => {
    const before = fake.requests.length
    expect(await find(['..', '../../user', 'acme/ops', '%2e%2e', ''], ['acme/..', 'acme/ops/x', '../acme', 'acme/%2e%2e', 'acme'])).toEqual({ ok: true, matched: null, refused: [] })
    expect(fake.requests.length).toBe(before)
  })

  test('the token goes in the Authorization header with the API version, never in the URL; no token in the log', async () => {
    const secret = token()
    const before = fake.requests.length
    await find(['acme'], [], 'alice', secret)
    const [sent] = fake.requests.slice(before)
    expect(sent!.headers.authorization).toBe(`Bearer ${secret}`)
    expect(sent!.headers['x-github-api-version']).toBe('2022-11-28')
    expect(sent!.url).not.toContain(secret)
    expect(logLines.join('\n')).not.toContain(secret)
  })
})

describe('the fake, as GitHub documents it', () => {
  const get = (path: string, accessToken: string) => fetch(`${fake.apiUrl}${path}`, { headers: { authorization: `Bearer ${accessToken}`, 'user-agent': 'test' } })

  test('/user/orgs: 403 without user or read:org; active memberships only, restricted organisations left out', async () => {
    expect((await get('/user/orgs', token('alice', 'read:user'))).status).toBe(403)
    const response = await get('/user/orgs', token())
    expect(response.status).toBe(200)
    expect(((await response.json()) as { login: string }[]).map((org) => org.login)).toEqual(['Acme'])
  })

  test('/user/teams: paginated with a Link header; 403 without user, repo or read:org', async () => {
    fake.setMemberships('bob', { teams: [{ org: 'other', slug: 'a' }, { org: 'other', slug: 'b' }, { org: 'other', slug: 'c' }] })
    expect((await get('/user/teams', token('bob', 'read:user'))).status).toBe(403)
    const first = await get('/user/teams?per_page=2', token('bob'))
    expect(((await first.json()) as { slug: string }[]).map((team) => team.slug)).toEqual(['a', 'b'])
    expect(first.headers.get('link')).toContain('page=2>; rel="next"')
    const second = await get('/user/teams?per_page=2&page=2', token('bob'))
    expect(((await second.json()) as { slug: string; organization: { login: string } }[]).map((team) => `${team.organization.login}/${team.slug}`)).toEqual(['other/c'])
  })

  test('membership bodies carry state and role; setMemberships changes what GitHub says from the next request', async () => {
    const alice = token()
    expect(await (await get('/user/memberships/orgs/invited-org', alice)).json()).toMatchObject({ state: 'pending', role: 'member', organization: { login: 'invited-org' } })
    expect(await (await get('/orgs/acme/teams/ops/memberships/alice', alice)).json()).toEqual(expect.objectContaining({ state: 'active', role: 'member' }))
    fake.setMemberships('alice', { orgs: [] })
    expect((await get('/user/memberships/orgs/acme', alice)).status).toBe(404)
    // Outside the organisation its teams are out of sight too.
    expect((await get('/orgs/acme/teams/ops/memberships/alice', alice)).status).toBe(404)
    fake.setMemberships('alice', { orgs: USERS[0]!.orgs })
  })
})
