/**
 * @module A proxy's OAuth settings: who may enter (auth_required_users), who holds which scope
 * (oauth_*_users), which paths skip auth, and the proxy's own GitHub app. Field names are the
 * original's (original-behaviour §2.1); `*` means any GitHub user in every list, the same everywhere.
 */
import * as v from 'valibot'
import { isGitHubLogin } from '../lib/index.ts'
import { OAuthServerEntries, OAuthServerSettingsSchema } from './oauth-server-settings.ts'

export const AUTH_MODES = ['forward', 'redirect', 'passthrough'] as const
export type AuthMode = (typeof AUTH_MODES)[number]

const MAX_USERS = 1000

export const ORIGIN_CHECKS = ['auto', 'enforce', 'off'] as const
export type OriginCheck = (typeof ORIGIN_CHECKS)[number]

/** A GitHub organisation login (the same rule as a user login), stored lower-case. */
const OrgList = v.pipe(
  v.array(v.pipe(v.string('expected a GitHub organisation'), v.check(isGitHubLogin, 'expected a GitHub organisation login'), v.toLowerCase()), 'expected a list of GitHub organisations'),
  v.maxLength(100, 'at most 100 organisations'),
  v.transform((list) => [...new Set(list)]),
)

/** "org/team-slug" (GitHub team slugs are lower-case letters, digits, "-" and "_"), stored lower-case. */
const TeamList = v.pipe(
  v.array(
    v.pipe(
      v.string('expected "org/team-slug"'),
      v.toLowerCase(),
      v.check((text) => /^[a-z0-9-]{1,39}\/[a-z0-9_-]{1,100}$/.test(text) && isGitHubLogin(text.split('/')[0]!), 'expected "org/team-slug"'),
    ),
    'expected a list of "org/team-slug"',
  ),
  v.maxLength(100, 'at most 100 teams'),
  v.transform((list) => [...new Set(list)]),
)

/**
 * RFC 6454 §6.2 serialised origin: scheme, host and an optional port, stored as the browser sends it
 * in Origin (lower-case, default port left out). A trailing "/" is tolerated (a URL copied from the
 * address bar); a path, query, fragment, credentials or wildcard are not: the match is exact.
 */
