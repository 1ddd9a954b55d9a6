/**
 * @module Whether a GitHub user belongs to one of a list of organisations or teams, asked with the
 * user's own token (it needs the `read:org` scope): one request per listed entry, stopping at the
 * first active membership.
 * @see https://docs.github.com/rest/orgs/members#get-an-organization-membership-for-the-authenticated-user
 * @see https://docs.github.com/rest/teams/members#get-team-membership-for-a-user
 */
import * as v from 'valibot'
import { isGitHubLogin } from '../../lib/index.ts'
import { sendRequest, TokenSchema, type HttpDeps, type HttpOutcome } from './http.ts'
import { GITHUB_API_VERSION } from './user-api.ts'

export interface MembershipQuery {
  /** The user's GitHub login (the team endpoint names the member). */
  readonly login: string
  /** Organisation logins. */
  readonly orgs: readonly string[]
  /** "org/team-slug". */
  readonly teams: readonly string[]
}

/**
 * - `matched`: the first entry with an active membership (`org:acme` or `team:acme/ops`), or null for none;
 * - `refused`: entries GitHub answered 403 for (the token lacks `read:org`, or the organisation restricts
 *   OAuth apps): no membership can be seen there, which counts as none. For the log.
 * `bad_token`: GitHub answered 401 (the token was revoked). `upstream`: no entry matched and at least
 * one could not be asked (GitHub unreachable, 5xx, rate limited, an unreadable answer).
 */
export type MembershipResult =
  | { readonly ok: true; readonly matched: string | null; readonly refused: readonly string[] }
  | { readonly ok: false; readonly reason: 'bad_token' | 'upstream'; readonly detail: string }

/** A pending invitation is not a membership: only `active` admits. */
const MembershipSchema = v.object({ state: v.string() })

/** What one request said about one entry. */
type EntryAnswer = 'member' | 'not_member' | 'refused' | 'bad_token' | { readonly upstream: string }

function readAnswer(path: string, outcome: HttpOutcome): EntryAnswer {
  if (!outcome.ok) return { upstream: `${path}: ${outcome.detail}` }
  switch (outcome.status) {
    case 200: {
      const parsed = v.safeParse(MembershipSchema, outcome.body)
      if (!parsed.success) return { upstream: `${path}: unexpected answer shape` }
      return parsed.output.state === 'active' ? 'member' : 'not_member'
    }
    // "If the authenticated user is not affiliated with the organization, a 404 is returned"; the team
    // endpoint answers 404 for no membership, and for a team the user cannot see.
    case 404: return 'not_member'
    case 403: return 'refused'
    case 401: return 'bad_token'
    default: return { upstream: `${path}: HTTP ${outcome.status}` }
  }
}

/** GitHub team slugs: lower-case letters, digits, "-" and "_" (GitHub derives them from the team name). */
const TEAM_SLUG = /^[A-Za-z0-9_-]{1,100}$/
/**
 * Each name becomes a path segment. Our lists are validated when stored; here a name that is not a
 * GitHub login or slug (".." would climb the path even encoded) is simply no membership, never a request.
 */
const segment = encodeURIComponent

export async function findMembership(deps: HttpDeps, apiUrl: string, accessToken: string, query: MembershipQuery): Promise<MembershipResult> {
  if (!v.is(TokenSchema, accessToken)) return { ok: false, reason: 'bad_token', detail: 'access token is not a visible-ASCII string' }
  const entries = [
    ...query.orgs.filter(isGitHubLogin).map((org) => ({ name: `org:${org}`, path: `/user/memberships/orgs/${segment(org)}` })),
    ...query.teams.flatMap((team) => {
      const [org = '', slug = '', ...rest] = team.split('/')
      if (rest.length > 0 || !isGitHubLogin(org) || !TEAM_SLUG.test(slug)) return []
      return [{ name: `team:${team}`, path: `/orgs/${segment(org)}/teams/${segment(slug)}/memberships/${segment(query.login)}` }]
    }),
  ]
  const refused: string[] = []
  let unanswered: string | null = null
  // One at a time: lists are short, the first match ends the search, and GitHub's secondary rate
  // limits punish bursts of concurrent requests from one token.
  for (const entry of entries) {
    const outcome = await sendRequest(deps, {
      method: 'GET',
      url: `${apiUrl}${entry.path}`,
      headers: { accept: 'application/vnd.github+json', authorization: `Bearer ${accessToken}`, 'x-github-api-version': GITHUB_API_VERSION },
    })
    const answer = readAnswer(entry.path, outcome)
    if (answer === 'member') return { ok: true, matched: entry.name, refused }
    if (answer === 'bad_token') return { ok: false, reason: 'bad_token', detail: `${entry.path}: HTTP 401` }
    if (answer === 'refused') refused.push(entry.name)
    else if (typeof answer === 'object') unanswered ??= answer.upstream
  }
  // A later entry could have admitted the user; without its answer there is no decision.
  if (unanswered !== null) return { ok: false, reason: 'upstream', detail: unanswered }
  return { ok: true, matched: null, refused }
}
