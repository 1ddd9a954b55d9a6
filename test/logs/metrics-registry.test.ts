/**
 * The metrics registry and the Prometheus text format 0.0.4 renderer: exact output for a known
 * registry, escaping that a real parser reads back, the format's rules on names and labels, and
 * histograms that Prometheus would ingest (cumulative buckets, le as an upper bound, +Inf = _count).
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
import { describe, expect, test } from 'bun:test'
import { createMetricsRegistry } from '../../src/logs/metrics-registry.ts'
import { formatSampleValue } from '../../src/logs/metrics-exposition.ts'
import { parseExposition, samplesOf } from './metrics-text.ts'

describe('the text format', () => {
  test('a registry renders HELP, TYPE and samples exactly, every line ending in a line feed', async () => {
    const registry = createMetricsRegistry()
    const requests = registry.counter({ name: 'demo_requests_total', help: 'Requests.', labelNames: ['host', 'code'] })
    requests.child('a.example', '2xx').inc()
    requests.child('a.example', '2xx').inc(2)
    requests.child('b.example', '5xx').inc()
    const latency = registry.histogram({ name: 'demo_latency_seconds', help: 'Latency.', labelNames: ['host'], buckets: [0.1, 1] })
    latency.child('a.example').observe(0.1)
    latency.child('a.example').observe(0.5)
    latency.child('a.example').observe(3)
    registry.collected({ name: 'demo_up', help: 'Up.', type: 'gauge', read: () => [{ labelValues: [], value: 1 }] })
    registry.collected({ name: 'demo_empty', help: 'Nothing yet.', type: 'gauge', read: () => [] })
    expect(await registry.render()).toBe(
      [
        '# HELP demo_requests_total Requests.',
        '# TYPE demo_requests_total counter',
        'demo_requests_total{host="a.example",code="2xx"} 3',
        'demo_requests_total{host="b.example",code="5xx"} 1',
        '# HELP demo_latency_seconds Latency.',
        '# TYPE demo_latency_seconds histogram',
        'demo_latency_seconds_bucket{host="a.example",le="0.1"} 1',
        'demo_latency_seconds_bucket{host="a.example",le="1"} 2',
        'demo_latency_seconds_bucket{host="a.example",le="+Inf"} 3',
        'demo_latency_seconds_sum{host="a.example"} 3.6',
        'demo_latency_seconds_count{host="a.example"} 3',
        '# HELP demo_up Up.',
        '# TYPE demo_up gauge',
        'demo_up 1',
        '# HELP demo_empty Nothing yet.',
        '# TYPE demo_empty gauge',
        '',
      ].join('\n'),
    )
  })

  test('label values escape backslash, double quote and line feed; HELP escapes backslash and line feed; a parser reads back the originals', async () => {
    const registry = createMetricsRegistry()
    const hostile = ['back\\slash', 'quote"d', 'line\nfeed', 'all \\" \n\\n', 'trailing\\', 'ünïcödé ✓', '{}=,', '']
    const counter = registry.counter({ name: 'demo_total', help: 'A "help" with \\ and\na line feed.', labelNames: ['value'] })
    for (const value of hostile) counter.child(value).inc()
    const text = await registry.render()
    expect(text).toContain('# HELP demo_total A "help" with \\\\ and\\na line feed.\n')
    expect(text).toContain('demo_total{value="quote\\"d"} 1\n')
    expect(text).toContain('demo_total{value="line\\nfeed"} 1\n')
    expect(text).toContain('demo_total{value="trailing\\\\"} 1\n')
    // One line per sample: no raw line feed survives inside a value.
    expect(text.split('\n').filter((line) => line.startsWith('demo_total{')).length).toBe(hostile.length)
    const parsed = parseExposition(text)
    expect(parsed.families.get('demo_total')).toEqual({ type: 'counter', help: 'A "help" with \\ and\na line feed.' })
    expect(samplesOf(parsed, 'demo_total').map((sample) => sample.labels.value ?? '')).toEqual(hostile)
  })

  test("values use Go's spellings for the special floats and JavaScript's exact decimal forms otherwise", () => {
    expect([NaN, Infinity, -Infinity, 0, 1.5, 1e-7, 1e21, 1_700_000_000.25].map(formatSampleValue)).toEqual(['NaN', '+Inf', '-Inf', '0', '1.5', '1e-7', '1e+21', '1700000000.25'])
  })
})

describe('the registry', () => {
  test('a child is created once: the same label values give the same object', () => {
    const registry = createMetricsRegistry()
    const counter = registry.counter({ name: 'demo_total', help: 'x', labelNames: ['a'] })
    expect(counter.child('x')).toBe(counter.child('x'))
    expect(counter.child('x')).not.toBe(counter.child('y'))
  })

  test('names and labels follow the format: valid characters, no duplicates, le and quantile reserved, __ reserved for Prometheus', () => {
    const registry = createMetricsRegistry()
    registry.counter({ name: 'demo_total', help: 'x' })
    expect(() => registry.counter({ name: 'demo_total', help: 'x' })).toThrow('registered twice')
    for (const name of ['1st_total', 'has-dash', 'has space', '', 'dotted.name']) expect(() => registry.counter({ name, help: 'x' })).toThrow('metric name')
    for (const label of ['le', 'quantile']) expect(() => registry.counter({ name: `demo_${label}_total`, help: 'x', labelNames: [label] })).toThrow('reserved')
    for (const label of ['__name__', '__x', '0a', 'a-b']) expect(() => registry.counter({ name: 'demo_bad_total', help: 'x', labelNames: [label] })).toThrow('not valid')
  })

  test('a child needs one value per label; a counter never goes down', () => {
    const registry = createMetricsRegistry()
    const counter = registry.counter({ name: 'demo_total', help: 'x', labelNames: ['a', 'b'] })
    expect(() => counter.child('only-one')).toThrow('expected 2 label values, got 1')
    expect(() => counter.child('a', 'b').inc(-1)).toThrow('cannot go down')
    expect(() => counter.child('a', 'b').inc(NaN)).toThrow('cannot go down')
  })

  test('histogram buckets are finite and strictly increasing; a value equal to a bound counts in that bucket (le = less or equal)', async () => {
    const registry = createMetricsRegistry()
    for (const buckets of [[], [1, 1], [2, 1], [1, Infinity], [NaN]]) expect(() => registry.histogram({ name: `demo_h${buckets.length}_${String(buckets[0])}`.replace(/\W/g, '_'), help: 'x', buckets })).toThrow('strictly increasing')
    const histogram = registry.histogram({ name: 'demo_seconds', help: 'x', buckets: [1, 2, 5] })
    for (const value of [0, 1, 1.0001, 2, 5, 5.5, 100]) histogram.child().observe(value)
    const parsed = parseExposition(await registry.render())
    expect(samplesOf(parsed, 'demo_seconds_bucket').map((sample) => [sample.labels.le, sample.value])).toEqual([
      ['1', 2],
      ['2', 4],
      ['5', 5],
      ['+Inf', 7],
    ])
    expect(samplesOf(parsed, 'demo_seconds_count')[0]?.value).toBe(7)
    expect(samplesOf(parsed, 'demo_seconds_sum')[0]?.value).toBe(114.5001)
  })

  test('a collected family whose read fails shows no samples in that scrape, is reported, and the others still render', async () => {
    const failures: string[] = []
    const registry = createMetricsRegistry((name, error) => failures.push(`${name}: ${(error as Error).message}`))
    let storeUp = false
    registry.collected({
      name: 'demo_from_store',
      help: 'x',
      type: 'gauge',
      read: async () => {
        if (!storeUp) throw new Error('store unavailable')
        return [{ labelValues: [], value: 7 }]
      },
    })
    registry.collected({ name: 'demo_bad_arity', help: 'x', type: 'gauge', labelNames: ['a'], read: () => [{ labelValues: [], value: 1 }] })
    registry.collected({ name: 'demo_fine', help: 'x', type: 'gauge', read: () => [{ labelValues: [], value: 2 }] })
    const down = parseExposition(await registry.render())
    expect(samplesOf(down, 'demo_from_store')).toEqual([])
    expect(samplesOf(down, 'demo_fine')[0]?.value).toBe(2)
    expect(failures).toEqual(['demo_from_store: store unavailable', 'demo_bad_arity: expected 1 label values, got 0'])
    storeUp = true
    expect(samplesOf(parseExposition(await registry.render()), 'demo_from_store')[0]?.value).toBe(7)
  })
})

describe('the parser the tests read expositions with', () => {
  test('refuses what Prometheus would refuse: broken label syntax, a missing value, a duplicate series, a family without TYPE, a histogram that is not cumulative or whose +Inf bucket is not its count', () => {
    const family = '# HELP a_total x\n# TYPE a_total counter\n'
    const histogram = (lines: string[]) => `# HELP h_seconds x\n# TYPE h_seconds histogram\n${lines.join('\n')}\n`
    const broken = [
      `${family}a_total{b=c} 1\n`,
      `${family}a_total{b="c} 1\n`,
      `${family}a_total{b="c"}\n`,
      `${family}a_total{b="c"} 1\na_total{b="c"} 2\n`,
      `${family}b_total 1\n`,
      histogram(['h_seconds_bucket{le="1"} 2', 'h_seconds_bucket{le="+Inf"} 1', 'h_seconds_sum 1', 'h_seconds_count 1']),
      histogram(['h_seconds_bucket{le="1"} 1', 'h_seconds_bucket{le="+Inf"} 2', 'h_seconds_sum 1', 'h_seconds_count 3']),
      histogram(['h_seconds_bucket{le="1"} 1', 'h_seconds_sum 1', 'h_seconds_count 1']),
    ]
    for (const text of broken) expect(() => parseExposition(text)).toThrow()
    expect(parseExposition(`${family}a_total{b="c"} 1\n`).samples).toEqual([{ name: 'a_total', labels: { b: 'c' }, value: 1 }])
  })
})
