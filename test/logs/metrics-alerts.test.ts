/**
 * examples/prometheus-alerts.yml stays true to what /metrics exports: the file is a Prometheus rule
 * file, every expression parses with Prometheus's own PromQL grammar (@prometheus-io/lezer-promql),
 * every metric an expression selects is one we export (histogram series included), every label it
 * matches or groups by is one that metric carries, and every value it matches exactly is one the label
 * takes. The alerts are there: certificate expiring or failed, backend error rate, 5xx spike,
 * dropped log records.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { parser } from '@prometheus-io/lezer-promql'
import { parse as parseYaml } from 'yaml'
import { createMetrics, type RequestRecord } from '../../src/logs/index.ts'
import { parseExposition } from './metrics-text.ts'

type SyntaxNode = ReturnType<typeof parser.parse>['topNode']

const RULES_PATH = join(import.meta.dir, '../../examples/prometheus-alerts.yml')
/** Labels Prometheus adds to every scraped series (the target's). */
const TARGET_LABELS = ['instance', 'job']

interface Rule {
  readonly alert: string
  readonly expr: string
  readonly for?: string
  readonly labels: Record<string, string>
  readonly annotations: Record<string, string>
}

/** Metric name → label name → the values seen (a label whose values are open, like host, matches anything). */
let exported: Map<string, Map<string, Set<string>>>
let rules: Rule[]

/** Labels whose values are a closed set: an exact matcher on them must name a member. */
const CLOSED_LABELS = new Set(['status_class', 'outcome', 'kind', 'status', 'result'])

beforeAll(async () => {
  // Every family with samples: every source present, every outcome, status class and backend error kind seen.
  const metrics = createMetrics({
    eventLoopSampleIntervalMs: 0,
    sources: {
      activeConnections: () => 1,
      certificates: async () => ['pending', 'validating', 'issued', 'failed'].map((status) => ({ name: `c-${status}`, status, notAfterMs: Date.UTC(2027, 0, 1) })),
      tokenVerifications: () => ({ cacheHits: 1, verified: 1, refused: { expired: 1 } }),
      droppedLogRecords: () => 0,
    },
  })
  const base: RequestRecord = { time: 0, request_id: 'r', node: 'n', scheme: 'http', host: 'a.test', proxy: 'a.test', method: 'GET', path: '/', status: 200, duration_ms: 1, bytes_in: 0, bytes_out: 0, client_ip: '192.0.2.1', user_agent: null, user: null, client_id: null, route_id: null, backend: null, outcome: 'forwarded', backend_error: null }
  for (const status of [0, 101, 200, 301, 404, 502]) for (const outcome of ['forwarded', 'handed_over', 'answered', 'auth', 'backend_error'] as const) metrics.observe({ ...base, status, outcome })
  for (const kind of ['refused', 'timeout', 'reset', 'protocol', 'unreachable'] as const) metrics.observe({ ...base, status: 502, outcome: 'backend_error', backend_error: kind })
  const exposition = parseExposition(await metrics.render())
  metrics.close()
  exported = new Map()
  for (const sample of exposition.samples) {
    const labels = exported.get(sample.name) ?? new Map<string, Set<string>>()
    exported.set(sample.name, labels)
    for (const [name, value] of Object.entries(sample.labels)) labels.set(name, (labels.get(name) ?? new Set()).add(value))
  }
  // The lag histogram is sampled by a timer, off here: its series are the histogram's three.
  for (const suffix of ['_bucket', '_sum', '_count']) exported.set(`ohp_event_loop_lag_seconds${suffix}`, new Map(suffix === '_bucket' ? [['le', new Set<string>()]] : []))

  const document = parseYaml(await Bun.file(RULES_PATH).text()) as { groups: { name: string; rules: Rule[] }[] }
  rules = document.groups.flatMap((group) => group.rules)
})

interface Selector {
  readonly metric: string | null
  readonly matchers: readonly { readonly label: string; readonly op: string; readonly value: string }[]
}

interface ParsedExpression {
  readonly errors: number
  readonly selectors: readonly Selector[]
  readonly groupingLabels: readonly string[]
}

/** The selectors, their matchers, and the by/on/ignoring labels of a PromQL expression, from Prometheus's grammar. */
function parsePromQl(expr: string): ParsedExpression {
  const text = (node: SyntaxNode) => expr.slice(node.from, node.to)
  const unquote = (literal: string) => JSON.parse(literal.startsWith("'") ? `"${literal.slice(1, -1).replaceAll('"', '\\"')}"` : literal) as string
  let errors = 0
  const selectors: Selector[] = []
  const groupingLabels: string[] = []
  parser.parse(expr).iterate({
    enter(ref) {
      if (ref.type.isError) errors++
      const node = ref.node
      if (ref.name === 'VectorSelector') {
        const identifier = node.getChild('Identifier')
        const matchers = (node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []).map((matcher) => ({
          label: text(matcher.getChild('LabelName')!),
          op: text(matcher.getChild('MatchOp')!),
          value: unquote(text(matcher.getChild('StringLiteral')!)),
        }))
        // Quoted names ({"metric"}, {"label"="…"}, Prometheus 3) would hide a name from this check: not allowed here.
        const quoted = node.getChild('LabelMatchers')
        if (quoted && (quoted.getChildren('QuotedLabelMatcher').length > 0 || quoted.getChildren('QuotedLabelName').length > 0)) errors++
        selectors.push({ metric: identifier ? text(identifier) : null, matchers })
      }
      if (ref.name === 'GroupingLabels') for (const label of node.getChildren('LabelName')) groupingLabels.push(text(label))
    },
  })
  return { errors, selectors, groupingLabels }
}

