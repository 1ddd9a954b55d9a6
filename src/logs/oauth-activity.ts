/**
 * @module The OAuth activity log (issue #12): the authorization server's events in a log stream of
 * their own (`oauth`), kept as long as request logs (LOG_RETENTION, and a cap on their number).
 *
 * record() is what the authorization server calls: synchronous, never throws, never waits. Events
 * wait in a bounded queue and are written in batches; when the store does not answer they are dropped
 * and counted, and the request that caused them goes on. Queries first let this node's queue drain, so
 * a caller reads its own node's writes; other nodes' events appear once their batches are written.
 */
import type { Clock, Logger } from '../lib/index.ts'
import { STREAMS, type Store } from '../store/index.ts'
import { toStoredEvent, type OAuthEventInput } from './oauth-event.ts'
import { createQueuedAppends } from './queued-appends.ts'
import { createRetention } from './retention.ts'
import { queryOAuthEvents, type OAuthEventFilter, type OAuthEventPage, type OAuthEventPageRequest } from './oauth-query.ts'

export interface OAuthActivityLogOptions {
  readonly store: Store
  readonly clock: Clock
  readonly logger: Logger
  /** NODE_ID: which node saw the event. */
  readonly nodeId: string
  /** LOG_RETENTION: events older than this are removed. */
  readonly retentionMs: number
  /** At most this many events are kept (the oldest go first). Default 1,000,000. */
  readonly maxEvents?: number
  /** Events waiting to be written beyond this are dropped (and counted). Default 10,000. */
  readonly maxPending?: number
  /** How often retention runs. Default 10 minutes. */
  readonly retentionIntervalMs?: number
}

export interface OAuthActivityLog {
  /** Queues one event, stamped with the time and this node. */
  record(input: OAuthEventInput): void
  /** One page of matching events (see oauth-query.ts); throws InvalidCursorError for a cursor not of ours. */
  query(filter: OAuthEventFilter, page: OAuthEventPageRequest): Promise<OAuthEventPage>
  /** Resolves once every event queued before the call is written (or dropped). */
  flush(): Promise<void>
  /** Removes events past the retention period and beyond the cap; returns how many went. */
  enforceRetention(): Promise<number>
  /** Events lost so far: queue full, or the store refused a batch. */
  readonly dropped: number
  /** Runs retention now and then on a timer. */
  start(): void
  /** Stops the timer and writes what is queued. */
  stop(): Promise<void>
}

const DEFAULT_MAX_EVENTS = 1_000_000
const DEFAULT_MAX_PENDING = 10_000
const DEFAULT_RETENTION_INTERVAL_MS = 600_000

export function createOAuthActivityLog(options: OAuthActivityLogOptions): OAuthActivityLog {
  const { store, clock, logger } = options
  const stream = STREAMS.oauth
  const queue = createQueuedAppends(store, stream, { maxPending: options.maxPending ?? DEFAULT_MAX_PENDING, logger, what: 'OAuth activity events' })
  let unrecordable = 0
  const retention = createRetention({
    store,
    stream,
    clock,
    logger,
    retentionMs: options.retentionMs,
    maxRecords: options.maxEvents ?? DEFAULT_MAX_EVENTS,
    intervalMs: options.retentionIntervalMs ?? DEFAULT_RETENTION_INTERVAL_MS,
    what: 'OAuth activity',
  })

  const log: OAuthActivityLog = {
    record(input) {
      try {
        queue.add({ timeMs: clock.nowMs(), data: JSON.stringify(toStoredEvent(input, options.nodeId)) })
      } catch (error) {
        unrecordable++
        logger.warn('OAuth activity event not recorded', { error: String(error) })
      }
    },
    async query(filter, page) {
      await queue.flush()
      return queryOAuthEvents(store, stream, filter, page)
    },
    flush: () => queue.flush(),
    async enforceRetention() {
      const { byAge, byCount } = await retention.enforce()
      return byAge + byCount
    },
    get dropped() {
      return queue.dropped + unrecordable
    },
    start: () => retention.start(),
    async stop() {
      retention.stop()
      await queue.flush()
    },
  }
  return log
}
