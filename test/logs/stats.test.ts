/** /logs/stats numbers equal those computed here from the raw records (issue #12 acceptance), through the real log and store. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createRequestLog, type Condition, type RequestLog, type RequestRecord } from '../../src/logs/index.ts'
import { createEmbeddedStore, type Store } from '../../src/store/index.ts'
import { makeRecord, trafficRecords } from './records.ts'

const HOUR = 3_600_000
const START = Date.UTC(2026, 10, 27, 6, 17)
const END = START + 6 * HOUR

let store: Store
let log: RequestLog
let records: RequestRecord[]

beforeAll(async () => {
  store = createEmbeddedStore({ dataDir: ':memory:' })
  log = createRequestLog({
    store,
    clock: createManualClock(END),
    logger: createLogger('silent'),
    settings: { retentionMs: 30 * 86_400_000, maxRecords: 1_000_000, ringSize: 10_000, accessLog: 'off' },
    timings: { flushIntervalMs: 60_000, retentionIntervalMs: 3_600_000 },
  })
  records = trafficRecords(3_000, START, END - START, 7)
  // Outside the window on both sides: must not count.
  const outside = [makeRecord({ time: START - 1 }), makeRecord({ time: END + 1 })]
  for (const record of [...records, ...outside]) log.sink.record(record)
  await log.flush()
})
afterAll(async () => {
  await log.stop()
  await store.close()
})

/** Nearest rank, written out from its definition. */
function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.ceil(p * sorted.length) - 1]!
}

function countBy<T>(items: T[], key: (item: T) => string | null): Map<string, number> {
  const counts = new Map<string, number>()
  for (const item of items) {
    const value = key(item)
    if (value !== null) counts.set(value, (counts.get(value) ?? 0) + 1)
  }
  return counts
}

function top(counts: Map<string, number>, n: number) {
  return [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).slice(0, n).map(([value, requests]) => ({ value, requests }))
}

function expectedStats(raw: RequestRecord[], topN: number) {
  const isError = (r: RequestRecord) => r.status >= 500 || r.outcome === 'backend_error'
  const durations = raw.map((r) => r.duration_ms)
  const statusCounts = countBy(raw, (r) => String(r.status))
  return {
    requests: raw.length,
    errors: raw.filter(isError).length,
    error_rate: raw.filter(isError).length / raw.length,
    success_rate: raw.filter((r) => r.status >= 200 && r.status < 400).length / raw.length,
    status: Object.fromEntries([...statusCounts].sort(([a], [b]) => Number(a) - Number(b))),
    status_classes: Object.fromEntries([...countBy(raw, (r) => `${String(r.status)[0]}xx`)].sort()),
    latency_ms: {
      p50: nearestRank(durations, 0.5),
      p90: nearestRank(durations, 0.9),
      p99: nearestRank(durations, 0.99),
      max: Math.max(...durations),
      mean: durations.reduce((a, b) => a + b, 0) / durations.length,
    },
    bytes_in: raw.reduce((sum, r) => sum + r.bytes_in, 0),
    bytes_out: raw.reduce((sum, r) => sum + r.bytes_out, 0),
    top_hosts: top(countBy(raw, (r) => r.host), topN),
    top_paths: top(countBy(raw, (r) => r.path.split('?')[0]!), topN),
    top_clients: top(countBy(raw, (r) => r.client_id), topN),
    unique_exact: new Set(raw.map((r) => r.client_ip)).size,
  }
}

const statsOf = (conditions: Condition[] = [], bucket: 'hour' | 'minute' = 'hour', top = 3) => log.stats({ conditions, fromMs: START, toMs: END, bucket, top })

