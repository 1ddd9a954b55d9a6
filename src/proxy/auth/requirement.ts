/**
 * @module What a request to a proxy must prove, decided with the rest of the decision (decide.ts):
 * synchronous, from settings prepared when the proxy changes. The rule is the original's (README
 * "Three Simple Scopes"): reads need `user`, writes need `admin`, paths under /mcp need `mcp`, and
 * `admin` satisfies any of them; a route's own `auth` replaces or adds to it.
 */
import type { Scope } from '../../oauth/index.ts'
import type { RouteAuth } from '../../routes/index.ts'
import type { AuthMode, ProxyTarget } from '../../targets/index.ts'
import { BROWSER_CALLBACK_PATH, BROWSER_LOGOUT_PATH } from '../../auth/index.ts'

/** A proxy's auth settings, prepared once per change. */
export interface SiteAuth {
  /** auth_enabled: the proxy's own auth applies (a route's auth may apply without it). */
  readonly isEnabled: boolean
  readonly mode: AuthMode
  readonly excludedPaths: readonly string[]
  /** auth_required_users as a set of lower-case logins; null when every admitted user may enter ("*" or no list). */
  readonly requiredUsers: ReadonlySet<string> | null
  readonly passAuthorization: boolean
  /** The Origin check applies (auth_origin_check, "auto" meaning: the backend is on this machine). */
  readonly checksOrigin: boolean
  readonly allowedOrigins: ReadonlySet<string>
  readonly realm: string | null
  readonly resourceEndpoint: string
  readonly resourceScopes: readonly Scope[]
  readonly documentation: string | null
  readonly customMetadata: Readonly<Record<string, unknown>> | null
  /**
   * The audience tokens must name, when it is not the origin the client used: a proxy in front of the
   * management API takes the API's own tokens (the authorization server issues no other for it).
   */
  readonly fixedAudience: string | null
  /** Paths that stay public whatever the settings say (the API's OAuth and discovery endpoints). */
  readonly publicPaths: readonly string[]
}

/** What the auth step does with one request. */
export type AuthStep =
  /** Verify a token (or a session, in redirect mode): it must carry every scope, and its user must be in every list. */
  | { readonly kind: 'check'; readonly mode: AuthMode; readonly scopes: readonly Scope[]; readonly users: readonly ReadonlySet<string>[] }
  /** An excluded or public path of a protected proxy: no check, but the credentials still do not reach the backend. */
  | { readonly kind: 'open' }
  /** RFC 9728 metadata (or its CORS preflight), answered by the proxy itself. */
  | { readonly kind: 'metadata' }
  | { readonly kind: 'callback' }
  | { readonly kind: 'logout' }

/** RFC 9728 §3.1: the well-known URI, bare or with the resource's path after it. */
export const METADATA_PATH = '/.well-known/oauth-protected-resource'

/**
 * The management API's endpoints a browser or MCP client must reach before it has a token (RFC 8414,
 * RFC 9728, RFC 6749, RFC 7591, RFC 8628, RFC 7009, RFC 7662): public on a proxy in front of the API.
 * Whole segments (isUnder): /token does not make /tokens public (the original's §12.2 bug).
 */
const API_PUBLIC_PATHS = ['/.well-known/', '/authorize', '/token', '/register', '/callback', '/jwks', '/device/', '/revoke', '/introspect', '/health']

const ALL_SCOPES: readonly Scope[] = ['admin', 'user', 'mcp']

export function prepareSiteAuth(target: ProxyTarget, backend: { readonly isLocalApi: boolean; readonly localPort: number | null } | null, apiResource: string): SiteAuth {
  const required = target.auth_required_users
  const isLocalApi = backend?.isLocalApi === true
  return {
    isEnabled: target.auth_enabled,
    mode: target.auth_mode,
    excludedPaths: target.auth_excluded_paths,
    requiredUsers: required === null || required.includes('*') ? null : new Set(required.map((login) => login.toLowerCase())),
    passAuthorization: target.auth_pass_authorization || isLocalApi,
    checksOrigin: target.auth_origin_check === 'enforce' || (target.auth_origin_check === 'auto' && backend !== null && backend.localPort !== null && !isLocalApi),
    allowedOrigins: new Set(target.auth_allowed_origins),
    realm: target.auth_realm,
    resourceEndpoint: target.resource_endpoint,
    resourceScopes: target.resource_scopes ?? ALL_SCOPES,
    documentation: target.resource_documentation,
    customMetadata: target.resource_custom_metadata,
    fixedAudience: isLocalApi ? apiResource : null,
    publicPaths: isLocalApi ? API_PUBLIC_PATHS : [],
  }
}

