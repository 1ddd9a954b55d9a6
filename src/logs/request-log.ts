/**
 * @module The request log service: the sink the data plane writes to (a bounded ring, O(1), never
 * throws or waits), the writer that drains it into the store's `requests` stream, retention, and the
 * queries behind /logs/* (search, one request by id, statistics, the live tail). Every query scans at
 * most `scanBudget` records.
 */
import type { Clock, Logger } from '../lib/index.ts'
import { STREAMS, type Store } from '../store/index.ts'
import { compileFilter, mayMatchRaw, type Condition } from './filter.ts'
import { createFollowHub } from './follow.ts'
import type { RequestRecord, RequestSink } from './record.ts'
import { createRetention, type RetentionResult } from './retention.ts'
import { createRecordRing } from './ring.ts'
import { scanNewestFirst } from './scan.ts'
import { searchRecords, type SearchPage, type SearchQuery } from './search.ts'
import { createStatsAccumulator, type BucketSize, type TrafficStats } from './stats.ts'
import { parseStoredRecord, type StoredRecord } from './stored-record.ts'
import { createLogWriter, type LogWriterCounters } from './writer.ts'

export interface RequestLogSettings {
  /** LOG_RETENTION. */
  readonly retentionMs: number
  /** LOG_MAX_RECORDS. */
  readonly maxRecords: number
  /** LOG_RING_SIZE. */
  readonly ringSize: number
  /** ACCESS_LOG. */
  readonly accessLog: 'stdout' | 'off'
}

export interface RequestLogTimings {
  /** How often the writer drains the ring (default 250 ms); a full batch goes at once. */
  readonly flushIntervalMs?: number
  /** Records per store write (default 8,192, eight chunks of rows: each write is a transaction and a message to the store's writer thread, and waking that thread costs the sender some 0.4 ms of CPU). */
  readonly batchSize?: number
  /** How often retention runs (default 60 s). */
  readonly retentionIntervalMs?: number
  /** How often a live tail polls the store (default 250 ms). */
  readonly followPollMs?: number
  /** Records one query may read (default 100,000). */
  readonly scanBudget?: number
}

export interface RequestLogDeps {
  readonly store: Store
  readonly clock: Clock
  readonly logger: Logger
  readonly settings: RequestLogSettings
  readonly timings?: RequestLogTimings
  /** Where ACCESS_LOG=stdout lines go (default: process.stdout). */
  readonly writeAccessLog?: (text: string) => void
}

export interface StatsQuery {
  readonly conditions: readonly Condition[]
  readonly fromMs: number
  readonly toMs: number
  readonly bucket: BucketSize
  readonly top: number
}

export interface StatsAnswer extends TrafficStats {
  readonly scanned: number
  /** False when the scan budget ran out: the numbers cover the newest `scanned` records of the window. */
  readonly complete: boolean
}

export interface RequestLog {
  readonly sink: RequestSink
  search(query: SearchQuery): Promise<SearchPage>
  /** Every record with this request id (a client may reuse its own ids), newest first; empty when none. */
  byId(requestId: string, window: { fromMs: number; toMs: number }): Promise<{ records: StoredRecord[]; complete: boolean }>
  stats(query: StatsQuery): Promise<StatsAnswer>
  /** See FollowHub.subscribe; `end` is called if the log ends the follow itself (endFollows, stop). */
  follow(conditions: readonly Condition[], deliver: (stored: StoredRecord) => void, end?: () => void): Promise<() => void>
  /** Ends every live tail, so a server can stop without waiting for followers that never leave. */
  endFollows(): void
  /** Live tails open on this node. */
  followers(): number
  /** The log's own counters: queued, written, dropped, write failures. */
  counters(): LogWriterCounters
  /** Writes what is queued now (tests, shutdown). */
  flush(): Promise<void>
  /** Runs retention now (tests). */
  enforceRetention(): Promise<RetentionResult>
  readonly scanBudget: number
  start(): void
  /** Stops the timers and tails, and writes what is queued. */
  stop(): Promise<void>
}

const MAX_RECORDS_PER_ID = 100

export function createRequestLog(deps: RequestLogDeps): RequestLog {
  const { store, clock, logger, settings } = deps
  const timings = deps.timings ?? {}
  const stream = STREAMS.requests
  const scanBudget = timings.scanBudget ?? 100_000
  const ring = createRecordRing(settings.ringSize)
  const writer = createLogWriter({
    ring,
    store,
    stream,
    logger,
    accessLog: settings.accessLog === 'stdout' ? (deps.writeAccessLog ?? ((text) => void process.stdout.write(text))) : undefined,
    flushIntervalMs: timings.flushIntervalMs ?? 250,
    batchSize: timings.batchSize ?? 8_192,
  })
  const retention = createRetention({
    store,
    stream,
    clock,
    logger,
    retentionMs: settings.retentionMs,
    maxRecords: settings.maxRecords,
    intervalMs: timings.retentionIntervalMs ?? 60_000,
    what: 'request log',
  })
  const hub = createFollowHub({ store, stream, logger, pollMs: timings.followPollMs ?? 250 })

  const sink: RequestSink = {
    record(record: RequestRecord) {
      // Never throws into the data plane, whatever a record looks like.
      try {
        if (ring.push(record)) writer.notePushed()
      } catch {
        // A push cannot fail; this guard keeps that promise if it ever could.
      }
    },
  }

  return {
    sink,
    search: (query) => searchRecords(store, stream, query, scanBudget),
    async byId(requestId, window) {
      const filter = compileFilter([{ kind: 'equals', field: 'request_id', value: requestId }])
      const records: StoredRecord[] = []
      const outcome = await scanNewestFirst(store, stream, window, scanBudget, (entry) => {
        if (!mayMatchRaw(filter, entry.data)) return true
        const stored = parseStoredRecord(entry)
        if (stored && filter.matches(stored.record)) records.push(stored)
        return records.length < MAX_RECORDS_PER_ID
      })
      return { records, complete: !outcome.isBudgetSpent }
    },
    async stats(query) {
      const filter = compileFilter(query.conditions)
      const accumulator = createStatsAccumulator(query)
      const outcome = await scanNewestFirst(store, stream, { fromMs: query.fromMs, toMs: query.toMs }, scanBudget, (entry) => {
        if (!mayMatchRaw(filter, entry.data)) return true
        const stored = parseStoredRecord(entry)
        if (stored && filter.matches(stored.record)) accumulator.add(stored.record)
        return true
      })
      return { ...accumulator.result(), scanned: outcome.scanned, complete: !outcome.isBudgetSpent }
    },
    follow: (conditions, deliver, end) => hub.subscribe(conditions, deliver, end),
    endFollows: () => hub.endAll(),
    followers: () => hub.followers,
    counters: () => writer.counters(),
    flush: () => writer.flush(),
    enforceRetention: () => retention.enforce(),
    scanBudget,
    start() {
      writer.start()
      retention.start()
    },
    async stop() {
      hub.endAll()
      retention.stop()
      await writer.stop()
    },
  }
}


