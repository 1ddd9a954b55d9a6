/**
 * @module The JSON line each request record becomes: on stdout with ACCESS_LOG=stdout (for Loki,
 * Vector, Fluent Bit or any shipper), and the shape the query endpoints return. The names are the
 * record's own (record.ts) and are a stable contract; `timestamp` adds the record's `time` as
 * ISO 8601 UTC. Paths arrive already masked (maskTarget), and no header value is ever part of a record.
 */
import type { RequestRecord } from './record.ts'

/** A record as the outside sees it: `timestamp` first, then every field of the record. */
export type RecordView = { readonly timestamp: string } & RequestRecord

export function viewOf(record: RequestRecord): RecordView {
  return { timestamp: new Date(record.time).toISOString(), ...record }
}

/** One line, newline included. */
export function accessLogLine(record: RequestRecord): string {
  return JSON.stringify(viewOf(record)) + '\n'
}
