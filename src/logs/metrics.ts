/**
 * @module The node's Prometheus metrics (GET /metrics): counted from the request records the data
 * plane writes (requests, latency, backend errors) and read at scrape time from the parts that hold
 * live state (connections, certificates, token verifications, dropped log records, the process).
 *
 * Counting a record is on the request's path, so it does no lookup beyond one Map read and allocates
 * nothing once the proxy's series exist. Label values are bounded: the host label is the proxy that
 * served (never the raw Host header, which any client can make up), with requests no proxy served
 * under one value and proxies beyond a maximum folded into another.
 */
import type { BackendErrorKind, RequestOutcome, RequestRecord, RequestSink } from './record.ts'
import { startEventLoopLagSampler } from './metrics-event-loop.ts'
import { createMetricsRegistry, type CounterChild, type HistogramChild } from './metrics-registry.ts'

/** The host label of a request no proxy served (unknown Host, no Host, an IP literal, …). */
export const UNMATCHED_HOST = '(none)'
/** The host label of every proxy past the first maxHosts seen: the series count stays bounded. */
export const OTHER_HOST = '(other)'
/** Far more proxies than one node serves; a safety net against unbounded series, not a limit anyone should meet. */
export const DEFAULT_MAX_HOSTS = 2_000

/** Seconds: the Prometheus client defaults, plus 30 s and 60 s for slow backends and long polls. */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const
/** Seconds: a healthy loop lags about a millisecond; hundreds of milliseconds means requests waited that long. */
export const EVENT_LOOP_LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const

const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const
const OUTCOMES = ['forwarded', 'handed_over', 'answered', 'auth', 'backend_error'] as const satisfies readonly RequestOutcome[]
const OUTCOME_INDEX: Readonly<Record<RequestOutcome, number>> = { forwarded: 0, handed_over: 1, answered: 2, auth: 3, backend_error: 4 }
const BACKEND_ERROR_KINDS = ['refused', 'timeout', 'reset', 'protocol', 'unreachable'] as const satisfies readonly BackendErrorKind[]
const KIND_INDEX: Readonly<Record<BackendErrorKind, number>> = { refused: 0, timeout: 1, reset: 2, protocol: 3, unreachable: 4 }
const CERTIFICATE_STATUSES = ['pending', 'validating', 'issued', 'failed'] as const

/** A certificate as the metrics need it: the composition maps certificates.list() to this. */
export interface CertificateExpiry {
  readonly name: string
  /** One of pending, validating, issued, failed. */
  readonly status: string
  /** The served certificate's notAfter, epoch milliseconds; null before the first issuance. */
  readonly notAfterMs: number | null
}

/** The token verifier's counters since start (auth/verifier.ts stats()). */
export interface TokenVerificationCounts {
  readonly cacheHits: number
  readonly verified: number
  /** Refusals by reason (expired, bad_signature, claims, revoked, …). */
  readonly refused: Readonly<Record<string, number>>
}

/** Live state read at scrape time; a source that is absent or answers null shows no sample. */
export interface MetricsSources {
  /** Open client connections on the public listeners (edge.stats()); null while the edge is not running. */
  readonly activeConnections?: () => number | null
  /** Client connections the public listeners refused over a connection cap since start, by reason (global, per_address). */
  readonly connectionsRefused?: () => Readonly<Record<string, number>> | null
  readonly certificates?: () => Promise<readonly CertificateExpiry[]>
  readonly tokenVerifications?: () => TokenVerificationCounts | null
  /** Request records the log dropped under back-pressure since start. */
  readonly droppedLogRecords?: () => number | null
  /** Requests refused by a rate limit since start, by the limit's scope (oauth, api_address, api_token, proxy). */
  readonly rateLimited?: () => Readonly<Record<string, number>> | null
  /** Resident set size in bytes; the process's own by default. */
  readonly residentMemoryBytes?: () => number
}

