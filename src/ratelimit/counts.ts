/**
 * @module How many requests each limit refused since start, for /metrics
 * (ohp_rate_limited_total{scope}). One object per node, shared by every limiter the composition root
 * builds; the scopes are a fixed list, so the metric's series stay bounded.
 */

/**
 * What a limit counts per: `oauth` the client address on the authorization server's endpoints,
 * `api_address` and `api_token` the address and the token's subject on the management API, `proxy`
 * a proxy's own rate_limit per client address on the data plane.
 */
export const RATE_LIMIT_SCOPES = ['oauth', 'api_address', 'api_token', 'proxy'] as const
export type RateLimitScope = (typeof RATE_LIMIT_SCOPES)[number]

export interface RateLimitCounts {
  /** Counts one refused request. */
  refused(scope: RateLimitScope): void
  /** Refusals per scope since start, every scope present. */
  snapshot(): Readonly<Record<RateLimitScope, number>>
}

export function createRateLimitCounts(): RateLimitCounts {
  const counts: Record<RateLimitScope, number> = { oauth: 0, api_address: 0, api_token: 0, proxy: 0 }
  return {
    refused: (scope) => void counts[scope]++,
    snapshot: () => ({ ...counts }),
  }
}
