/**
 * @module /logs/*: the request log (original §3.4, working this time): search with filters and a
 * stable cursor, per address, host, proxy, user and client, errors, one request by its id on every
 * node, traffic statistics and a live tail. Everything needs `admin` (records hold addresses and user
 * names) except /logs/stats (`user`), whose numbers and filters name no caller. Every query reads at
 * most the log's scan budget of records from a bounded time window.
 */
import * as v from 'valibot'
import type { Clock } from '../lib/index.ts'
import { decodeCursor, encodeCursor, MAX_BUCKETS, BUCKET_MS, viewOf, type Condition, type RequestLog, type StoredRecord } from '../logs/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { ApiError } from './errors.ts'
import { followResponse } from './logs-follow.ts'
import { AddressSchema, conditionsOf, FollowQuerySchema, LookupQuerySchema, SearchQuerySchema, StatsQuerySchema, windowOf } from './logs-query.ts'
import { RecordPageSchema, RecordViewSchema, StatsSchema } from './logs-schemas.ts'

const TAG = 'logs'
const DAY_MS = 86_400_000

export interface LogRoutesDeps {
  readonly clock: Clock
  /** LOG_RETENTION: how far back /logs/request/{id} looks by default. */
  readonly retentionMs: number
}

const param = (name: string, schema: v.GenericSchema<string, string>) => v.object({ [name]: schema })
const IpParams = param('ip', AddressSchema)
const HostParams = param('hostname', v.pipe(v.string(), v.regex(/^[A-Za-z0-9.*:[\]_-]{1,253}$/, 'expected a host name or address'), v.toLowerCase()))
const UserParams = param('username', v.pipe(v.string(), v.minLength(1), v.maxLength(100, 'at most 100 characters')))
const ClientParams = param('client_id', v.pipe(v.string(), v.minLength(1), v.maxLength(256, 'at most 256 characters')))
const RequestIdParams = param('request_id', v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,200}$/, 'expected a request id (1-200 visible ASCII characters)')))

type SearchInput = v.InferOutput<typeof SearchQuerySchema>