export interface MetricsOptions {
  readonly sources?: MetricsSources
  readonly maxHosts?: number
  /** 0 turns the event-loop sampler off (tests that count timers). */
  readonly eventLoopSampleIntervalMs?: number
  /** A source that throws (the store is down) leaves its family empty for that scrape and is reported here. */
  readonly onReadError?: (metric: string, error: unknown) => void
}

export interface Metrics {
  /** Counts one request; synchronous, O(1), never throws for a well-formed record. */
  observe(record: RequestRecord): void
  /** The same as observe, for the data plane's RequestSink slot (next to the log's, or fanned out). */
  readonly sink: RequestSink
  /** The exposition, Prometheus text format 0.0.4 (EXPOSITION_CONTENT_TYPE). */
  render(): Promise<string>
  /** Stops the event-loop sampler. */
  close(): void
}

/** What one proxy's requests update, created on its first request and kept. */
interface HostSeries {
  readonly host: string
  /** Indexed by status class × outcome; a slot is filled on first use, so untouched combinations stay absent. */
  readonly requests: (CounterChild | undefined)[]
  readonly duration: HistogramChild
  readonly backendErrors: (CounterChild | undefined)[]
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const sources = options.sources ?? {}
  const maxHosts = options.maxHosts ?? DEFAULT_MAX_HOSTS
  const registry = createMetricsRegistry(options.onReadError)
  // Two families come from the certificate list: one store read per scrape serves both.
  let certificatesRead: Promise<readonly CertificateExpiry[]> | null = null
  const certificates = () => (certificatesRead ??= sources.certificates?.() ?? Promise.resolve([]))

  const requests = registry.counter({
    name: 'ohp_requests_total',
    help: 'Requests by the proxy that served them (host), status class and outcome.',
    labelNames: ['host', 'status_class', 'outcome'],
  })
  const duration = registry.histogram({
    name: 'ohp_request_duration_seconds',
    help: 'From the complete request head to the last byte of the response (or the failure), by proxy.',
    labelNames: ['host'],
    buckets: REQUEST_DURATION_BUCKETS,
  })
  const backendErrors = registry.counter({
    name: 'ohp_backend_errors_total',
    help: 'Backend failures by proxy and kind: refused, timeout, reset, protocol, unreachable.',
    labelNames: ['host', 'kind'],
  })
  registry.collected({
    name: 'ohp_active_connections',
    help: 'Open client connections on the public HTTP and HTTPS listeners.',
    type: 'gauge',
    read: () => sampleOf(sources.activeConnections?.()),
  })
  registry.collected({
    name: 'ohp_connections_refused_total',
    help: 'Client connections closed as they arrived, over MAX_CONNECTIONS (reason global) or MAX_CONNECTIONS_PER_ADDRESS (reason per_address).',
    type: 'counter',
    labelNames: ['reason'],
    read: () => Object.entries(sources.connectionsRefused?.() ?? {}).map(([reason, value]) => ({ labelValues: [reason], value })),
  })
  registry.collected({
    name: 'ohp_certificate_expiry_timestamp_seconds',
    help: 'When each issued certificate expires (notAfter), in seconds since the epoch, by certificate name.',
    type: 'gauge',
    labelNames: ['name'],
    read: async () => (await certificates()).filter((c) => c.notAfterMs !== null).map((c) => ({ labelValues: [c.name], value: c.notAfterMs! / 1000 })),
  })
  registry.collected({
    name: 'ohp_certificate_status',
    help: 'Each certificate\'s state: 1 for the status it is in (pending, validating, issued, failed), 0 for the others.',
    type: 'gauge',
    labelNames: ['name', 'status'],
    read: async () => (await certificates()).flatMap((c) => CERTIFICATE_STATUSES.map((status) => ({ labelValues: [c.name, status], value: c.status === status ? 1 : 0 }))),
  })
  registry.collected({
    name: 'ohp_token_verifications_total',
    help: 'Access-token checks by the node\'s verifier (API and proxies): cache_hit, verified (full check passed) or refused.',
    type: 'counter',
    labelNames: ['result'],
    read: () => {
      const counts = sources.tokenVerifications?.()
      if (!counts) return []
      const refused = Object.values(counts.refused).reduce((sum, n) => sum + n, 0)
      return [
        { labelValues: ['cache_hit'], value: counts.cacheHits },
        { labelValues: ['verified'], value: counts.verified },
        { labelValues: ['refused'], value: refused },
      ]
    },
  })
  registry.collected({
    name: 'ohp_token_refusals_total',
    help: 'Access tokens refused by the node\'s verifier, by reason.',
    type: 'counter',
    labelNames: ['reason'],
    read: () => Object.entries(sources.tokenVerifications?.()?.refused ?? {}).map(([reason, value]) => ({ labelValues: [reason], value })),
  })
  registry.collected({
    name: 'ohp_log_records_dropped_total',
    help: 'Request records the log dropped under back-pressure (the requests themselves were served).',
    type: 'counter',
    read: () => sampleOf(sources.droppedLogRecords?.()),
  })
  registry.collected({
    name: 'ohp_rate_limited_total',
    help: 'Requests refused with 429 by a rate limit, by scope: oauth (per address, authorization server), registration (per address and hour, POST /register), api_address and api_token (management API), proxy (a proxy\'s rate_limit, this node).',
    type: 'counter',
    labelNames: ['scope'],
    read: () => Object.entries(sources.rateLimited?.() ?? {}).map(([scope, value]) => ({ labelValues: [scope], value })),
  })
  registry.collected({
    name: 'ohp_process_resident_memory_bytes',
    help: 'Resident memory of the process, in bytes.',
    type: 'gauge',
    read: () => sampleOf(sources.residentMemoryBytes ? sources.residentMemoryBytes() : process.memoryUsage.rss()),
  })
  const lag = registry.histogram({
    name: 'ohp_event_loop_lag_seconds',
    help: 'How much later than asked a timer fired: time the event loop was busy and requests waited.',
    buckets: EVENT_LOOP_LAG_BUCKETS,
  })
  const sampleIntervalMs = options.eventLoopSampleIntervalMs
  const sampler = sampleIntervalMs === 0 ? null : startEventLoopLagSampler(lag.child(), sampleIntervalMs)

