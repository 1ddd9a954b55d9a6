/**
 * @module The API's rate limits (#13), one middleware before every route: the authorization server's
 * endpoints are limited per client address (anyone may call them, so the address is all there is to
 * count), the management API per client address and per token subject (a token used from many
 * addresses still counts as one). The buckets live in the store (ratelimit/), so every node counts
 * together on Redis.
 *
 * Over a limit: RFC 6585 §4 429 Too Many Requests with Retry-After. The authorization server answers
 * in RFC 6749 §5.2's shape with `temporarily_unavailable`: there is no OAuth code for a rate limit,
 * and this is the registered one (RFC 6749 §4.1.2.1, "unable to handle the request due to a temporary
 * overloading") that clients already read as "try again later"; a code of our own would be unknown to
 * every client library. `slow_down` is not used: it is RFC 8628 §3.5's instruction to a device-grant
 * poller to widen its interval, which the token endpoint still sends for exactly that. The management
 * API, which speaks no OAuth, says `too_many_requests`.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { getPath } from 'hono/utils/url'
import { parseCidr, type Cidr } from '../lib/index.ts'
import { AS_ENDPOINT_PATHS } from '../oauth/index.ts'
import { addressIdentity, retryAfterSeconds, type StoreRateLimiter } from '../ratelimit/index.ts'
import type { VerifyApiToken } from './auth.ts'
import { isCallerIn } from './caller-address.ts'
import { clientAddressOf } from './client-address.ts'
import { allowAnyOrigin } from './cors.ts'
import { ApiError } from './errors.ts'
import { CONSENT_PATH } from './oauth/pages.tsx'

export interface ApiRateLimits {
  /** Per client address on the authorization server's endpoints; null: no limit. */
  readonly oauth: StoreRateLimiter | null
  /** Per client address on the management API. */
  readonly apiAddress: StoreRateLimiter | null
  /** Per token subject on the management API. */
  readonly apiToken: StoreRateLimiter | null
  /** RATE_LIMIT_EXEMPT: addresses no limit applies to. */
  readonly isExempt: (address: string) => boolean
  /**
   * FORWARD_AUTH_TRUSTED: a forward-auth proxy calls /verify once for every request it holds, on
   * behalf of all its clients, so its calls there are not counted as one client's.
   */
  readonly forwardAuthTrusted: readonly string[]
}

/** The authorization server's endpoints (what src/api/oauth mounts), and the discovery documents. */
const AS_PATHS: ReadonlySet<string> = new Set([...Object.values(AS_ENDPOINT_PATHS), CONSENT_PATH, '/callback'])
/** RFC 7592 /register/{client_id}, RFC 8628 /device/*, RFC 8414 and RFC 9728 /.well-known/*. */
const AS_PREFIXES = ['/register/', '/device/', '/.well-known/'] as const
/** Endpoints a browser navigates to (OAuth 2.1 §3.1), which must not be made readable cross-origin. */
const NAVIGATED: ReadonlySet<string> = new Set([AS_ENDPOINT_PATHS.authorization, CONSENT_PATH, '/callback'])

/** Whether a request path is one of the authorization server's endpoints (one trailing slash ignored, as when routing). */
export function isAuthorizationServerPath(path: string): boolean {
  const routed = path.length > 1 && path.endsWith('/') && !path.startsWith('/.well-known/') ? path.slice(0, -1) : path
  return AS_PATHS.has(routed) || AS_PREFIXES.some((prefix) => routed.startsWith(prefix))
}

/**
 * Never counted: load balancers and orchestrators probe it on a schedule, a balancer every node from its
 * one address, so counting it would refuse their checks (and take healthy nodes out) as a cluster grows.
 */
const HEALTH_PATH = '/health'

/** RFC 6750 §2.1, as the API reads it (auth.ts). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i

export function apiRateLimit(limits: ApiRateLimits, verifyToken: VerifyApiToken): MiddlewareHandler {
  const forwardAuthTrusted = limits.forwardAuthTrusted.map(parseCidr).filter((cidr): cidr is Cidr => cidr !== null)

  /** The verified token's subject, or null (no token, not ours, or the check failed: the route will say so). */
  const subjectOf = async (c: Context): Promise<string | null> => {
    const token = BEARER.exec(c.req.header('authorization') ?? '')?.[1]
    if (token === undefined) return null
    try {
      const result = await verifyToken(token)
      return result.ok ? result.claims.sub : null
    } catch {
      return null
    }
  }

  return async function rateLimit(c, next) {
    const path = getPath(c.req.raw)
    if (path === HEALTH_PATH) return next()
    const address = clientAddressOf(c)
    // No address: an in-process call that is not the edge's (the edge always says who its client is).
    if (address !== null && limits.isExempt(address)) return next()
    if (isAuthorizationServerPath(path)) {
      if (limits.oauth && address !== null) await enforce(limits.oauth, addressIdentity(address), oauthRefusal(c, path))
      return next()
    }
    const isForwardAuthProxy = path === '/verify' && isCallerIn(c, forwardAuthTrusted)
    if (limits.apiAddress && address !== null && !isForwardAuthProxy) await enforce(limits.apiAddress, addressIdentity(address), apiRefusal)
    if (limits.apiToken) {
      const subject = await subjectOf(c)
      if (subject !== null) await enforce(limits.apiToken, subject, apiRefusal)
    }
    return next()
  }
}

type Refusal = (retryAfterSec: number) => ApiError

async function enforce(limiter: StoreRateLimiter, identity: string, refusal: Refusal): Promise<void> {
  const verdict = await limiter.check(identity)
  if (!verdict.isAdmitted) throw refusal(retryAfterSeconds(verdict.retryAfterMs))
}

/** RFC 6585 §4 and RFC 9110 §10.2.3. */
function apiRefusal(retryAfterSec: number): ApiError {
  return new ApiError(429, 'too_many_requests', `too many requests; retry after ${retryAfterSec} s`, { 'Retry-After': String(retryAfterSec) })
}

function oauthRefusal(c: Context, path: string): Refusal {
  return (retryAfterSec) => {
    // A browser-based client must be able to read why its token or registration request failed.
    if (!NAVIGATED.has(path)) allowAnyOrigin(c)
    return new ApiError(429, 'temporarily_unavailable', `too many requests from this address; retry after ${retryAfterSec} s`, { 'Retry-After': String(retryAfterSec) })
  }
}