export function logRoutes(log: RequestLog, deps: LogRoutesDeps): RouteSpec[] {
  const search = async (query: SearchInput, extra: Condition[]) => {
    const window = windowOf(query, deps.clock.nowMs(), DAY_MS)
    const cursor = query.cursor === undefined ? null : decodeCursor(query.cursor)
    if (query.cursor !== undefined && cursor === null) throw new ApiError(400, 'invalid_request', 'query parameter cursor: not a cursor from this API')
    const page = await log.search({ conditions: [...extra, ...conditionsOf(query)], ...window, limit: query.limit, cursor })
    return {
      records: page.records.map(view),
      count: page.records.length,
      next_cursor: page.next ? encodeCursor(page.next) : null,
      scanned: page.scanned,
      scan_budget_exhausted: page.isBudgetSpent,
      from: new Date(window.fromMs).toISOString(),
      to: new Date(window.toMs).toISOString(),
    }
  }

  /** A listing: the search filters plus one fixed condition from the path. */
  const listing = (path: string, summary: string, params: v.ObjectSchema<v.ObjectEntries, undefined> | undefined, fixed: (params: Record<string, string>) => Condition[]) =>
    defineRoute({
      method: 'get',
      path,
      scope: 'admin',
      tag: TAG,
      summary,
      params,
      query: SearchQuerySchema,
      responses: { 200: { description: 'one page of records, newest first', schema: RecordPageSchema } },
      handler: async (c, input) => c.json(await search(input.query as SearchInput, fixed((input.params ?? {}) as Record<string, string>))),
    })

  return [
    listing(
      '/logs/search',
      'Search request records, newest first: filters host, proxy, status (404 or 5xx), method, path (prefix), ip (address or CIDR), user, client_id, route_id, outcome, backend_error, node; q with field:value terms and words; from/to (ISO 8601 or 15m, 2h, 7d ago; default the last 24 h) or hours; limit (≤1000) and cursor',
      undefined,
      () => [],
    ),
    listing('/logs/ip/:ip', 'Request records from one client address, or a CIDR range (URL-encoded: 10.0.0.0%2F8), with the search filters', IpParams, (p) => [{ kind: 'ip', value: p.ip! }]),
    listing('/logs/host/:hostname', 'Request records for one requested host, with the search filters', HostParams, (p) => [{ kind: 'equals', field: 'host', value: p.hostname! }]),
    listing('/logs/proxy/:hostname', 'Request records served by one proxy (a wildcard proxy by its own name), with the search filters', HostParams, (p) => [{ kind: 'equals', field: 'proxy', value: p.hostname! }]),
    listing('/logs/user/:username', 'Request records of one authenticated user, with the search filters', UserParams, (p) => [{ kind: 'equals', field: 'user', value: p.username! }]),
    listing('/logs/client/:client_id', 'Request records made with one OAuth client\'s tokens, with the search filters', ClientParams, (p) => [{ kind: 'equals', field: 'client_id', value: p.client_id! }]),
    listing('/logs/errors', 'Server errors: 5xx answers and backend failures (refused, timeout, reset, …), with the search filters', undefined, () => [{ kind: 'errors' }]),
    defineRoute({
      method: 'get',
      path: '/logs/request/:request_id',
      scope: 'admin',
      tag: TAG,
      summary: 'The record of one request by its X-Request-Id, whichever node served it (default window: the whole retention)',
      params: RequestIdParams,
      query: LookupQuerySchema,
      responses: {
        200: { description: 'the records with this id, newest first (a client may reuse its own ids)', schema: v.object({ request_id: v.string(), records: v.array(RecordViewSchema) }) },
        404: { description: 'no record with this id in the window' },
      },
      async handler(c, { params, query }) {
        const requestId = (params as { request_id: string }).request_id
        const found = await log.byId(requestId, windowOf(query as v.InferOutput<typeof LookupQuerySchema>, deps.clock.nowMs(), deps.retentionMs))
        if (found.records.length === 0) {
          const where = found.complete ? 'in the window' : `in the newest ${log.scanBudget} records of the window (narrow it with from and to)`
          throw new ApiError(404, 'not_found', `no request ${requestId} ${where}`)
        }
        return c.json({ request_id: requestId, records: found.records.map(view) })
      },
    }),
    defineRoute({
      method: 'get',
      path: '/logs/stats',
      scope: 'user',
      tag: TAG,
      summary:
        'Traffic statistics from the records: requests, status counts, p50/p90/p99 latency, error rate, unique visitors (HyperLogLog), top hosts, paths and OAuth clients, per-hour or per-minute buckets; filters that name no caller; from/to or hours (default the last 24 h)',
      query: StatsQuerySchema,
      responses: { 200: { description: 'the statistics of the window', schema: StatsSchema } },
      async handler(c, { query }) {
        const input = query as v.InferOutput<typeof StatsQuerySchema>
        const window = windowOf(input, deps.clock.nowMs(), DAY_MS)
        const bucketMs = BUCKET_MS[input.bucket]
        if (Math.floor(window.toMs / bucketMs) - Math.floor(window.fromMs / bucketMs) + 1 > MAX_BUCKETS) {
          throw new ApiError(400, 'invalid_request', `query parameter bucket: more than ${MAX_BUCKETS} ${input.bucket} buckets; use hour or a shorter window`)
        }
        const stats = await log.stats({ conditions: conditionsOf(input), ...window, bucket: input.bucket, top: input.top })
        return c.json({ from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString(), ...stats })
      },
    }),
    defineRoute({
      method: 'get',
      path: '/logs/follow',
      scope: 'admin',
      tag: TAG,
      summary: 'Live tail as Server-Sent Events (text/event-stream): one `request` event per new record on any node, with the search filters; a record shows within about a second',
      query: FollowQuerySchema,
      responses: { 200: { description: 'an event stream of request records' } },
      handler: (c, { query }) => followResponse(c, log, conditionsOf(query as v.InferOutput<typeof FollowQuerySchema>)),
    }),
  ]
}

function view(stored: StoredRecord) {
  return { id: stored.id, ...viewOf(stored.record) }
}
