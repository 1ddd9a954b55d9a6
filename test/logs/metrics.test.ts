/**
 * createMetrics: the counters equal what the raw records say (by proxy, status class, outcome;
 * latency; backend errors by kind), the host label stays bounded whatever Host clients send, and the
 * families read at scrape time show their sources (connections, certificates, token verifications,
 * dropped records, memory, event-loop lag), or nothing when a source is absent or fails.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { createMetrics, OTHER_HOST, REQUEST_DURATION_BUCKETS, UNMATCHED_HOST, type CertificateExpiry, type Metrics, type MetricsOptions, type RequestRecord } from '../../src/logs/index.ts'
import { parseExposition, samplesOf, sumOf } from './metrics-text.ts'

const opened: Metrics[] = []
afterEach(() => {
  for (const metrics of opened.splice(0)) metrics.close()
})

function metricsWith(options: MetricsOptions = {}): Metrics {
  const metrics = createMetrics({ eventLoopSampleIntervalMs: 0, ...options })
  opened.push(metrics)
  return metrics
}

let sequence = 0
function record(overrides: Partial<RequestRecord> = {}): RequestRecord {
  sequence++
  return {
    time: Date.UTC(2026, 0, 1) + sequence,
    request_id: `r-${sequence}`,
    node: 'n1',
    scheme: 'https',
    host: overrides.proxy ?? 'unknown.example',
    proxy: 'app.example.com',
    method: 'GET',
    path: '/',
    status: 200,
    duration_ms: 12,
    bytes_in: 0,
    bytes_out: 100,
    client_ip: '192.0.2.1',
    user_agent: null,
    user: null,
    client_id: null,
    route_id: null,
    backend: 'http://127.0.0.1:9',
    outcome: 'forwarded',
    backend_error: null,
    ...overrides,
  }
}

const statusClassOf = (status: number) => (status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : 'other')

describe('counted from the request records', () => {
  test('ohp_requests_total by host, status class and outcome, ohp_request_duration_seconds and ohp_backend_errors_total equal what the raw records say', async () => {
    const metrics = metricsWith()
    const records: RequestRecord[] = []
    const proxies = ['app.example.com', '*.wild.example.com', 'api.example.com', null]
    const shapes: Partial<RequestRecord>[] = [
      { status: 200, outcome: 'forwarded' },
      { status: 101, outcome: 'handed_over' },
      { status: 304, outcome: 'forwarded' },
      { status: 308, outcome: 'answered' },
      { status: 401, outcome: 'auth' },
      { status: 404, outcome: 'answered' },
      { status: 502, outcome: 'backend_error', backend_error: 'refused' },
      { status: 504, outcome: 'backend_error', backend_error: 'timeout' },
      { status: 502, outcome: 'backend_error', backend_error: 'reset' },
      { status: 502, outcome: 'backend_error', backend_error: 'protocol' },
      { status: 502, outcome: 'backend_error', backend_error: 'unreachable' },
      { status: 0, outcome: 'backend_error', backend_error: 'reset' },
    ]
    for (let i = 0; i < 500; i++) {
      const shape = shapes[(i * 7) % shapes.length]!
      records.push(record({ proxy: proxies[i % proxies.length]!, duration_ms: (i * 37) % 4000, ...shape }))
    }
    for (const r of records) metrics.observe(r)
    const parsed = parseExposition(await metrics.render())

    const expected = new Map<string, number>()
    for (const r of records) {
      const key = JSON.stringify([r.proxy ?? UNMATCHED_HOST, statusClassOf(r.status), r.outcome])
      expected.set(key, (expected.get(key) ?? 0) + 1)
    }
    const requests = samplesOf(parsed, 'ohp_requests_total')
    expect(requests.length).toBe(expected.size)
    for (const sample of requests) expect(sample.value).toBe(expected.get(JSON.stringify([sample.labels.host, sample.labels.status_class, sample.labels.outcome]))!)

    for (const proxy of proxies) {
      const host = proxy ?? UNMATCHED_HOST
      const mine = records.filter((r) => (r.proxy ?? UNMATCHED_HOST) === host)
      expect(sumOf(parsed, 'ohp_request_duration_seconds_count', { host })).toBe(mine.length)
      expect(sumOf(parsed, 'ohp_request_duration_seconds_sum', { host })).toBeCloseTo(mine.reduce((sum, r) => sum + r.duration_ms / 1000, 0), 6)
      for (const bound of REQUEST_DURATION_BUCKETS) {
        expect(sumOf(parsed, 'ohp_request_duration_seconds_bucket', { host, le: String(bound) })).toBe(mine.filter((r) => r.duration_ms / 1000 <= bound).length)
      }
      for (const kind of ['refused', 'timeout', 'reset', 'protocol', 'unreachable']) {
        expect(sumOf(parsed, 'ohp_backend_errors_total', { host, kind })).toBe(mine.filter((r) => r.backend_error === kind).length)
      }
    }
    expect(sumOf(parsed, 'ohp_requests_total', { status_class: 'other' })).toBe(records.filter((r) => r.status === 0).length)
  })

  test('the sink is the same counter: records written through it are counted', async () => {
    const metrics = metricsWith()
    metrics.sink.record(record({ status: 201 }))
    metrics.sink.record(record({ status: 201 }))
    expect(sumOf(parseExposition(await metrics.render()), 'ohp_requests_total', { host: 'app.example.com', status_class: '2xx', outcome: 'forwarded' })).toBe(2)
  })

  test('the host label is the proxy that served, never the Host header: requests no proxy served share one value, proxies past maxHosts another', async () => {
    const metrics = metricsWith({ maxHosts: 3 })
    // A client can send any Host; only configured proxies (and the two fold values) become labels.
    for (let i = 0; i < 50; i++) metrics.observe(record({ host: `random-${i}.attacker.example`, proxy: null, status: 404, outcome: 'answered' }))
    for (const proxy of ['a.example', 'b.example', 'c.example', 'd.example', 'a.example']) metrics.observe(record({ host: proxy, proxy }))
    const parsed = parseExposition(await metrics.render())
    const hosts = new Set(samplesOf(parsed, 'ohp_requests_total').map((sample) => sample.labels.host))
    // (none) took the first of the three places, a and b the others; c and d fold into (other).
    expect([...hosts].sort()).toEqual([OTHER_HOST, UNMATCHED_HOST, 'a.example', 'b.example'].sort())
    expect(sumOf(parsed, 'ohp_requests_total', { host: UNMATCHED_HOST })).toBe(50)
    expect(sumOf(parsed, 'ohp_requests_total', { host: 'a.example' })).toBe(2)
    expect(sumOf(parsed, 'ohp_requests_total', { host: OTHER_HOST })).toBe(2)
    expect(samplesOf(parsed, 'ohp_request_duration_seconds_count').length).toBe(4)
    expect(await metrics.render()).not.toContain('attacker')
  })

  test('a proxy name with characters the format escapes still yields a parseable exposition', async () => {
    const metrics = metricsWith()
    metrics.observe(record({ proxy: 'odd"name\\with\nbreaks' }))
    expect(samplesOf(parseExposition(await metrics.render()), 'ohp_requests_total')[0]?.labels.host).toBe('odd"name\\with\nbreaks')
  })
})

describe('read at scrape time', () => {
  const certificates: CertificateExpiry[] = [
    { name: 'app-example-com', status: 'issued', notAfterMs: Date.UTC(2026, 2, 1) },
    { name: 'renewing', status: 'validating', notAfterMs: Date.UTC(2026, 0, 20, 12, 30) },
    { name: 'broken', status: 'failed', notAfterMs: null },
  ]

  test('connections, certificate expiry and status, token verifications and refusals, dropped records and memory come from their sources', async () => {
    let storeReads = 0
    const metrics = metricsWith({
      sources: {
        activeConnections: () => 7,
        certificates: async () => (storeReads++, certificates),
        tokenVerifications: () => ({ cacheHits: 40, verified: 5, refused: { expired: 2, bad_signature: 1, revoked: 3 } }),
        droppedLogRecords: () => 11,
        residentMemoryBytes: () => 123_456_789,
      },
    })
    const parsed = parseExposition(await metrics.render())
    expect(storeReads).toBe(1)
    expect(sumOf(parsed, 'ohp_active_connections')).toBe(7)
    expect(samplesOf(parsed, 'ohp_certificate_expiry_timestamp_seconds').map((s) => [s.labels.name, s.value])).toEqual([
      ['app-example-com', Date.UTC(2026, 2, 1) / 1000],
      ['renewing', Date.UTC(2026, 0, 20, 12, 30) / 1000],
    ])
    expect(samplesOf(parsed, 'ohp_certificate_status', { name: 'broken' }).map((s) => [s.labels.status, s.value])).toEqual([
      ['pending', 0],
      ['validating', 0],
      ['issued', 0],
      ['failed', 1],
    ])
    expect(sumOf(parsed, 'ohp_certificate_status', { status: 'issued' })).toBe(1)
    expect(samplesOf(parsed, 'ohp_token_verifications_total').map((s) => [s.labels.result, s.value])).toEqual([
      ['cache_hit', 40],
      ['verified', 5],
      ['refused', 6],
    ])
    expect(samplesOf(parsed, 'ohp_token_refusals_total').map((s) => [s.labels.reason, s.value])).toEqual([
      ['expired', 2],
      ['bad_signature', 1],
      ['revoked', 3],
    ])
    expect(sumOf(parsed, 'ohp_log_records_dropped_total')).toBe(11)
    expect(sumOf(parsed, 'ohp_process_resident_memory_bytes')).toBe(123_456_789)
    for (const [name, type] of [
      ['ohp_active_connections', 'gauge'],
      ['ohp_certificate_expiry_timestamp_seconds', 'gauge'],
      ['ohp_token_verifications_total', 'counter'],
      ['ohp_log_records_dropped_total', 'counter'],
      ['ohp_request_duration_seconds', 'histogram'],
      ['ohp_event_loop_lag_seconds', 'histogram'],
    ]) expect(parsed.families.get(name!)?.type).toBe(type!)
  })

  test('an absent source, or one that answers null (the edge not running yet), shows no sample; the process memory is its own by default', async () => {
    const metrics = metricsWith({ sources: { activeConnections: () => null, tokenVerifications: () => null } })
    const parsed = parseExposition(await metrics.render())
    for (const name of ['ohp_active_connections', 'ohp_certificate_expiry_timestamp_seconds', 'ohp_certificate_status', 'ohp_token_verifications_total', 'ohp_token_refusals_total', 'ohp_log_records_dropped_total']) {
      expect(parsed.families.has(name)).toBe(true)
      expect(samplesOf(parsed, name)).toEqual([])
    }
    expect(sumOf(parsed, 'ohp_process_resident_memory_bytes')).toBeGreaterThan(1_000_000)
  })

  test('a certificate source that fails (the store is down) empties both certificate families for that scrape only, and is reported', async () => {
    const failures: string[] = []
    let storeUp = false
    const metrics = metricsWith({
      sources: {
        activeConnections: () => 1,
        certificates: async () => {
          if (!storeUp) throw new Error('store unavailable')
          return certificates
        },
      },
      onReadError: (metric) => failures.push(metric),
    })
    const down = parseExposition(await metrics.render())
    expect(samplesOf(down, 'ohp_certificate_status')).toEqual([])
    expect(sumOf(down, 'ohp_active_connections')).toBe(1)
    expect(failures).toEqual(['ohp_certificate_expiry_timestamp_seconds', 'ohp_certificate_status'])
    storeUp = true
    expect(samplesOf(parseExposition(await metrics.render()), 'ohp_certificate_status').length).toBe(12)
  })

  test('ohp_event_loop_lag_seconds: a loop blocked for 150 ms shows as a sample above 0.1 s', async () => {
    const metrics = metricsWith({ eventLoopSampleIntervalMs: 10 })
    const countAbove = async (bound: string) => {
      const parsed = parseExposition(await metrics.render())
      return sumOf(parsed, 'ohp_event_loop_lag_seconds_count') - sumOf(parsed, 'ohp_event_loop_lag_seconds_bucket', { le: bound })
    }
    expect(await countAbove('0.1')).toBe(0)
    const blockedUntil = performance.now() + 150
    while (performance.now() < blockedUntil) {
      // busy: nothing else runs, the sampler's timer included
    }
    // The sampler's timer is due at once now; wait for it (a real timer, so a real wait, bounded).
    const deadline = performance.now() + 2_000
    while ((await countAbove('0.1')) === 0 && performance.now() < deadline) await Bun.sleep(5)
    expect(await countAbove('0.1')).toBeGreaterThanOrEqual(1)
    // Measured, not invented: no stall of seconds was seen.
    expect(await countAbove('2.5')).toBe(0)
  })
})