describe('GET /logs/stats numbers', () => {
  test('requests, errors, rates, status counts, latency percentiles, bytes and top lists equal the raw records\'', async () => {
    const stats = await statsOf()
    const expected = expectedStats(records, 3)
    const { unique_exact, latency_ms, error_rate, success_rate, ...exact } = expected
    expect(stats).toMatchObject(exact)
    expect(stats.latency_ms!.p50).toBe(latency_ms.p50)
    expect(stats.latency_ms!.p90).toBe(latency_ms.p90)
    expect(stats.latency_ms!.p99).toBe(latency_ms.p99)
    expect(stats.latency_ms!.max).toBe(latency_ms.max)
    expect(stats.latency_ms!.mean).toBeCloseTo(latency_ms.mean, 9)
    expect(stats.error_rate).toBeCloseTo(error_rate, 12)
    expect(stats.success_rate).toBeCloseTo(success_rate, 12)
    expect(Math.abs(stats.unique_visitors - unique_exact)).toBeLessThanOrEqual(Math.ceil(unique_exact * 0.02))
    expect(stats.outcomes).toEqual(Object.fromEntries(countBy(records, (r) => r.outcome)))
    expect(stats.requests_per_hour).toBeCloseTo(records.length / 6, 9)
    expect(stats.requests_per_minute).toBeCloseTo(records.length / 360, 9)
    expect(stats).toMatchObject({ scanned: records.length, complete: true })
  })

  test('hour buckets cover the window, each with the requests, errors and percentiles of its own records', async () => {
    const stats = await statsOf()
    const firstHour = Math.floor(START / HOUR) * HOUR
    expect(stats.buckets.map((b) => b.start)).toEqual(Array.from({ length: 7 }, (_, i) => new Date(firstHour + i * HOUR).toISOString()))
    for (const bucket of stats.buckets) {
      const startMs = Date.parse(bucket.start)
      const inside = records.filter((r) => r.time >= startMs && r.time < startMs + HOUR)
      expect(bucket.requests).toBe(inside.length)
      expect(bucket.errors).toBe(inside.filter((r) => r.status >= 500 || r.outcome === 'backend_error').length)
      expect(bucket.p50_ms).toBe(inside.length ? nearestRank(inside.map((r) => r.duration_ms), 0.5) : null)
      expect(bucket.p99_ms).toBe(inside.length ? nearestRank(inside.map((r) => r.duration_ms), 0.99) : null)
    }
    expect(stats.buckets.reduce((sum, b) => sum + b.requests, 0)).toBe(records.length)
  })

  test('minute buckets add up to the same totals', async () => {
    const stats = await statsOf([], 'minute')
    expect(stats.buckets).toHaveLength(361)
    expect(stats.buckets.reduce((sum, b) => sum + b.requests, 0)).toBe(records.length)
  })

  test('filters narrow the records the numbers come from', async () => {
    const host = 'api.example.com'
    const filtered = records.filter((r) => r.host === host && r.status >= 500)
    const stats = await statsOf([
      { kind: 'equals', field: 'host', value: host },
      { kind: 'status_class', digit: 5 },
    ])
    const { unique_exact: _unique, latency_ms, error_rate: _rate, success_rate: _success, ...exact } = expectedStats(filtered, 3)
    expect(stats).toMatchObject(exact)
    expect(stats.latency_ms!.p99).toBe(latency_ms.p99)
    expect(stats.error_rate).toBe(1)
  })

  test('an empty window answers zeros and null latency, not an error', async () => {
    const stats = await log.stats({ conditions: [], fromMs: END + 3_600_000, toMs: END + 7_200_000, bucket: 'hour', top: 3 })
    expect(stats).toMatchObject({ requests: 0, errors: 0, error_rate: 0, latency_ms: null, unique_visitors: 0, top_hosts: [], complete: true })
  })
})

test('the scan budget bounds a statistics query: it covers the newest records and says it is incomplete', async () => {
  const small = createRequestLog({
    store,
    clock: createManualClock(END),
    logger: createLogger('silent'),
    settings: { retentionMs: 30 * 86_400_000, maxRecords: 1_000_000, ringSize: 10, accessLog: 'off' },
    timings: { scanBudget: 1_000 },
  })
  const stats = await small.stats({ conditions: [], fromMs: START, toMs: END, bucket: 'hour', top: 3 })
  const newest = [...records].sort((a, b) => b.time - a.time).slice(0, 1_000)
  expect(stats).toMatchObject({ scanned: 1_000, complete: false, requests: 1_000 })
  expect(stats.latency_ms!.p90).toBe(nearestRank(newest.map((r) => r.duration_ms), 0.9))
  await small.stop()
})
