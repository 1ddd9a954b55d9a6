/**
 * @module Composition of the rate limits (#13): the API's count in the store (every node counts
 * together), proxies' in this node's memory; one exemption list, and one set of counters for
 * GET /metrics, serve both.
 */
import type { ApiRateLimits } from './api/index.ts'
import type { Config } from './config/index.ts'
import type { Clock, Logger } from './lib/index.ts'
import { createExemptions, createLocalRateLimiter, createRateLimitCounts, createStoreRateLimiter, type LocalRateLimiter, type RateLimit, type RateLimitCounts, type RateLimitScope } from './ratelimit/index.ts'
import type { Store } from './store/index.ts'

export interface RateLimitsDeps {
  readonly config: Config
  readonly store: Store
  readonly clock: Clock
  readonly logger: Logger
}

export interface RateLimits {
  /** Requests refused, by scope (also what the authorization server's registration limit counts into). */
  readonly counts: RateLimitCounts
  /** The management API's and the authorization server's limits. */
  readonly api: ApiRateLimits
  /** Proxies' rate_limit, counted in this node's memory. */
  readonly proxies: LocalRateLimiter
}

export function composeRateLimits(deps: RateLimitsDeps): RateLimits {
  const { config, store, clock, logger } = deps
  const counts = createRateLimitCounts()
  const isExempt = createExemptions(config.rateLimits.exempt)
  const storeLimiter = (scope: RateLimitScope, limit: RateLimit | null) => (limit === null ? null : createStoreRateLimiter(scope, limit, { store, clock, logger, counts }))
  return {
    counts,
    api: {
      oauth: storeLimiter('oauth', config.rateLimits.oauth),
      apiAddress: storeLimiter('api_address', config.rateLimits.apiAddress),
      apiToken: storeLimiter('api_token', config.rateLimits.api),
      isExempt,
      forwardAuthTrusted: config.forwardAuthTrusted,
    },
    proxies: createLocalRateLimiter({ nowMs: () => performance.now(), isExempt, counts }),
  }
}
