/** @module The request log: records from the data plane, kept off its fast path, stored, queried and counted. */
export { maskTarget, type BackendErrorKind, type RequestOutcome, type RequestRecord, type RequestSink } from './record.ts'
export { createRequestLog, type RequestLog, type RequestLogDeps, type RequestLogSettings, type RequestLogTimings, type StatsAnswer, type StatsQuery } from './request-log.ts'
export { BACKEND_ERROR_KINDS, OUTCOMES, parseAddressFilter, type Condition, type ExactField } from './filter.ts'
export { parseQueryTerms, QUERY_FIELDS, statusCondition, type TermsResult } from './query-terms.ts'
export { parseTimeBound, TIME_BOUND_HINT } from './time-range.ts'
export { decodeCursor, encodeCursor } from './cursor.ts'
export { viewOf, accessLogLine, type RecordView } from './access-log.ts'
export { BUCKET_MS, MAX_BUCKETS, percentile, type BucketSize, type TrafficStats } from './stats.ts'
export { createHyperLogLog, type HyperLogLog } from './hyperloglog.ts'
export type { SearchPage, SearchQuery } from './search.ts'
export type { StoredRecord } from './stored-record.ts'
export type { LogWriterCounters } from './writer.ts'
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
export { createOAuthActivityLog, type OAuthActivityLog, type OAuthActivityLogOptions } from './oauth-activity.ts'
export { OAUTH_EVENT_GRANTS, OAUTH_EVENT_TYPES, type OAuthEvent, type OAuthEventInput, type OAuthEventType } from './oauth-event.ts'
export { InvalidCursorError, MAX_PAGE_LIMIT, type OAuthEventFilter, type OAuthEventOrder, type OAuthEventPage, type OAuthEventPageRequest } from './oauth-query.ts'
export { summarizeSessions, type OAuthSessionSummary } from './oauth-sessions.ts'
export { CaptureConflictError, createCaptureService, type CapturedExchange, type CaptureService, type CaptureServiceOptions, type CaptureTap } from './capture.ts'
export { CAPTURE_LIMITS, type CaptureRequest, type CaptureView, type ExchangeDetail } from './capture-model.ts'
export { MASK, maskHeaders, maskUrlValue, type CapturedHeaders, type HeaderList } from './capture-mask.ts'
