/**
 * @module The whole access decision for one resource: the user lists first (policy.accessFor), then,
 * when the site lists GitHub organisations (auth_required_orgs) or teams (auth_required_teams), an
 * active membership that GitHub confirms with the user's own token. Asked at login (/callback and the
 * device grant) and again on every refresh (RFC 6749 §6), so leaving the organisation ends access at
 * the next refresh.
 *
 * The lists combine so:
 * - the user lists always gate: an organisation never admits someone auth_required_users leaves out;
 * - organisations and teams are one list of alternatives: with both set, a membership in any listed
 *   organisation or in any listed team admits (a team is the narrower way to say the same thing);
 * - an empty list, like an empty user list, admits nobody; null means no such check.
 */
import { DEFAULT_GITHUB_SCOPE, MEMBERSHIP_GITHUB_SCOPE, type GitHubClient } from './github/index.ts'
import { accessFor, type Access, type DefaultScopeLists, type MembershipDenial, type SiteAccessLists } from './policy.ts'
import type { OAuthUser } from './user.ts'

/** Whether logging in to this site means asking GitHub about organisations or teams. */
export function requiresMembership(site: SiteAccessLists | null): boolean {
  return (site?.requiredOrgs ?? null) !== null || (site?.requiredTeams ?? null) !== null
}

/** The GitHub scopes a login for this site asks for: `read:org` only where memberships are checked. */
export function githubScopeFor(site: SiteAccessLists | null): string {
  return requiresMembership(site) ? MEMBERSHIP_GITHUB_SCOPE : DEFAULT_GITHUB_SCOPE
}

export interface SiteAccessInput {
  readonly user: OAuthUser
  /** The proxy's lists; null for the management API (no membership check there). */
  readonly site: SiteAccessLists | null
  readonly defaults: DefaultScopeLists
  /** At login the token GitHub just issued; on refresh the one kept with the grant; null when none was kept. */
  readonly githubToken: string | null
}

const deny = (denial: MembershipDenial): Access => ({ allowed: false, scopes: [], denial })

export async function decideSiteAccess(github: Pick<GitHubClient, 'findMembership'>, input: SiteAccessInput): Promise<Access> {
  const { user, site } = input
  const byLists = accessFor(user, site, input.defaults)
  if (!byLists.allowed || !requiresMembership(site)) return byLists
  // A grant made before the site asked for memberships kept no token: only a new login can answer.
  if (input.githubToken === null) return deny('github_token_missing')
  const query = { login: user.username, orgs: site?.requiredOrgs ?? [], teams: site?.requiredTeams ?? [] }
  if (query.orgs.length + query.teams.length === 0) return deny('not_a_member')
  const found = await github.findMembership(input.githubToken, query)
  if (!found.ok) return deny(found.reason === 'bad_token' ? 'github_token_revoked' : 'github_unavailable')
  return found.matched === null ? deny('not_a_member') : { ...byLists, checkedMembership: true }
}
