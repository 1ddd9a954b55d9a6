/**
 * @module What the request-log commands share: the filter, window and paging flags (named after the
 * API's query parameters: `--client-id` is `client_id`; `q` is `--query`, since `-q` is --quiet), the
 * query they make, and how a record is shown — a table row, or one line of the live tail.
 */
import type { Column, Query } from '../client/index.ts'
import { given, optionalInteger } from './flags.ts'

/** A record as /logs/* answers it (README "Request logs", record fields). */
export interface RecordRow {
  readonly id: string
  readonly timestamp: string
  readonly request_id: string
  readonly host: string
  readonly method: string
  readonly path: string
  readonly status: number
  readonly duration_ms: number
  readonly client_ip: string
  readonly user: string | null
  readonly outcome: string
  readonly backend_error: string | null
}

/** Filters that name no caller: all /logs/stats takes. */
export const AGGREGATE_FILTER_ARGS = {
  host: { type: 'string', valueHint: 'host', description: 'the requested host' },
  proxy: { type: 'string', valueHint: 'hostname', description: 'the proxy that served it (a wildcard proxy by its own name)' },
  status: { type: 'string', valueHint: '404|5xx', description: 'a status, or a class such as 5xx' },
  method: { type: 'string', valueHint: 'method', description: 'the HTTP method' },
  path: { type: 'string', valueHint: 'prefix', description: 'the path (with its query) starts with this' },
  'client-id': { type: 'string', valueHint: 'client-id', description: 'made with this OAuth client\'s token' },
  'route-id': { type: 'string', valueHint: 'route-id', description: 'the route that matched' },
  outcome: { type: 'string', valueHint: 'outcome', description: 'forwarded, handed_over, answered, auth or backend_error' },
  'backend-error': { type: 'string', valueHint: 'kind', description: 'the backend failed so: refused, timeout, reset, protocol or unreachable' },
  node: { type: 'string', valueHint: 'node-id', description: 'served by this node (NODE_ID)' },
} as const

/** Every filter of /logs/search and /logs/follow. */
export const RECORD_FILTER_ARGS = {
  ...AGGREGATE_FILTER_ARGS,
  ip: { type: 'string', valueHint: 'address|cidr', description: 'the client address, or a range such as 10.0.0.0/8' },
  user: { type: 'string', valueHint: 'login', description: 'the authenticated user' },
  query: { type: 'string', valueHint: 'terms', description: 'the API\'s q: field:value terms and words, all of which must hold (status:5xx path:/api "timeout")' },
} as const

export const WINDOW_ARGS = {
  from: { type: 'string', valueHint: 'time', description: 'start: ISO 8601, a date, or a time ago such as 15m, 2h, 7d (default: 24 h ago)' },
  to: { type: 'string', valueHint: 'time', description: 'end, in the same forms (default: now)' },
  hours: { type: 'string', valueHint: 'hours', description: 'the last N hours (instead of --from)' },
} as const

/** Records --all reads at most; past it, the hint gives the cursor to go on from. */
export const ALL_RECORDS_CAP = 10_000

export const PAGE_ARGS = {
  limit: { type: 'string', valueHint: 'n', description: 'records per page (default 100, at most 1000; 1000 with --all)' },
  cursor: { type: 'string', valueHint: 'cursor', description: 'continue from this next_cursor of an earlier page' },
  all: { type: 'boolean', description: `follow the cursors, up to ${ALL_RECORDS_CAP} records` },
} as const

type FlagValues = Readonly<Record<string, unknown>>
const text = (args: FlagValues, name: string) => (typeof args[name] === 'string' ? (args[name] as string) : undefined)

/** The API's query for the filter and window flags given (a flag left out is a parameter left out). */
export function filterQuery(args: FlagValues): Query {
  return given({
    host: text(args, 'host'),
    proxy: text(args, 'proxy'),
    status: text(args, 'status'),
    method: text(args, 'method'),
    path: text(args, 'path'),
    ip: text(args, 'ip'),
    user: text(args, 'user'),
    client_id: text(args, 'client-id'),
    route_id: text(args, 'route-id'),
    outcome: text(args, 'outcome'),
    backend_error: text(args, 'backend-error'),
    node: text(args, 'node'),
    q: text(args, 'query'),
    from: text(args, 'from'),
    to: text(args, 'to'),
    hours: optionalInteger('hours', text(args, 'hours')) ?? undefined,
  })
}

/** "2026-11-27T12:00:00.125Z" → "2026-11-27 12:00:00.125" (UTC, as the API gives it). */
export function recordTime(value: unknown): string {
  if (typeof value !== 'string') return '-'
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)/.exec(value)
  return match ? `${match[1]} ${match[2]}` : value
}

/** The same to the second, for windows and buckets, where milliseconds are noise. */
export const secondsTime = (value: unknown): string => recordTime(value).replace(/\.\d+$/, '')

/** 4.18 → "4.2ms", 1234.5 → "1235ms". */
export function durationText(value: unknown): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '-'
  return `${value < 100 ? value.toFixed(1) : Math.round(value)}ms`
}

/** The outcome, or the backend's failure when there was one ("refused" says more than "backend_error"). */
const outcomeText = (_: unknown, row: RecordRow) => row.backend_error ?? row.outcome ?? '-'

export const RECORD_COLUMNS: Column<RecordRow>[] = [
  { key: 'timestamp', header: 'time', format: recordTime },
  { key: 'status', header: 'status' },
  { key: 'method', header: 'method' },
  { key: 'host', header: 'host' },
  { key: 'path', header: 'path' },
  { key: 'duration_ms', header: 'duration', format: durationText },
  { key: 'client_ip', header: 'client ip' },
  { key: 'user', header: 'user' },
  { key: 'outcome', header: 'outcome', format: outcomeText },
  { key: 'request_id', header: 'request id' },
]
