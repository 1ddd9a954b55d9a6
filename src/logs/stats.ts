/**
 * @module Traffic statistics over a time window, computed from the stored records themselves (the
 * original's were zeros: original-behaviour §8, §12): requests, status counts, latency percentiles,
 * error rate, unique visitors (HyperLogLog over client addresses), top hosts, paths and OAuth clients,
 * and per-hour or per-minute buckets. Addresses and user names never appear: /logs/stats needs only
 * the `user` scope.
 */
import { createHyperLogLog } from './hyperloglog.ts'
import { isErrorRecord } from './filter.ts'
import type { RequestRecord } from './record.ts'

export type BucketSize = 'hour' | 'minute'

export const BUCKET_MS: Readonly<Record<BucketSize, number>> = { hour: 3_600_000, minute: 60_000 }
/** At most this many buckets per answer (a day of minutes, a month of hours, with room). */
export const MAX_BUCKETS = 2_000

export interface LatencySummary {
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

export interface StatsBucket {
  readonly start: string
  readonly requests: number
  readonly errors: number
  readonly p50_ms: number | null
  readonly p99_ms: number | null
}

export interface TopEntry {
  readonly value: string
  readonly requests: number
}

export interface TrafficStats {
  readonly requests: number
  readonly errors: number
  /** errors / requests (0 without requests); an error is a 5xx answer or a backend failure. */
  readonly error_rate: number
  /** 2xx and 3xx answers / requests. */
  readonly success_rate: number
  readonly status: Readonly<Record<string, number>>
  readonly status_classes: Readonly<Record<string, number>>
  readonly outcomes: Readonly<Record<string, number>>
  /** Nearest-rank percentiles of duration_ms; null without requests. */
  readonly latency_ms: LatencySummary | null
  readonly bytes_in: number
  readonly bytes_out: number
  readonly unique_visitors: number
  readonly top_hosts: TopEntry[]
  /** Paths without their query. */
  readonly top_paths: TopEntry[]
  /** OAuth client ids of authenticated requests. */
  readonly top_clients: TopEntry[]
  readonly requests_per_hour: number
  readonly requests_per_minute: number
  readonly bucket: BucketSize
  readonly buckets: StatsBucket[]
}

export interface StatsAccumulator {
  add(record: RequestRecord): void
  result(): TrafficStats
}

/** Nearest rank (the smallest value with at least p of the values at or below it) of ascending values. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil(p * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

export function createStatsAccumulator(options: { fromMs: number; toMs: number; bucket: BucketSize; top: number }): StatsAccumulator {
  const bucketMs = BUCKET_MS[options.bucket]
  const firstBucketMs = Math.floor(options.fromMs / bucketMs) * bucketMs
  const bucketCount = Math.floor(options.toMs / bucketMs) - firstBucketMs / bucketMs + 1
  if (bucketCount > MAX_BUCKETS) throw new RangeError(`${bucketCount} buckets is more than ${MAX_BUCKETS}`)
  const buckets = Array.from({ length: Math.max(0, bucketCount) }, () => ({ requests: 0, errors: 0, durations: [] as number[] }))
  const durations: number[] = []
  const status = new Map<number, number>()
  const outcomes = new Map<string, number>()
  const hosts = new Map<string, number>()
  const paths = new Map<string, number>()
  const clients = new Map<string, number>()
  const visitors = createHyperLogLog()
  let requests = 0
  let errors = 0
  let successes = 0
  let bytesIn = 0
  let bytesOut = 0

  return {
    add(record) {
      requests++
      const isError = isErrorRecord(record)
      if (isError) errors++
      if (record.status >= 200 && record.status < 400) successes++
      bump(status, record.status)
      bump(outcomes, record.outcome)
      bump(hosts, record.host)
      const queryAt = record.path.indexOf('?')
      bump(paths, queryAt === -1 ? record.path : record.path.slice(0, queryAt))
      if (record.client_id !== null) bump(clients, record.client_id)
      visitors.add(record.client_ip)
      durations.push(record.duration_ms)
      bytesIn += record.bytes_in
      bytesOut += record.bytes_out
      const bucket = buckets[Math.floor((record.time - firstBucketMs) / bucketMs)]
      if (bucket) {
        bucket.requests++
        if (isError) bucket.errors++
        bucket.durations.push(record.duration_ms)
      }
    },
    result() {
      const sorted = Float64Array.from(durations).sort()
      const windowMs = Math.max(1, options.toMs - options.fromMs)
      const classes: Record<string, number> = {}
      for (const [code, count] of status) classes[`${Math.floor(code / 100)}xx`] = (classes[`${Math.floor(code / 100)}xx`] ?? 0) + count
      return {
        requests,
        errors,
        error_rate: requests === 0 ? 0 : errors / requests,
        success_rate: requests === 0 ? 0 : successes / requests,
        status: Object.fromEntries([...status].sort(([a], [b]) => a - b).map(([code, count]) => [String(code), count])),
        status_classes: Object.fromEntries(Object.entries(classes).sort()),
        outcomes: Object.fromEntries(outcomes),
        latency_ms:
          requests === 0
            ? null
            : {
                p50: percentile(sorted, 0.5),
                p90: percentile(sorted, 0.9),
                p99: percentile(sorted, 0.99),
                max: sorted[sorted.length - 1]!,
                mean: durations.reduce((sum, ms) => sum + ms, 0) / requests,
              },
        bytes_in: bytesIn,
        bytes_out: bytesOut,
        unique_visitors: visitors.count(),
        top_hosts: topOf(hosts, options.top),
        top_paths: topOf(paths, options.top),
        top_clients: topOf(clients, options.top),
        requests_per_hour: (requests * 3_600_000) / windowMs,
        requests_per_minute: (requests * 60_000) / windowMs,
        bucket: options.bucket,
        buckets: buckets.map((bucket, index) => {
          const inBucket = Float64Array.from(bucket.durations).sort()
          return {
            start: new Date(firstBucketMs + index * bucketMs).toISOString(),
            requests: bucket.requests,
            errors: bucket.errors,
            p50_ms: inBucket.length === 0 ? null : percentile(inBucket, 0.5),
            p99_ms: inBucket.length === 0 ? null : percentile(inBucket, 0.99),
          }
        }),
      }
    },
  }
}

function bump<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1)
}

/** The n most frequent, ties broken by value so answers are stable. */
function topOf(counts: Map<string, number>, n: number): TopEntry[] {
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, n)
    .map(([value, requests]) => ({ value, requests }))
}
