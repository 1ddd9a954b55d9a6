/** @module The request log: records from the data plane, kept off its fast path, stored, queried and counted. */
export { maskTarget, type BackendErrorKind, type RequestOutcome, type RequestRecord, type RequestSink } from './record.ts'
export {
  createMetrics,
  DEFAULT_MAX_HOSTS,
  EVENT_LOOP_LAG_BUCKETS,
  OTHER_HOST,
  REQUEST_DURATION_BUCKETS,
  UNMATCHED_HOST,
  type CertificateExpiry,
  type Metrics,
  type MetricsOptions,
  type MetricsSources,
  type TokenVerificationCounts,
} from './metrics.ts'
export { EXPOSITION_CONTENT_TYPE, escapeLabelValue } from './metrics-exposition.ts'
