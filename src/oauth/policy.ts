/**
 * @module Two pure decisions of the authorization server: who may enter a site and with which scopes
 * (accessFor), and which resource a token is for (resolveResource, RFC 8707). No I/O: the caller
 * passes plain data (a proxy's lists, the OAUTH_*_USERS defaults, the known resources).
 */
import { isGitHubLogin } from '../lib/index.ts'
import { isLoopbackHost } from './issuer.ts'
import { SCOPES, type Scope } from './tokens/scopes.ts'
import type { OAuthUser } from './user.ts'

/** In every list alike, "*" means any GitHub user (the original stripped it in some lists and honoured it in others, §4.5). */
export const ANY_GITHUB_USER = '*'

/** OAUTH_ADMIN_USERS, OAUTH_USER_USERS, OAUTH_MCP_USERS. */
export interface DefaultScopeLists {
  readonly adminUsers: readonly string[]
  readonly userUsers: readonly string[]
  readonly mcpUsers: readonly string[]
}

/** A proxy's auth_required_users and oauth_*_users; a null scope list falls back to the default. */
export interface SiteAccessLists {
  readonly requiredUsers: readonly string[] | null
  readonly adminUsers: readonly string[] | null
  readonly userUsers: readonly string[] | null
  readonly mcpUsers: readonly string[] | null
  /** auth_required_orgs: GitHub organisation logins, lower-case; null or absent: no organisation check (site-access.ts). */
  readonly requiredOrgs?: readonly string[] | null
  /** auth_required_teams: "org/team-slug", lower-case; null or absent: no team check. */
  readonly requiredTeams?: readonly string[] | null
}

/**
 * Why access was refused when the user lists alone did not decide it (site-access.ts); for the log,
 * except `github_unavailable`, which is not a refusal but "ask again later".
 */
export type MembershipDenial = 'not_a_member' | 'github_token_missing' | 'github_token_revoked' | 'github_unavailable'

export interface Access {
  readonly allowed: boolean
  /** In SCOPES order; empty when not allowed. admin implies the others where scopes are checked (scopesSatisfy). */
  readonly scopes: Scope[]
  /** Set when GitHub memberships refused (or could not decide) what the user lists allowed. */
  readonly denial?: MembershipDenial
  /**
   * The decision rested on a GitHub organisation or team membership: the grant keeps the user's GitHub
   * token (sealed) so that every refresh can ask GitHub again.
   */
  readonly checkedMembership?: boolean
}

const DENIED: Access = { allowed: false, scopes: [] }

/**
 * `site` null is the management API itself: only the defaults apply. The allowlist gates entry:
 * auth_required_users, or when null the union of the three effective scope lists, so a user who holds
 * only mcp is admitted (the original denied them, §12.2). An admitted user gets each scope whose
 * effective list names them; one admitted by an explicit allowlist who is in no scope list gets
 * `allowed: true, scopes: []` (no implicit scope, unlike the original's default "user"); the resource
 * decides whether that is enough. Logins compare case-insensitively, as GitHub's do; a username that
 * is not a GitHub login is never admitted, "*" included.
 */
export function accessFor(user: OAuthUser, site: SiteAccessLists | null, defaults: DefaultScopeLists): Access {
  if (!isGitHubLogin(user.username)) return DENIED
  const login = user.username.toLowerCase()
  const names = (list: readonly string[]) => list.some((entry) => entry === ANY_GITHUB_USER || entry.toLowerCase() === login)

  const byScope: Record<Scope, readonly string[]> = {
    admin: site?.adminUsers ?? defaults.adminUsers,
    user: site?.userUsers ?? defaults.userUsers,
    mcp: site?.mcpUsers ?? defaults.mcpUsers,
  }
  const required = site?.requiredUsers ?? SCOPES.flatMap((scope) => byScope[scope])
  if (!names(required)) return DENIED
  return { allowed: true, scopes: SCOPES.filter((scope) => names(byScope[scope])) }
}

export interface KnownResources {
  /** The management API's resource (PUBLIC_URL): what a request without `resource` gets. */
  readonly apiResource: string
  /**
   * Whether a canonical proxy origin is a resource this server issues tokens for (an enabled,
   * auth-enabled proxy serving that host, a name under a wildcard proxy included). It is called only
   * with `https://host[:port]`, or `http://` for loopback names, any port (a proxy reached on 8443 is
   * its own resource there), lower-case, without a default port or trailing slash.
   */
  proxyResources(resource: string): boolean
  /**
   * The resource identifier of the proxy behind such an origin (RFC 9728 §2 `resource`: the origin, or
   * the origin and the proxy's resource path); the origin when not given.
   */
  proxyResourceOf?(origin: string): string
}

const MAX_RESOURCE_LENGTH = 2048
/** scheme "://" authority path; the query and fragment are refused before this. */
const ABSOLUTE_URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/
const DNS_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

/**
 * RFC 8707 §2: the resource a token is for, canonical, or null (the caller answers invalid_target).
 * - absent → the API's resource, so the CLI and the UI get API tokens;
 * - it "MUST be an absolute URI" and "MUST NOT include a fragment"; a query (which it "SHOULD NOT"
 *   include), userinfo, a host not written canonically, whitespace or non-ASCII are refused too;
 * - scheme and host compare case-insensitively and a default port or trailing slash is ignored
 *   (RFC 3986 §6.2.2–§6.2.3); nothing else is normalised;
 * - the API: its resource, or a path below it (segment boundary) → the API's resource exactly;
 * - a proxy: its origin, or any path below it → the proxy's resource identifier (the origin, or the
 *   origin and its resource path, as its RFC 9728 metadata advertises). The proxy is the unit of
 *   protection, and MCP clients send the server URL they were given (https://host/mcp) as the resource;
 *   a token's aud is then exactly what the metadata says.
 * Compare resolved values, never the raw strings, when checking that a token request keeps the
 * authorization request's resource.
 */
export function resolveResource(requested: string | undefined, known: KnownResources): string | null {
  if (requested === undefined) return known.apiResource
  if (requested.length > MAX_RESOURCE_LENGTH || !/^[\x21-\x7e]+$/.test(requested) || /[#?\\]/.test(requested)) return null
  const authority = ABSOLUTE_URI.exec(requested)?.[2]?.toLowerCase()
  const url = URL.parse(requested)
  if (authority === undefined || !url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return null
  // The host as written must already be canonical: no userinfo, %-escapes, 0x7f.1 or 2130706433,
  // spellings that exist only to slip past comparisons.
  if (authority !== url.host && authority !== `${url.hostname}:${url.protocol === 'https:' ? 443 : 80}`) return null
  // Port 0 parses, but no client can connect to it.
  if (url.port === '0') return null

  const api = URL.parse(known.apiResource)
  if (api && url.origin === api.origin && isPathWithin(url.pathname, api.pathname)) return known.apiResource

  if (!DNS_NAME.test(url.hostname)) return null
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return null
  if (!known.proxyResources(url.origin)) return null
  return known.proxyResourceOf ? known.proxyResourceOf(url.origin) : url.origin
}

/** "/api" holds "/api", "/api/" and "/api/x", not "/apix"; "/" holds everything. */
function isPathWithin(path: string, base: string): boolean {
  const prefix = base.replace(/\/+$/, '')
  return prefix === '' || path === prefix || path.startsWith(`${prefix}/`)
}
