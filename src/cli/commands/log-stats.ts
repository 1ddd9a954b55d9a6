/**
 * @module `oauth-https-proxy log stats` (GET /logs/stats, scope user): the numbers of a window as
 * key: value lines, then the top hosts, paths and clients and the busy buckets as tables; --json is the
 * API's answer. Its filters are those that name no caller (no --ip, --user or --query).
 */
import { API_ARGS, CliError, createApiClient, formatRecord, formatTable, isColorAllowed, printJson, type Column } from '../client/index.ts'
import { choices, defineApiCommand, given, optionalInteger } from './flags.ts'
import { AGGREGATE_FILTER_ARGS, filterQuery, secondsTime, WINDOW_ARGS } from './log-records.ts'

const CLI = 'oauth-https-proxy log stats'

interface Top {
  readonly value: string
  readonly requests: number
}

interface Bucket {
  readonly start: string
  readonly requests: number
  readonly errors: number
  readonly p50_ms: number | null
  readonly p99_ms: number | null
}

interface Stats {
  readonly from: string
  readonly to: string
  readonly requests: number
  readonly errors: number
  readonly error_rate: number
  readonly success_rate: number
  readonly status: Record<string, number>
  readonly status_classes: Record<string, number>
  readonly outcomes: Record<string, number>
  readonly latency_ms: { p50: number; p90: number; p99: number; max: number; mean: number } | null
  readonly bytes_in: number
  readonly bytes_out: number
  readonly unique_visitors: number
  readonly top_hosts: Top[]
  readonly top_paths: Top[]
  readonly top_clients: Top[]
  readonly requests_per_hour: number
  readonly requests_per_minute: number
  readonly bucket: string
  readonly buckets: Bucket[]
  readonly scanned: number
  readonly complete: boolean
}

const percent = (rate: unknown) => (typeof rate === 'number' ? `${(rate * 100).toFixed(1)}%` : '-')
/** {"200": 90, "404": 3} → "200: 90, 404: 3", most first. */
const counts = (map: unknown) => {
  const entries = Object.entries(typeof map === 'object' && map !== null ? (map as Record<string, number>) : {}).sort((a, b) => b[1] - a[1])
  return entries.length === 0 ? '-' : entries.map(([key, count]) => `${key}: ${count}`).join(', ')
}
/** Whole numbers as they are; others to 0.1, or 0.01 below 1 (0.04 requests a minute is not 0.0). */
const round = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) < 1 ? 2 : 1))

/** The summary people read; --json has every number as the API gives it. */
function summaryOf(stats: Stats): Record<string, unknown> {
  const latency = stats.latency_ms
  return {
    window: `${secondsTime(stats.from)} to ${secondsTime(stats.to)} UTC`,
    requests: stats.requests,
    errors: `${stats.errors} (${percent(stats.error_rate)})`,
    success: percent(stats.success_rate),
    'status classes': counts(stats.status_classes),
    status: counts(stats.status),
    outcomes: counts(stats.outcomes),
    'latency ms': latency ? `p50 ${round(latency.p50)}, p90 ${round(latency.p90)}, p99 ${round(latency.p99)}, max ${round(latency.max)}, mean ${round(latency.mean)}` : '-',
    'unique visitors': stats.unique_visitors,
    'bytes in': stats.bytes_in,
    'bytes out': stats.bytes_out,
    'per hour': round(stats.requests_per_hour),
    'per minute': round(stats.requests_per_minute),
    ...(stats.complete ? {} : { complete: `no: the newest ${stats.scanned} records (the scan budget); narrow --from/--to` }),
  }
}

const TOP_COLUMNS = (header: string): Column<Top>[] => [
  { key: 'value', header },
  { key: 'requests', header: 'requests' },
]

const BUCKET_COLUMNS: Column<Bucket>[] = [
  { key: 'start', header: 'start', format: secondsTime },
  { key: 'requests', header: 'requests' },
  { key: 'errors', header: 'errors' },
  { key: 'p50_ms', header: 'p50 ms', format: (value) => (typeof value === 'number' ? round(value) : '-') },
  { key: 'p99_ms', header: 'p99 ms', format: (value) => (typeof value === 'number' ? round(value) : '-') },
]

function printStats(stats: Stats): void {
  const isTTY = process.stdout.isTTY === true
  const layout = { width: isTTY ? process.stdout.columns : undefined, color: isColorAllowed(isTTY, process.env) }
  const parts = [formatRecord(summaryOf(stats), layout)]
  const tops: [string, Top[]][] = [
    ['top host', stats.top_hosts],
    ['top path', stats.top_paths],
    ['top client', stats.top_clients],
  ]
  for (const [header, rows] of tops) if (Array.isArray(rows) && rows.length > 0) parts.push(formatTable(rows, TOP_COLUMNS(header), layout))
  // Only the buckets that saw requests: a day of minutes is mostly empty rows.
  const busy = Array.isArray(stats.buckets) ? stats.buckets.filter((bucket) => bucket.requests > 0) : []
  if (busy.length > 0) parts.push(formatTable(busy, [{ ...BUCKET_COLUMNS[0]!, header: `${stats.bucket} (UTC)` }, ...BUCKET_COLUMNS.slice(1)], layout))
  process.stdout.write(parts.join('\n'))
}

export const statsCommand = defineApiCommand({
  meta: {
    name: 'stats',
    description:
      `Traffic statistics: requests, statuses, latency, error rate, unique visitors, top hosts, paths and clients (scope user)\n` +
      `Example: ${CLI}\n` +
      `Example: ${CLI} --host app.example.com --from 1h --bucket minute\n` +
      `Example: ${CLI} --hours 168 --top 20 --json`,
  },
  args: {
    ...AGGREGATE_FILTER_ARGS,
    ...WINDOW_ARGS,
    bucket: { type: 'enum', options: choices('hour', 'minute'), valueHint: 'hour|minute', description: 'the size of the buckets (default hour)' },
    top: { type: 'string', valueHint: 'n', description: 'how many top hosts, paths and clients (default 10, at most 100)' },
    ...API_ARGS,
  },
  async run({ args }) {
    const query = { ...filterQuery(args), ...given({ bucket: args.bucket, top: optionalInteger('top', args.top) ?? undefined }) }
    const stats = await createApiClient(args).get<Stats>('/logs/stats', query)
    if (args.json) return printJson(stats)
    if (typeof stats !== 'object' || stats === null || typeof stats.requests !== 'number') throw new CliError('unexpected answer from the server: expected statistics')
    if (args.quiet) return void process.stdout.write(`${stats.requests}\n`)
    printStats(stats)
  },
})
