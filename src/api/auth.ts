/**
 * @module The management API authenticates every request itself: a Bearer JWT (RFC 6750 §2.1,
 * Authorization header only) whose audience is the API and whose scope covers the route. Identity
 * headers such as X-Auth-User are never read.
 */
import type { Context } from 'hono'
import type { Logger } from '../lib/index.ts'
import { scopesSatisfy, type AccessTokenClaims, type Scope, type VerifyResult } from '../oauth/index.ts'
import { ApiError } from './errors.ts'

export type RouteScope = 'public' | Scope

/** Verifies a bearer token for the API's audience; injected by the composition root. */
export type VerifyApiToken = (token: string) => Promise<VerifyResult>

export type Principal = AccessTokenClaims

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

export async function authenticate(c: Context, needed: Scope, verify: VerifyApiToken, logger: Logger): Promise<Principal> {
  const header = c.req.header('authorization')
  if (!header) throw missingToken()
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  if (!match) throw invalidToken()
  const result = await verify(match[1]!)
  if (!result.ok) {
    logger.info('rejected API token', { reason: result.reason, path: c.req.path })
    throw invalidToken()
  }
  if (!scopesSatisfy(result.claims.scopes, needed)) throw insufficientScope(needed)
  return result.claims
}
