/** @module The shapes /logs/* answers with, for the OpenAPI document (the record fields are logs/record.ts's). */
import * as v from 'valibot'
import { BACKEND_ERROR_KINDS, OUTCOMES } from '../logs/index.ts'

const nullableString = v.nullable(v.string())

export const RecordViewSchema = v.object({
  id: v.pipe(v.string(), v.description('the record\'s id in the stream (increasing in write order)')),
  timestamp: v.pipe(v.string(), v.description('time as ISO 8601 UTC')),
  time: v.pipe(v.number(), v.description('when the request head was complete, epoch milliseconds')),
  request_id: v.string(),
  node: v.string(),
  scheme: v.picklist(['http', 'https']),
  host: v.string(),
  proxy: nullableString,
  method: v.string(),
  path: v.pipe(v.string(), v.description('path and query; secret query values (access_token, code, state, …) are ***')),
  status: v.number(),
  duration_ms: v.number(),
  bytes_in: v.number(),
  bytes_out: v.number(),
  client_ip: v.string(),
  user_agent: nullableString,
  user: nullableString,
  client_id: nullableString,
  route_id: nullableString,
  backend: nullableString,
  outcome: v.picklist(OUTCOMES),
  backend_error: v.nullable(v.picklist(BACKEND_ERROR_KINDS)),
})

export const RecordPageSchema = v.object({
  records: v.array(RecordViewSchema),
  count: v.number(),
  next_cursor: v.pipe(v.nullable(v.string()), v.description('pass as cursor for the next page; null when the window has no more')),
  scanned: v.number(),
  scan_budget_exhausted: v.pipe(v.boolean(), v.description('the page stopped at the scan budget; next_cursor continues the scan')),
  from: v.string(),
  to: v.string(),
})

const top = v.array(v.object({ value: v.string(), requests: v.number() }))

export const StatsSchema = v.object({
  from: v.string(),
  to: v.string(),
  requests: v.number(),
  errors: v.number(),
  error_rate: v.number(),
  success_rate: v.number(),
  status: v.record(v.string(), v.number()),
  status_classes: v.record(v.string(), v.number()),
  outcomes: v.record(v.string(), v.number()),
  latency_ms: v.nullable(v.object({ p50: v.number(), p90: v.number(), p99: v.number(), max: v.number(), mean: v.number() })),
  bytes_in: v.number(),
  bytes_out: v.number(),
  unique_visitors: v.number(),
  top_hosts: top,
  top_paths: top,
  top_clients: top,
  requests_per_hour: v.number(),
  requests_per_minute: v.number(),
  bucket: v.picklist(['hour', 'minute']),
  buckets: v.array(v.object({ start: v.string(), requests: v.number(), errors: v.number(), p50_ms: v.nullable(v.number()), p99_ms: v.nullable(v.number()) })),
  scanned: v.number(),
  complete: v.pipe(v.boolean(), v.description('false when the scan budget ran out: the numbers cover the newest `scanned` records')),
})
