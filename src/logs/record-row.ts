/**
 * @module A request record as a stored row (Store.appendRows): its numbers and strings in a fixed
 * column order, and its `time` as the entry's timeMs. The stored data is then the JSON array
 * `[status, duration_ms, bytes_in, bytes_out, request_id, node, scheme, host, proxy, method, path,
 * client_ip, user_agent, user, client_id, route_id, backend, outcome, backend_error]`. This order is
 * a storage contract: entries written by earlier versions (a JSON object per record) stay readable
 * (stored-record.ts), and a new field goes at the end of its kind.
 */
import { stringCellsOf, type RowBatch } from '../store/index.ts'
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

/** The records of a batch (the access log, tests). */
export function recordsOf(batch: RowBatch): RequestRecord[] {
  const strings = stringCellsOf(batch)
  return Array.from({ length: batch.count }, (_, row) => {
    const n = row * NUMBER_COLUMNS
    const s = row * STRING_COLUMNS
    return recordOfCells(batch.timesMs[row]!, (i) => batch.numbers[n + i]!, (i) => strings[s + i]!)
  })
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