/** Whether an exact matcher's value can occur; regular expressions are checked alternative by alternative when they are plain lists. */
function matchableValues(matcher: Selector['matchers'][number]): string[] {
  if (matcher.op === '=') return [matcher.value]
  if (matcher.op === '=~' && /^[\w|]+$/.test(matcher.value)) return matcher.value.split('|')
  return []
}

describe('the checker itself', () => {
  test('finds metric names, matchers and grouping labels, and counts syntax errors', () => {
    const parsed = parsePromQl('sum by (host) (rate(ohp_nope_total{kind=~"a|b", x!="y"}[5m])) > on (host) 1')
    expect(parsed.errors).toBe(0)
    expect(parsed.selectors).toEqual([{ metric: 'ohp_nope_total', matchers: [{ label: 'kind', op: '=~', value: 'a|b' }, { label: 'x', op: '!=', value: 'y' }] }])
    expect(parsed.groupingLabels).toEqual(['host', 'host'])
    expect(parsePromQl('rate(ohp_requests_total[5m]').errors).toBeGreaterThan(0)
    expect(parsePromQl('{"ohp_requests_total"}').errors).toBeGreaterThan(0)
    expect(parsePromQl('ohp_requests_total{"kind"="refused"}').errors).toBeGreaterThan(0)
    expect(parsePromQl('{__name__="ohp_requests_total"}').selectors[0]?.metric).toBeNull()
  })
})

describe('examples/prometheus-alerts.yml', () => {
  test('is a Prometheus rule file: groups of rules, each with an alert name, an expression, a severity and a summary', () => {
    expect(rules.length).toBeGreaterThanOrEqual(5)
    for (const rule of rules) {
      expect(Object.keys(rule).every((key) => ['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'].includes(key))).toBe(true)
      expect(rule.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/)
      expect(typeof rule.expr).toBe('string')
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smhd]$/)
      expect(['warning', 'critical']).toContain(rule.labels.severity!)
      expect(rule.annotations.summary?.length).toBeGreaterThan(10)
    }
    expect(new Set(rules.map((rule) => rule.alert)).size).toBe(rules.length)
  })

  test('every expression parses, selects only metrics we export, and uses only their labels and label values', () => {
    const problems: string[] = []
    for (const rule of rules) {
      const parsed = parsePromQl(rule.expr)
      if (parsed.errors > 0) problems.push(`${rule.alert}: ${parsed.errors} syntax error(s)`)
      if (parsed.selectors.length === 0) problems.push(`${rule.alert}: selects no metric`)
      const labelsInExpression = new Set<string>(TARGET_LABELS)
      for (const selector of parsed.selectors) {
        const labels = selector.metric === null ? undefined : exported.get(selector.metric)
        if (!labels) {
          problems.push(`${rule.alert}: ${selector.metric ?? 'a selector without a metric name'} is not exported`)
          continue
        }
        for (const label of labels.keys()) labelsInExpression.add(label)
        for (const matcher of selector.matchers) {
          const values = labels.get(matcher.label)
          if (!values) {
            problems.push(`${rule.alert}: ${selector.metric} has no label ${matcher.label}`)
            continue
          }
          if (CLOSED_LABELS.has(matcher.label)) for (const value of matchableValues(matcher)) if (!values.has(value)) problems.push(`${rule.alert}: ${selector.metric}{${matcher.label}="${value}"} never occurs`)
        }
      }
      for (const label of parsed.groupingLabels) if (!labelsInExpression.has(label)) problems.push(`${rule.alert}: groups by ${label}, which none of its metrics carries`)
    }
    expect(problems).toEqual([])
  })

  test("covers the issue's alerts: certificate expiring and failed, backend error rate, 5xx spike, dropped log records", () => {
    const uses = (metric: string, predicate: (expr: string) => boolean = () => true) =>
      rules.some((rule) => parsePromQl(rule.expr).selectors.some((selector) => selector.metric === metric) && predicate(rule.expr))
    expect(uses('ohp_certificate_expiry_timestamp_seconds', (expr) => expr.includes('14 * 86400'))).toBe(true)
    expect(uses('ohp_certificate_status', (expr) => expr.includes('status="failed"'))).toBe(true)
    expect(uses('ohp_backend_errors_total', (expr) => expr.includes('ohp_requests_total'))).toBe(true)
    expect(uses('ohp_requests_total', (expr) => expr.includes('status_class="5xx"'))).toBe(true)
    expect(uses('ohp_log_records_dropped_total')).toBe(true)
  })
})
