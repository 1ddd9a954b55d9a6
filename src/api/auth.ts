/**
 * @module The management API authenticates every request itself: a Bearer JWT (RFC 6750 §2.1,
 * Authorization header only) whose audience is the API and whose scope covers the route. Identity
 * headers such as X-Auth-User are never read. A request without the header may instead carry the web
 * UI's session cookie, which stands for that user's token (src/ui checks its CSRF defence on writes).
 */
import type { Context } from 'hono'
import type { Logger } from '../lib/index.ts'
import { scopesSatisfy, type AccessTokenClaims, type Scope, type VerifyResult } from '../oauth/index.ts'
import { ApiError } from './errors.ts'

export type RouteScope = 'public' | Scope

/** Verifies a bearer token for the API's audience; injected by the composition root. */
export type VerifyApiToken = (token: string) => Promise<VerifyResult>

export type Principal = AccessTokenClaims

/**
 * The access token a request's session cookie stands for (the web UI's), asked only when there is no
 * Authorization header; null when it carries none. Throws (403) for a write that fails the CSRF checks.
 */
export type SessionCredential = (c: Context) => Promise<string | null>

declare module 'hono' {
  interface ContextVariableMap {
    /** The authorization server issuer of this request's host, once an AS endpoint resolved it. */
    issuer: string
    principal: Principal
    requestId: string
  }
}

const REALM = 'realm="oauth-https-proxy"'

/** RFC 6750 §3: a request with no credentials gets a bare challenge, no error code. */
function missingToken(): ApiError {
  return new ApiError(401, 'invalid_token', 'a Bearer access token is required', { 'WWW-Authenticate': `Bearer ${REALM}` })
}

/** RFC 6750 §3.1 invalid_token: the detail stays in our log; the client learns only that it failed. */
function invalidToken(): ApiError {
  return new ApiError(401, 'invalid_token', 'the access token is invalid or expired', {
    'WWW-Authenticate': `Bearer ${REALM}, error="invalid_token", error_description="the access token is invalid or expired"`,
  })
}

/** RFC 6750 §3.1 insufficient_scope: 403, naming the scope needed. */
function insufficientScope(needed: Scope): ApiError {
  return new ApiError(403, 'insufficient_scope', `this endpoint requires the ${needed} scope`, {
    'WWW-Authenticate': `Bearer ${REALM}, error="insufficient_scope", scope="${needed}"`,
  })
}

async function tokenOf(c: Context, session: SessionCredential | undefined): Promise<string> {
  const header = c.req.header('authorization')
  if (!header) {
    const token = session ? await session(c) : null
    if (token === null) throw missingToken()
    return token
  }
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  if (!match) throw invalidToken()
  return match[1]!
}

export async function authenticate(c: Context, needed: Scope, verify: VerifyApiToken, logger: Logger, session?: SessionCredential): Promise<Principal> {
  const result = await verify(await tokenOf(c, session))
  if (!result.ok) {
    logger.info('rejected API token', { reason: result.reason, path: c.req.path })
    throw invalidToken()
  }
  if (!scopesSatisfy(result.claims.scopes, needed)) throw insufficientScope(needed)
  return result.claims
}
