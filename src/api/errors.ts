/**
 * @module How the API fails: handlers throw ApiError, or let a domain module's error (TargetError,
 * ServiceError, RouteError) through; one onError renders every failure as {error, error_description}
 * (DESIGN §7) with the right status, translating domain errors in one switch. Anything unexpected
 * becomes a generic 500 whose detail goes to the log with the request id, never to the client.
 */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { DomainError, type Logger } from '../lib/index.ts'
import { StoreUnavailableError } from '../store/index.ts'

export type ApiErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'store_unavailable'
  | 'server_error'
  // RFC 6749 §4.1.2.1: a dependency (GitHub) did not answer; retry later.
  | 'temporarily_unavailable'
  // RFC 6585 §4: 429, with Retry-After; no OAuth RFC names a code for it.
  | 'too_many_requests'
  // RFC 7591 §3.2.2: the registration endpoint's own error codes.
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  // RFC 6749 §5.2 and RFC 8707 §2: the token endpoint's.
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  // RFC 8628 §3.5: the device grant's, answered at the token endpoint.
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'access_denied'

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ApiErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description)
    this.name = 'ApiError'
  }
}

export function renderError(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value)
  c.header('Cache-Control', 'no-store')
  return c.json({ error: error.code, error_description: error.description }, error.status)
}

/** The one place a domain error becomes a status: the same kind means the same answer for every resource. */
function fromDomainError(error: DomainError): ApiError {
  const kind = error.kind
  switch (kind) {
    case 'not_found':
      return new ApiError(404, 'not_found', error.message)
    case 'conflict':
      return new ApiError(409, 'conflict', error.message)
    case 'invalid':
      return new ApiError(400, 'invalid_request', error.field ? `field ${error.field}: ${error.message}` : error.message)
    case 'unavailable':
      // RFC 6749 §4.1.2.1's temporarily_unavailable; RFC 9110 §15.6.4: 503 with a Retry-After.
      return new ApiError(503, 'temporarily_unavailable', error.message, { 'Retry-After': '30' })
    default: {
      const unreachable: never = kind
      throw new Error(`unhandled domain error kind ${String(unreachable)}`)
    }
  }
}

export function createErrorHandler(logger: Logger) {
  return function onError(error: Error, c: Context): Response {
    if (error instanceof ApiError) return renderError(c, error)
    if (error instanceof DomainError) return renderError(c, fromDomainError(error))
    if (error instanceof StoreUnavailableError) {
      logger.warn('store unavailable', { path: c.req.path, error: error.message })
      return renderError(c, new ApiError(503, 'store_unavailable', `the ${error.kind} store is unavailable; retry later`, { 'Retry-After': '5' }))
    }
    // Hono raises these itself, e.g. for a malformed body it was asked to parse.
    if (error instanceof HTTPException && error.status < 500) {
      return renderError(c, new ApiError(error.status as ContentfulStatusCode, 'invalid_request', error.message || 'bad request'))
    }
    const requestId = c.get('requestId') ?? '-'
    logger.error('unhandled error', { requestId, path: c.req.path, error: error.stack ?? String(error) })
    return renderError(c, new ApiError(500, 'server_error', `internal error (request ${requestId})`))
  }
}

export function notFound(c: Context): Response {
  return renderError(c, new ApiError(404, 'not_found', `no such endpoint: ${c.req.method} ${c.req.path}`))
}
