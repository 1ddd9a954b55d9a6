/**
 * @module The query parameters of /logs/*: filters (each a record field, plus `q` terms), the time
 * window (from/to as ISO 8601 or `15m`-style times ago, or the original's `hours`), and paging. Every
 * parameter is checked here, so a bad one is a 400 naming it, and an unknown one is refused rather
 * than silently widening the answer.
 */
import * as v from 'valibot'
import { BACKEND_ERROR_KINDS, OUTCOMES, parseAddressFilter, parseQueryTerms, parseTimeBound, statusCondition, TIME_BOUND_HINT, type Condition } from '../logs/index.ts'
import { ApiError } from './errors.ts'
import { queryCount } from './query-flag.ts'

const HOST = /^[A-Za-z0-9.*:[\]_-]{1,253}$/
const nonEmpty = (max: number) => v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(max, `at most ${max} characters`))
const hostLike = v.pipe(v.string(), v.regex(HOST, 'expected a host name or address'), v.toLowerCase())
export const AddressSchema = v.pipe(
  v.string(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const parsed = parseAddressFilter(dataset.value)
    if (parsed === null) {
      addIssue({ message: 'expected an IP address or a CIDR such as 10.0.0.0/8' })
      return NEVER
    }
    return parsed
  }),
)
const status = v.pipe(v.string(), v.regex(/^([1-5]\d\d|[1-5]xx)$/i, 'expected a status such as 404 or a class such as 5xx'))
const queryTerms = v.pipe(
  v.string(),
  v.maxLength(1_000, 'at most 1000 characters'),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const parsed = parseQueryTerms(dataset.value)
    if (!parsed.ok) {
      addIssue({ message: parsed.message })
      return NEVER
    }
    return parsed.conditions
  }),
)
const timeBound = v.pipe(v.string(), v.check((text) => parseTimeBound(text, 0) !== null, TIME_BOUND_HINT))

/** Filters that never reveal who called (no address, user or free text): what /logs/stats, a `user` endpoint, allows. */
export const AGGREGATE_FILTERS = {
  host: v.optional(hostLike),
  proxy: v.optional(hostLike),
  status: v.optional(status),
  method: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z]{1,20}$/, 'expected an HTTP method'), v.toUpperCase())),
  path: v.optional(v.pipe(v.string(), v.startsWith('/', 'expected a path prefix starting with /'), v.maxLength(2_048, 'at most 2048 characters'))),
  client_id: v.optional(nonEmpty(256)),
  route_id: v.optional(nonEmpty(128)),
  outcome: v.optional(v.picklist(OUTCOMES, `expected one of ${OUTCOMES.join(', ')}`)),
  backend_error: v.optional(v.picklist(BACKEND_ERROR_KINDS, `expected one of ${BACKEND_ERROR_KINDS.join(', ')}`)),
  node: v.optional(nonEmpty(64)),
}

export const RECORD_FILTERS = {
  ...AGGREGATE_FILTERS,
  ip: v.optional(AddressSchema),
  user: v.optional(nonEmpty(100)),
  q: v.optional(queryTerms),
}

export const WINDOW = {
  from: v.optional(timeBound),
  to: v.optional(timeBound),
  hours: v.optional(queryCount(1, 8_760)),
}

export const PAGE = {
  limit: v.optional(queryCount(1, 1_000), '100'),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(64, 'not a cursor from this API'))),
}

const UNKNOWN = 'unknown query parameter'
export const SearchQuerySchema = v.strictObject({ ...RECORD_FILTERS, ...WINDOW, ...PAGE }, UNKNOWN)
export const FollowQuerySchema = v.strictObject({ ...RECORD_FILTERS }, UNKNOWN)
export const LookupQuerySchema = v.strictObject({ ...WINDOW }, UNKNOWN)
export const StatsQuerySchema = v.strictObject(
  {
    ...AGGREGATE_FILTERS,
    ...WINDOW,
    bucket: v.optional(v.picklist(['hour', 'minute'], 'expected hour or minute'), 'hour'),
    top: v.optional(queryCount(1, 100), '10'),
  },
  UNKNOWN,
)

type FilterInput = Partial<{ [K in keyof typeof RECORD_FILTERS]: v.InferOutput<(typeof RECORD_FILTERS)[K]> }>

/** The conditions of the filter parameters, in a fixed order. */
export function conditionsOf(query: FilterInput): Condition[] {
  const conditions: Condition[] = []
  const equals = (field: 'host' | 'proxy' | 'method' | 'client_id' | 'route_id' | 'outcome' | 'backend_error' | 'node' | 'user', value: string | undefined) => {
    if (value !== undefined) conditions.push({ kind: 'equals', field, value })
  }
  equals('host', query.host)
  equals('proxy', query.proxy)
  if (query.status !== undefined) conditions.push(statusCondition(query.status)!)
  equals('method', query.method)
  if (query.path !== undefined) conditions.push({ kind: 'path_prefix', prefix: query.path })
  if (query.ip !== undefined) conditions.push({ kind: 'ip', value: query.ip })
  equals('user', query.user)
  equals('client_id', query.client_id)
  equals('route_id', query.route_id)
  equals('outcome', query.outcome)
  equals('backend_error', query.backend_error)
  equals('node', query.node)
  if (query.q) conditions.push(...query.q)
  return conditions
}

export interface Window {
  readonly fromMs: number
  readonly toMs: number
}

/** from/to (or hours) against now; `defaultMs` back from now when neither from nor hours is given. */
export function windowOf(query: { from?: string; to?: string; hours?: number }, nowMs: number, defaultMs: number): Window {
  const toMs = query.to === undefined ? nowMs : parseTimeBound(query.to, nowMs)!
  const fromMs = query.from !== undefined ? parseTimeBound(query.from, nowMs)! : query.hours !== undefined ? nowMs - query.hours * 3_600_000 : toMs - defaultMs
  if (fromMs > toMs) throw new ApiError(400, 'invalid_request', 'query parameter from: must not be later than to')
  return { fromMs, toMs }
}