const OriginEntry = v.pipe(
  v.string('expected an origin such as https://app.example.com'),
  v.check((text) => {
    const url = /^[\x21-\x7e]{1,300}$/.test(text) && !/[?#]/.test(text) ? URL.parse(text) : null
    return (
      url !== null &&
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.username === '' &&
      url.password === '' &&
      url.pathname === '/' &&
      /^(\[[0-9a-f:.]+\]|[a-z0-9-]+(\.[a-z0-9-]+)*)$/.test(url.hostname)
    )
  }, 'expected an origin such as https://app.example.com (scheme, host and port only)'),
  v.transform((text) => new URL(text).origin),
)
const MAX_EXCLUDED_PATHS = 100

/** A GitHub login, stored lower-case (GitHub compares logins case-insensitively), or "*" for any GitHub user. */
const UserEntry = v.pipe(
  v.string('expected a GitHub login or "*"'),
  v.check((entry) => entry === '*' || isGitHubLogin(entry), 'expected a GitHub login (1-39 letters, digits or single inner hyphens) or "*"'),
  v.toLowerCase(),
)

/** An empty list means nobody; duplicates (in any case) collapse. */
const UserList = v.pipe(
  v.array(UserEntry, 'expected a list of GitHub logins'),
  v.maxLength(MAX_USERS, `at most ${MAX_USERS} logins`),
  v.transform((list) => [...new Set(list)]),
)

/**
 * RFC 3986 §3.3: an absolute path, matched as a prefix of the request path. No query, fragment,
 * whitespace or dot-segments: a prefix that the backend would normalise differently would not mean
 * what it says.
 */
const PathPrefix = v.pipe(
  v.string('expected a path starting with "/"'),
  v.regex(/^\/[\x21-\x7e]*$/, 'expected a path starting with "/", printable ASCII without spaces'),
  v.check((path) => !/[?#\\]/.test(path), 'a path prefix has no query, fragment or backslash'),
  v.check((path) => !/(^|\/)\.\.?(\/|$)/.test(path), 'a path prefix has no "." or ".." segments'),
  v.maxLength(1024, 'at most 1024 characters'),
)

/**
 * The auth fields a client sets on a proxy, with the defaults of a new proxy. A null scope list falls
 * back to OAUTH_<SCOPE>_USERS; a null auth_required_users admits exactly the users of the three
 * effective scope lists (so an mcp-only user is admitted, unlike the original, §12.2).
 */
export const ProxyAuthEntries = {
  auth_enabled: v.optional(v.boolean('expected true or false'), false),
  auth_mode: v.optional(v.picklist(AUTH_MODES, 'expected "forward", "redirect" or "passthrough"'), 'forward'),
  auth_required_users: v.optional(v.nullable(UserList), null),
  auth_excluded_paths: v.optional(v.pipe(v.array(PathPrefix, 'expected a list of paths'), v.maxLength(MAX_EXCLUDED_PATHS, `at most ${MAX_EXCLUDED_PATHS} paths`)), []),
  oauth_admin_users: v.optional(v.nullable(UserList), null),
  oauth_user_users: v.optional(v.nullable(UserList), null),
  oauth_mcp_users: v.optional(v.nullable(UserList), null),
  /** GitHub organisations (logins): a user must belong to at least one, checked at login and on every refresh; null = no org check. */
  auth_required_orgs: v.optional(v.nullable(OrgList), null),
  /** GitHub teams as "org/team-slug": a user must belong to at least one, checked at login and on refresh; null = no team check. */
  auth_required_teams: v.optional(v.nullable(TeamList), null),
  /** false (default): the client's Authorization header never reaches the backend (no token passthrough, MCP RS-08). */
  auth_pass_authorization: v.optional(v.boolean('expected true or false'), false),
  /**
   * The Origin check against DNS rebinding (MCP transport spec, RS-10): "auto" enforces it when the
   * backend is on this machine, "enforce" always, "off" never. A request whose Origin is neither the
   * proxy's own nor in auth_allowed_origins gets 403.
   */
  auth_origin_check: v.optional(v.picklist(ORIGIN_CHECKS, 'expected "auto", "enforce" or "off"'), 'auto'),
  /** Origins (scheme://host[:port]) besides the proxy's own that may send requests when the Origin check applies. */
  auth_allowed_origins: v.optional(v.pipe(v.array(OriginEntry, 'expected a list of origins'), v.maxLength(100, 'at most 100 origins'), v.transform((list) => [...new Set(list)])), []),
  /** The realm of the WWW-Authenticate challenge (RFC 6750 §3); null leaves it out. */
  auth_realm: v.optional(v.nullable(v.pipe(v.string('expected a string'), v.regex(/^[\x20-\x7e]{1,128}$/, 'expected 1-128 printable ASCII characters'), v.check((text) => !/["\\]/.test(text), 'a realm has no quote or backslash'))), null),
  ...OAuthServerEntries,
}

const AUTH_FIELDS = Object.keys(ProxyAuthEntries) as (keyof typeof ProxyAuthEntries)[]

/** What GET /proxy/targets/{h}/auth answers. */
export const ProxyAuthSchema = v.object({
  auth_enabled: v.boolean(),
  auth_mode: v.picklist(AUTH_MODES),
  auth_required_users: v.nullable(v.array(v.string())),
  auth_excluded_paths: v.array(v.string()),
  oauth_admin_users: v.nullable(v.array(v.string())),
  oauth_user_users: v.nullable(v.array(v.string())),
  oauth_mcp_users: v.nullable(v.array(v.string())),
  auth_required_orgs: v.nullable(v.array(v.string())),
  auth_required_teams: v.nullable(v.array(v.string())),
  auth_pass_authorization: v.boolean(),
  auth_origin_check: v.picklist(ORIGIN_CHECKS),
  auth_allowed_origins: v.array(v.string()),
  auth_realm: v.nullable(v.string()),
  ...OAuthServerSettingsSchema.entries,
})
export type ProxyAuth = v.InferOutput<typeof ProxyAuthSchema>

export function authSettingsOf(target: ProxyAuth): ProxyAuth {
  return Object.fromEntries(AUTH_FIELDS.map((field) => [field, target[field]])) as ProxyAuth
}

/** The access lists in the shape the access policy takes (plain data; the composition root passes it on). */
export function accessListsOf(target: ProxyAuth): {
  requiredUsers: string[] | null
  adminUsers: string[] | null
  userUsers: string[] | null
  mcpUsers: string[] | null
  requiredOrgs: string[] | null
  requiredTeams: string[] | null
} {
  return {
    requiredUsers: target.auth_required_users,
    adminUsers: target.oauth_admin_users,
    userUsers: target.oauth_user_users,
    mcpUsers: target.oauth_mcp_users,
    requiredOrgs: target.auth_required_orgs,
    requiredTeams: target.auth_required_teams,
  }
}

/**
 * A proxy's own GitHub OAuth app. The secret is write-only: stored, handed to the GitHub login, and
 * never returned by the API (the original returned it in every proxy listing, §12.1.5).
 */
export const GitHubAppInputSchema = v.strictObject(
  {
    github_client_id: v.pipe(v.string('expected a GitHub OAuth app client id'), v.regex(/^[A-Za-z0-9._-]{1,100}$/, 'expected a GitHub OAuth app client id')),
    github_client_secret: v.pipe(v.string('expected the client secret'), v.regex(/^[\x21-\x7e]{1,256}$/, 'expected the client secret (printable ASCII, no spaces, at most 256 characters)')),
  },
  'unknown field',
)

/** What the API says about a proxy's GitHub app: the id, and whether a secret is set. */
export const GitHubAppViewSchema = v.object({
  proxy_hostname: v.string(),
  github_client_id: v.nullable(v.string()),
  github_client_secret_set: v.boolean(),
})
export type GitHubAppView = v.InferOutput<typeof GitHubAppViewSchema>

/** The credentials the GitHub login uses for a proxy; null means the global GITHUB_CLIENT_ID / _SECRET. */
export interface GitHubApp {
  readonly clientId: string
  readonly clientSecret: string
}
