/**
 * @module Composition of what the server records about itself (#12): the OAuth activity log, the
 * request log and header captures (each one's stop registered as it starts); log levels changed on
 * any node; the metrics and the sources they read at each scrape; where the edge writes its records;
 * and the logs' API routes.
 */
import { applyLogLevelChange, logCaptureRoutes, logLevelRoutes, logRoutes, oauthEventRoutes, type RouteSpec } from './api/index.ts'
import type { CertificateManager } from './certs/index.ts'
import type { Config } from './config/index.ts'
import type { Edge } from './edge/index.ts'
import type { EventBus } from './events/index.ts'
import { wildcardParent, type Clock, type Logger } from './lib/index.ts'
import { createCaptureService, createMetrics, createOAuthActivityLog, createRequestLog, type CaptureService, type Metrics, type MetricsSources, type OAuthActivityLog, type RequestLog } from './logs/index.ts'
import type { RequestLogging } from './proxy/index.ts'
import type { RateLimitCounts } from './ratelimit/index.ts'
import type { Store } from './store/index.ts'
import type { ProxyTargets } from './targets/index.ts'

export interface LogsDeps {
  readonly config: Config
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  /** The server's root logger: its levels are the ones PUT /logs/level changes. */
  readonly logger: Logger
}

export interface Logs {
  readonly oauthActivity: OAuthActivityLog
  /** The request log: the records of every request through the edge, and their queries. */
  readonly requestLog: RequestLog
  /** Header captures (POST /logs/capture): what the data plane feeds through captureFor and capture. */
  readonly captures: CaptureService
  /** How long records, events and captures are kept. */
  readonly retentionMs: number
}

/** Starts the logs in order; `onStop` gets each one's stop as soon as it has started (a later failure stops them). */
export async function startLogs(deps: LogsDeps, onStop: (cleanup: () => Promise<void>) => void): Promise<Logs> {
  const { config, store, bus, clock, logger } = deps
  // PUT /logs/level on any node changes the level on every node.
  bus.subscribe((event) => (event.type === 'log_level_changed' ? applyLogLevelChange(logger.levels, event.component, event.level) : undefined))
  const logsLogger = logger.child('logs')
  const retentionMs = config.requestLog.retentionSec * 1000
  const oauthActivity = createOAuthActivityLog({ store, clock, logger: logsLogger, nodeId: config.nodeId, retentionMs, maxEvents: config.requestLog.maxRecords })
  oauthActivity.start()
  onStop(() => oauthActivity.stop())
  // One record per request from the edge goes into this ring; a writer batches them into the store.
  const requestLog = createRequestLog({
    store,
    clock,
    logger: logsLogger,
    settings: { retentionMs, maxRecords: config.requestLog.maxRecords, ringSize: config.requestLog.ringSize, accessLog: config.requestLog.accessLog },
  })
  requestLog.start()
  // Stopped after the edge (cleanups run in reverse), so the last requests' records are written.
  onStop(() => requestLog.stop())
  const captures = createCaptureService({ store, bus, clock, logger: logsLogger, nodeId: config.nodeId, retentionMs })
  await captures.start()
  onStop(() => captures.stop())
  return { oauthActivity, requestLog, captures, retentionMs }
}

export interface MetricsDeps {
  /** The running edge; null until it has started. */
  readonly edge: () => Edge | null
  readonly certificates: CertificateManager
  readonly tokenVerifications: NonNullable<MetricsSources['tokenVerifications']>
  readonly requestLog: RequestLog
  readonly rateLimitCounts: RateLimitCounts
  readonly logger: Logger
}

/** GET /metrics: requests counted from the edge's records, the rest read at each scrape. */
export function composeMetrics(deps: MetricsDeps): Metrics {
  const { edge, certificates, requestLog, rateLimitCounts, logger } = deps
  return createMetrics({
    sources: {
      activeConnections: () => edge()?.stats().connections ?? null,
      connectionsRefused: () => edge()?.stats().refused ?? null,
      certificates: async () => (await certificates.list()).map((c) => ({ name: c.cert_name, status: c.status, notAfterMs: c.not_after === null ? null : Date.parse(c.not_after) })),
      tokenVerifications: deps.tokenVerifications,
      droppedLogRecords: () => requestLog.counters().dropped,
      rateLimited: () => rateLimitCounts.snapshot(),
    },
    onReadError: (metric, error) => logger.warn('metrics source failed', { metric, error: String(error) }),
  })
}

/** Where the edge writes one record per request: the metrics always, the request log unless it is off. */
export function edgeRequestLogging(config: Config, logs: Logs, metrics: Metrics): RequestLogging {
  const { requestLog, captures } = logs
  return { sink: config.requestLog.enabled ? { record: (record) => (metrics.sink.record(record), requestLog.sink.record(record)) } : metrics.sink, node: config.nodeId, tap: captures }
}

export interface LogRoutesDeps {
  readonly config: Config
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  readonly targets: ProxyTargets
}

/** /oauth/events, /logs, /logs/level and /logs/capture. */
export function logApiRoutes(logs: Logs, deps: LogRoutesDeps): RouteSpec[] {
  const { config, bus, clock, logger, targets } = deps
  return [
    ...oauthEventRoutes({ activity: logs.oauthActivity, clock }),
    ...logRoutes(logs.requestLog, { clock, retentionMs: logs.retentionMs }),
    ...logLevelRoutes({ levels: logger.levels, nodeId: config.nodeId, announce: (component, level) => bus.publish({ type: 'log_level_changed', component, level }) }),
    ...logCaptureRoutes({ captures: logs.captures, hostServed: async (host) => (await targets.get(host)) !== null || (wildcardParent(host) !== null && (await targets.get(wildcardParent(host)!)) !== null) }),
  ]
}
