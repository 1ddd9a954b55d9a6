/**
 * @module A request record as a stored row (Store.appendRows): its numbers and strings in a fixed
 * column order, and its `time` as the entry's timeMs. The stored data is then the JSON array
 * `[status, duration_ms, bytes_in, bytes_out, request_id, node, scheme, host, proxy, method, path,
 * client_ip, user_agent, user, client_id, route_id, backend, outcome, backend_error]`. This order is
 * a storage contract: entries written by earlier versions (a JSON object per record) stay readable
 * (stored-record.ts), and a new field goes at the end of its kind.
 */
import type { RowBatch } from '../store/index.ts'
import type { BackendErrorKind, RequestOutcome, RequestRecord } from './record.ts'

export const NUMBER_FIELDS = ['status', 'duration_ms', 'bytes_in', 'bytes_out'] as const
export const STRING_FIELDS = [
  'request_id',
  'node',
  'scheme',
  'host',
  'proxy',
  'method',
  'path',
  'client_ip',
  'user_agent',
  'user',
  'client_id',
  'route_id',
  'backend',
  'outcome',
  'backend_error',
] as const
export const NUMBER_COLUMNS = NUMBER_FIELDS.length
export const STRING_COLUMNS = STRING_FIELDS.length

/** Copies a record into row `row` of flat columns (the ring's slots); no allocation. */
export function fillRow(record: RequestRecord, row: number, times: Float64Array, numbers: Float64Array, strings: (string | null)[]): void {
  times[row] = record.time
  const n = row * NUMBER_COLUMNS
  numbers[n] = record.status
  numbers[n + 1] = record.duration_ms
  numbers[n + 2] = record.bytes_in
  numbers[n + 3] = record.bytes_out
  const s = row * STRING_COLUMNS
  strings[s] = record.request_id
  strings[s + 1] = record.node
  strings[s + 2] = record.scheme
  strings[s + 3] = record.host
  strings[s + 4] = record.proxy
  strings[s + 5] = record.method
  strings[s + 6] = record.path
  strings[s + 7] = record.client_ip
  strings[s + 8] = record.user_agent
  strings[s + 9] = record.user
  strings[s + 10] = record.client_id
  strings[s + 11] = record.route_id
  strings[s + 12] = record.backend
  strings[s + 13] = record.outcome
  strings[s + 14] = record.backend_error
}

/** The record in row `row` of a batch (the access log, tests). */
export function recordAt(batch: RowBatch, row: number): RequestRecord {
  const n = row * NUMBER_COLUMNS
  return recordOfCells(batch.timesMs[row]!, (i) => batch.numbers[n + i]!, (i) => batch.strings[row * STRING_COLUMNS + i] ?? null)
}

export function recordsOf(batch: RowBatch): RequestRecord[] {
  return Array.from({ length: batch.count }, (_, row) => recordAt(batch, row))
}

/** A stored row's cells (JSON.parse of its data) as a record; null when they are not one. */
export function recordOfStoredRow(time: number, cells: readonly unknown[]): RequestRecord | null {
  if (cells.length < NUMBER_COLUMNS + STRING_COLUMNS) return null
  for (let i = 0; i < NUMBER_COLUMNS; i++) if (typeof cells[i] !== 'number') return null
  for (let i = NUMBER_COLUMNS; i < NUMBER_COLUMNS + STRING_COLUMNS; i++) if (cells[i] !== null && typeof cells[i] !== 'string') return null
  const record = recordOfCells(time, (i) => cells[i] as number, (i) => cells[NUMBER_COLUMNS + i] as string | null)
  // The fields every record has.
  return record.request_id === null || record.host === null || record.method === null || record.path === null || record.client_ip === null || record.outcome === null ? null : record
}

function recordOfCells(time: number, number: (index: number) => number, string: (index: number) => string | null): RequestRecord {
  return {
    time,
    request_id: string(0)!,
    node: string(1)!,
    scheme: string(2) as RequestRecord['scheme'],
    host: string(3)!,
    proxy: string(4),
    method: string(5)!,
    path: string(6)!,
    status: number(0),
    duration_ms: number(1),
    bytes_in: number(2),
    bytes_out: number(3),
    client_ip: string(7)!,
    user_agent: string(8),
    user: string(9),
    client_id: string(10),
    route_id: string(11),
    backend: string(12),
    outcome: string(13) as RequestOutcome,
    backend_error: string(14) as BackendErrorKind | null,
  }
}
