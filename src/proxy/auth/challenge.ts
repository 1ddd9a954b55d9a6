/**
 * @module The auth step's own answers: the Bearer challenge (RFC 6750 §3) with the metadata URL of
 * RFC 9728 §5.1, and the RFC 9728 metadata document itself. Both paths render them from here.
 */
import type { GateAnswer } from '../../auth/index.ts'
import type { Scope } from '../../oauth/index.ts'
import { escapeHtml } from '../error-page.ts'
import { METADATA_PATH, type SiteAuth } from './requirement.ts'

/** RFC 6750 §3.1 error codes, plus the answers that are not about the token at all. */
export type ChallengeError = 'invalid_request' | 'invalid_token' | 'insufficient_scope'

/**
 * A browser-based MCP client (the Inspector) reads the challenge of a cross-origin 401 only when it is
 * exposed; the answer carries no credentials and no data, so any origin may read it.
 */
const READABLE_BY_ANY_ORIGIN: readonly (readonly [string, string])[] = [
  ['access-control-allow-origin', '*'],
  ['access-control-expose-headers', 'WWW-Authenticate'],
]

export interface ChallengeInput {
  readonly auth: SiteAuth
  /** The origin the client used: the metadata URL is absolute (RFC 9728 §5.1). */
  readonly origin: string
  readonly error: ChallengeError | null
  readonly description: string
  /** Every scope the request needs (RFC 6750 §3: scope lists what the resource requires). */
  readonly scopes: readonly Scope[]
}

/** The metadata URL for the resource: the well-known path with the resource's own path after it (RFC 9728 §3.1). */
export function metadataUrl(auth: SiteAuth, origin: string): string {
  return `${origin}${METADATA_PATH}${auth.resourceEndpoint === '/' ? '' : auth.resourceEndpoint}`
}

/**
 * The resource tokens must name here (RFC 8707 §2), as the metadata advertises it: the origin and the
 * resource path; on a proxy in front of the API, the API's own resource (PUBLIC_URL), the only one the
 * authorization server issues for it — identical to what RFC 9728 §3.3 asks when the proxy is
 * PUBLIC_URL's host, the usual setup.
 */
export function resourceIdentifier(auth: SiteAuth, origin: string): string {
  if (auth.fixedAudience !== null) return auth.fixedAudience
  return auth.resourceEndpoint === '/' ? origin : `${origin}${auth.resourceEndpoint}`
}

/** 401 without credentials or with a bad token, 403 for a missing scope, 400 for a malformed request (RFC 6750 §3.1). */
export function challengeAnswer(input: ChallengeInput): GateAnswer {
  const status = input.error === 'insufficient_scope' ? 403 : input.error === 'invalid_request' ? 400 : 401
  // Values are quoted-strings (RFC 9110 §11.2): none of ours can hold a quote or backslash (realm is validated, scopes and URLs are ours).
  const parts = [
    ...(input.auth.realm === null ? [] : [`realm="${input.auth.realm}"`]),
    `resource_metadata="${metadataUrl(input.auth, input.origin)}"`,
    ...(input.error === null ? [] : [`error="${input.error}"`, `error_description="${input.description}"`]),
    ...(input.scopes.length === 0 ? [] : [`scope="${input.scopes.join(' ')}"`]),
  ]
  return jsonAnswer(status, { error: input.error ?? 'unauthorized', error_description: input.description }, [['www-authenticate', `Bearer ${parts.join(', ')}`], ...READABLE_BY_ANY_ORIGIN])
}

/** A 403 that is about who the user is, not about the token (the allowlists, the Origin check): a page for browsers, JSON for the rest. */
export function forbiddenAnswer(description: string, error: string, accept: string | null): GateAnswer {
  if (accept !== null && accept.includes('text/html')) {
    const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1><p>${escapeHtml(description)}</p></body></html>\n`
    return { status: 403, headers: [['content-type', 'text/html; charset=utf-8'], ['cache-control', 'no-store'], ['content-security-policy', "default-src 'none'"], ['x-content-type-options', 'nosniff']], body }
  }
  return jsonAnswer(403, { error, error_description: description }, READABLE_BY_ANY_ORIGIN)
}

/** The store or key ring could not be read: not the token's fault, so no 401 that would make a client drop it. */
export function unavailableAnswer(): GateAnswer {
  return jsonAnswer(503, { error: 'temporarily_unavailable', error_description: 'the token could not be checked; try again' }, [['retry-after', '5']])
}

/** RFC 9728 §3.2 metadata, for a GET (or HEAD); a CORS preflight gets the CORS headers alone (RS-09). */
export function metadataAnswer(auth: SiteAuth, origin: string, authorizationServer: string, method: string): GateAnswer {
  if (method === 'OPTIONS') return { status: 204, headers: [...METADATA_CORS, ['access-control-max-age', '600']], body: '' }
  if (method !== 'GET' && method !== 'HEAD') return { ...jsonAnswer(405, { error: 'method_not_allowed', error_description: 'use GET' }, METADATA_CORS), headers: [['allow', 'GET, HEAD, OPTIONS'], ...METADATA_CORS] }
  const document = {
    ...auth.customMetadata,
    resource: resourceIdentifier(auth, origin),
    authorization_servers: [authorizationServer],
    scopes_supported: auth.resourceScopes,
    bearer_methods_supported: ['header'],
    ...(auth.documentation === null ? {} : { resource_documentation: auth.documentation }),
  }
  return jsonAnswer(200, document, [...METADATA_CORS, ['cache-control', 'max-age=60']])
}

const METADATA_CORS: readonly (readonly [string, string])[] = [
  ['access-control-allow-origin', '*'],
  ['access-control-allow-methods', 'GET, HEAD, OPTIONS'],
  ['access-control-allow-headers', 'Authorization, Content-Type, MCP-Protocol-Version'],
  ['access-control-expose-headers', 'WWW-Authenticate'],
]

function jsonAnswer(status: number, body: unknown, headers: readonly (readonly [string, string])[]): GateAnswer {
  const caching: readonly (readonly [string, string])[] = headers.some(([name]) => name === 'cache-control') ? [] : [['cache-control', 'no-store']]
  return { status, headers: [['content-type', 'application/json'], ...caching, ...headers], body: JSON.stringify(body) }
}
