/**
 * @module How many requests each limit refused since start, for /metrics
 * (ohp_rate_limited_total{scope}). One object per node, shared by every limiter the composition root
 * builds; the scopes are a fixed list, so the metric's series stay bounded.
 */

/**
 * What a limit counts per: `oauth` the client address on the authorization server's endpoints,
 * `registration` the client address's registrations per hour (OAUTH_REGISTRATIONS_PER_HOUR, RFC 7591
 * §5), `api_address` and `api_token` the address and the token's subject on the management API,
 * `proxy` a proxy's own rate_limit per client address on the data plane.
 */
export const RATE_LIMIT_SCOPES = ['oauth', 'registration', 'api_address', 'api_token', 'proxy'] as const
export type RateLimitScope = (typeof RATE_LIMIT_SCOPES)[number]

export interface RateLimitCounts {
  /** Counts one refused request. */
  refused(scope: RateLimitScope): void
  /** Refusals per scope since start, every scope present. */
  snapshot(): Readonly<Record<RateLimitScope, number>>
}

export function createRateLimitCounts(): RateLimitCounts {
  const counts = Object.fromEntries(RATE_LIMIT_SCOPES.map((scope) => [scope, 0])) as Record<RateLimitScope, number>
  return {
    refused: (scope) => void counts[scope]++,
    snapshot: () => ({ ...counts }),
  }
}
