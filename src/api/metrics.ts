/**
 * @module GET /metrics: this node's metrics in the Prometheus text format (logs/metrics.ts). A
 * scraper either sends a Bearer token with the `user` scope, like any reader of the API, or connects
 * from an address in METRICS_TRUSTED (Prometheus inside the same network, which holds no token).
 * The address is the connection's own: forwarded headers never make a caller trusted.
 */
import { EXPOSITION_CONTENT_TYPE, type Metrics } from '../logs/index.ts'
import { parseCidr, type Cidr } from '../lib/index.ts'
import { isCallerIn } from './caller-address.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'

export interface MetricsRoutesDeps {
  readonly metrics: Pick<Metrics, 'render'>
  /** METRICS_TRUSTED: scrapers admitted by address, without a token. */
  readonly trustedScrapers: readonly string[]
}

export function metricsRoutes(deps: MetricsRoutesDeps): RouteSpec[] {
  const trusted = deps.trustedScrapers.map(parseCidr).filter((cidr): cidr is Cidr => cidr !== null)
  return [
    defineRoute({
      method: 'get',
      path: '/metrics',
      // RFC 6750 §3: outside METRICS_TRUSTED, the same 401/403 challenges as every `user` route.
      scope: 'user',
      admitsWithoutToken: (c) => isCallerIn(c, trusted),
      tag: 'system',
      summary: "This node's metrics, Prometheus text format 0.0.4; a caller in METRICS_TRUSTED needs no token",
      responses: {
        200: {
          description:
            'text/plain; version=0.0.4: ohp_requests_total, ohp_request_duration_seconds, ohp_backend_errors_total, ohp_active_connections, ' +
            'ohp_certificate_expiry_timestamp_seconds, ohp_certificate_status, ohp_token_verifications_total, ohp_token_refusals_total, ' +
            'ohp_log_records_dropped_total, ohp_rate_limited_total, ohp_process_resident_memory_bytes, ohp_event_loop_lag_seconds',
        },
      },
      async handler(c) {
        const exposition = await deps.metrics.render()
        return c.body(exposition, 200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'cache-control': 'no-store' })
      },
    }),
  ]
}