  const hosts = new Map<string, HostSeries>()
  const seriesOf = (proxy: string | null): HostSeries => {
    const host = proxy === null ? UNMATCHED_HOST : proxy
    const found = hosts.get(host)
    if (found) return found
    // Past the bound, new proxies share one series (and the map stops growing: their lookups miss and land here).
    if (hosts.size >= maxHosts) return hosts.get(OTHER_HOST) ?? addSeries(OTHER_HOST)
    return addSeries(host)
  }
  const addSeries = (host: string): HostSeries => {
    const series: HostSeries = { host, requests: [], duration: duration.child(host), backendErrors: [] }
    hosts.set(host, series)
    return series
  }

  const observe = (record: RequestRecord) => {
    const series = seriesOf(record.proxy)
    const statusClass = record.status >= 100 && record.status <= 599 ? Math.floor(record.status / 100) : 0
    const slot = statusClass * OUTCOMES.length + OUTCOME_INDEX[record.outcome]
    ;(series.requests[slot] ??= requests.child(series.host, STATUS_CLASSES[statusClass]!, record.outcome)).inc()
    series.duration.observe(record.duration_ms / 1000)
    const kind = record.backend_error
    if (kind !== null) (series.backendErrors[KIND_INDEX[kind]] ??= backendErrors.child(series.host, BACKEND_ERROR_KINDS[KIND_INDEX[kind]]!)).inc()
  }

  return {
    observe,
    sink: { record: observe },
    async render() {
      certificatesRead = null
      try {
        return await registry.render()
      } finally {
        certificatesRead = null
      }
    },
    close: () => sampler?.stop(),
  }
}

function sampleOf(value: number | null | undefined) {
  return value === null || value === undefined ? [] : [{ labelValues: [], value }]
}