const ENCODED_SEPARATOR = /%2f|%5c/i

/**
 * The scope the original's rule asks of a request (README "Three Simple Scopes"). /MCP counts as /mcp:
 * case-insensitive routers (Express by default, ASP.NET, IIS) serve it as the MCP endpoint.
 */
export function scopeByRule(method: string, path: string): Scope {
  if (isUnder(path.length >= 4 ? path.slice(0, 5).toLowerCase() : path, '/mcp')) return 'mcp'
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'user' : 'admin'
}

/**
 * The auth step of a request, or null when neither the proxy nor the route asks for auth (the request
 * then goes as it came, Authorization included: the backend may do its own).
 */
export function authStepFor(auth: SiteAuth, routeAuth: RouteAuth | null, method: string, path: string): AuthStep | null {
  const routeApplies = routeAuth !== null && (routeAuth.required_scopes !== null || routeAuth.allowed_users !== null || routeAuth.override_proxy_auth)
  if (!auth.isEnabled && !routeApplies) return null
  if (auth.isEnabled && path.startsWith(METADATA_PATH) && (path.length === METADATA_PATH.length || path.charCodeAt(METADATA_PATH.length) === 0x2f)) return METADATA
  if (auth.isEnabled && auth.mode === 'redirect') {
    if (path === BROWSER_CALLBACK_PATH) return CALLBACK
    if (path === BROWSER_LOGOUT_PATH) return LOGOUT
  }
  // An encoded "/" or "\\" may hide a dot segment from us that a backend decoding it first resolves
  // (/public/..%2fadmin): such a path is never exempt.
  const mayHideSegments = path.includes('%') && ENCODED_SEPARATOR.test(path)
  if (!mayHideSegments && auth.publicPaths.some((prefix) => isUnder(path, prefix))) return OPEN

  const isExcluded = !mayHideSegments && auth.excludedPaths.some((prefix) => isUnder(path, prefix))
  const proxyApplies = auth.isEnabled && !(routeApplies && routeAuth!.override_proxy_auth) && !isExcluded
  const scopes = new Set<Scope>()
  const users: ReadonlySet<string>[] = []
  if (proxyApplies) {
    scopes.add(scopeByRule(method, path))
    if (auth.requiredUsers) users.push(auth.requiredUsers)
  }
  if (routeApplies) {
    // A route that names no scopes keeps the rule's; its users narrow who may use it.
    for (const scope of routeAuth!.required_scopes ?? [scopeByRule(method, path)]) scopes.add(scope)
    if (routeAuth!.allowed_users !== null && !routeAuth!.allowed_users.includes('*')) users.push(new Set(routeAuth!.allowed_users.map((login) => login.toLowerCase())))
  }
  if (scopes.size === 0) return OPEN
  // passthrough admits anonymous requests; a route that asks for auth on such a proxy still gets it, in forward mode.
  const mode = auth.isEnabled ? (routeApplies && auth.mode === 'passthrough' ? 'forward' : auth.mode) : 'forward'
  return { kind: 'check', mode, scopes: [...scopes], users }
}

/**
 * An excluded path is a prefix on segment boundaries when it ends without "/": /public covers
 * /public and /public/x, not /publication (the original's plain startsWith let the latter through).
 */
function isUnder(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false
  return path.length === prefix.length || prefix.endsWith('/') || path.charCodeAt(prefix.length) === 0x2f
}

const METADATA: AuthStep = Object.freeze({ kind: 'metadata' })
const CALLBACK: AuthStep = Object.freeze({ kind: 'callback' })
const LOGOUT: AuthStep = Object.freeze({ kind: 'logout' })
const OPEN: AuthStep = Object.freeze({ kind: 'open' })
