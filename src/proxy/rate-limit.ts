/**
 * @module The data plane's rate-limit step (#13): a proxy with a `rate_limit` admits each client
 * address (an IPv6 one by its /64) at that rate, counted in this node's memory (ratelimit/
 * local-limiter.ts: no store round trip, no await). Both paths call it right after decide() and before
 * the auth step, so an unauthenticated flood is refused before it costs a token check, and render
 * its answer the way they render the auth step's: the same 429 on the relay and the hand-over server.
 */
import type { GateAnswer } from '../auth/index.ts'
import { retryAfterSeconds, type LocalRateLimiter } from '../ratelimit/index.ts'
import { errorPage } from './error-page.ts'
import type { Site } from './site.ts'

export type ProxyRateLimiter = Pick<LocalRateLimiter, 'admit'>

/**
 * Counts one request of `clientAddress` to the proxy; null lets it go on, else the 429 to answer
 * (RFC 6585 §4, with RFC 9110 §10.2.3 Retry-After). A proxy without a rate_limit costs one field read.
 */
export function rateLimitAnswer(limiter: ProxyRateLimiter | null, site: Site, proxyHostname: string, clientAddress: string, accept: string | null): GateAnswer | null {
  const limit = site.rateLimit
  if (limit === null || limiter === null) return null
  const retryAfterMs = limiter.admit(proxyHostname, clientAddress, limit)
  if (retryAfterMs === 0) return null
  const seconds = retryAfterSeconds(retryAfterMs)
  const page = errorPage(429, `too many requests from this address; retry after ${seconds} s`, accept)
  return { status: 429, headers: [...Object.entries(page.headers), ['retry-after', String(seconds)]], body: page.body }
}
