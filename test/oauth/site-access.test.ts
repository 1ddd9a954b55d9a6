/**
 * The whole access decision (decideSiteAccess): the user lists, then GitHub organisation and team
 * memberships asked with the user's token (GitHub fake); and which GitHub scopes a login asks for.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger } from '../../src/lib/index.ts'
import {
  createGitHubClient,
  decideSiteAccess,
  DEFAULT_GITHUB_SCOPE,
  githubScopeFor,
  MEMBERSHIP_GITHUB_SCOPE,
  requiresMembership,
  type DefaultScopeLists,
  type GitHubClient,
  type SiteAccessLists,
} from '../../src/oauth/index.ts'
import { createGitHubFake, type GitHubFake } from '../fixtures/github-fake.ts'

const NO_DEFAULTS: DefaultScopeLists = { adminUsers: [], userUsers: [], mcpUsers: [] }
const site = (lists: Partial<SiteAccessLists>): SiteAccessLists => ({ requiredUsers: ['*'], adminUsers: null, userUsers: null, mcpUsers: ['*'], ...lists })
const ALICE = { sub: '1001', username: 'alice' }
const BOB = { sub: '1002', username: 'bob' }

let fake: GitHubFake
let github: GitHubClient

beforeAll(() => {
  fake = createGitHubFake({
    users: [
      { id: 1001, login: 'alice', orgs: [{ org: 'acme' }], teams: [{ org: 'acme', slug: 'ops' }] },
      { id: 1002, login: 'bob', orgs: [{ org: 'acme', state: 'pending' }, { org: 'other' }] },
    ],
  })
  github = createGitHubClient({ webUrl: fake.webUrl, apiUrl: fake.apiUrl, logger: createLogger('silent'), timeoutMs: 2000 })
})
afterAll(() => fake.stop())

const token = (login: string, scope = MEMBERSHIP_GITHUB_SCOPE) => fake.issueToken(login, scope)
const decide = (user: typeof ALICE, lists: SiteAccessLists | null, githubToken: string | null = token(user.username)) =>
  decideSiteAccess(github, { user, site: lists, defaults: NO_DEFAULTS, githubToken })

describe('decideSiteAccess', () => {
  test('no organisation or team list (null): the user lists alone decide, and GitHub is not asked', async () => {
    const before = fake.requests.length
    expect(await decide(ALICE, site({}), null)).toEqual({ allowed: true, scopes: ['mcp'] })
    expect(await decide(ALICE, null, null)).toEqual({ allowed: false, scopes: [] })
    expect(fake.requests.length).toBe(before)
  })

  test('a member of a listed organisation is admitted with the scopes the user lists give, and the token is to be kept', async () => {
    expect(await decide(ALICE, site({ requiredOrgs: ['nope', 'acme'] }))).toEqual({ allowed: true, scopes: ['mcp'], checkedMembership: true })
  })

  test('not a member, or only invited (pending): denied as not_a_member', async () => {
    expect(await decide(ALICE, site({ requiredOrgs: ['other'] }))).toEqual({ allowed: false, scopes: [], denial: 'not_a_member' })
    expect(await decide(BOB, site({ requiredOrgs: ['acme'] }))).toEqual({ allowed: false, scopes: [], denial: 'not_a_member' })
  })

  test('teams: a member of a listed team is admitted; a member of the organisation but not of the team is not', async () => {
    expect(await decide(ALICE, site({ requiredTeams: ['acme/ops'] }))).toMatchObject({ allowed: true, checkedMembership: true })
    expect(await decide(ALICE, site({ requiredTeams: ['acme/security'] }))).toMatchObject({ allowed: false, denial: 'not_a_member' })
  })

  test('both lists set: a match in either admits (bob by organisation, alice by team)', async () => {
    const lists = site({ requiredOrgs: ['other'], requiredTeams: ['acme/ops'] })
    expect(await decide(BOB, lists)).toMatchObject({ allowed: true })
    expect(await decide(ALICE, lists)).toMatchObject({ allowed: true })
  })

  test('the user lists still gate: a member of the organisation whom auth_required_users leaves out is denied, without asking GitHub', async () => {
    const before = fake.requests.length
    expect(await decide(ALICE, site({ requiredUsers: ['bob'], requiredOrgs: ['acme'] }))).toEqual({ allowed: false, scopes: [] })
    expect(fake.requests.length).toBe(before)
  })

  test('an empty list admits nobody, like an empty user list', async () => {
    expect(await decide(ALICE, site({ requiredOrgs: [] }))).toMatchObject({ allowed: false, denial: 'not_a_member' })
    expect(await decide(ALICE, site({ requiredOrgs: [], requiredTeams: ['acme/ops'] }))).toMatchObject({ allowed: true })
  })

  test('no GitHub token kept (a grant from before the list existed): github_token_missing', async () => {
    expect(await decide(ALICE, site({ requiredOrgs: ['acme'] }), null)).toEqual({ allowed: false, scopes: [], denial: 'github_token_missing' })
  })

  test('a token without read:org (the user narrowed the scopes at GitHub): GitHub answers 403, so not_a_member', async () => {
    expect(await decide(ALICE, site({ requiredOrgs: ['acme'] }), token('alice', DEFAULT_GITHUB_SCOPE))).toMatchObject({ allowed: false, denial: 'not_a_member' })
  })

  test('GitHub says 401 (token revoked): github_token_revoked; GitHub down: github_unavailable, which is not a refusal', async () => {
    const revoked = token('bob')
    fake.revokeTokens('bob')
    expect(await decide(BOB, site({ requiredOrgs: ['other'] }), revoked)).toMatchObject({ allowed: false, denial: 'github_token_revoked' })
    fake.failNext('orgs', 500)
    expect(await decide(ALICE, site({ requiredOrgs: ['acme'] }))).toMatchObject({ allowed: false, denial: 'github_unavailable' })
  })
})

describe('which GitHub scopes a login asks for', () => {
  test('read:org only where an organisation or team list is set (an empty list counts: it must be checked)', () => {
    expect(githubScopeFor(null)).toBe(DEFAULT_GITHUB_SCOPE)
    expect(githubScopeFor(site({}))).toBe(DEFAULT_GITHUB_SCOPE)
    expect(DEFAULT_GITHUB_SCOPE).not.toContain('read:org')
    for (const lists of [site({ requiredOrgs: ['acme'] }), site({ requiredTeams: ['acme/ops'] }), site({ requiredOrgs: [] })]) {
      expect(requiresMembership(lists)).toBe(true)
      expect(githubScopeFor(lists)).toBe(MEMBERSHIP_GITHUB_SCOPE)
    }
    expect(MEMBERSHIP_GITHUB_SCOPE.split(' ')).toEqual(['read:user', 'user:email', 'read:org'])
  })
})
