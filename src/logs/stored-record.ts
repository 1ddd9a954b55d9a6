/**
 * @module Request records as stored in the `requests` log stream, timeMs = the record's `time`: a
 * row (record-row.ts: the JSON array of its cells), or, written by earlier versions, the JSON object
 * of the record. Reading is on every query's scan, so the check is a few typeof tests, not a schema
 * parse; an entry that fails them (written by a future version, or damaged) is skipped, never served.
 */
import type { LogEntry, LogPosition } from '../store/index.ts'
import type { RequestRecord } from './record.ts'
import { recordOfStoredRow } from './record-row.ts'

/** A record read back, with its place in the stream (the id paging and live tails go by). */
export interface StoredRecord {
  readonly id: string
  readonly record: RequestRecord
}

export function positionOf(entry: Pick<LogEntry, 'id' | 'timeMs'>): LogPosition {
  return { timeMs: entry.timeMs, id: entry.id }
}

export function parseStoredRecord(entry: LogEntry): StoredRecord | null {
  let value: unknown
  try {
    value = JSON.parse(entry.data)
  } catch {
    return null
  }
  if (Array.isArray(value)) {
    const record = recordOfStoredRow(entry.timeMs, value)
    return record ? { id: entry.id, record } : null
  }
  return isRequestRecord(value) ? { id: entry.id, record: value } : null
}

/** A record as earlier versions stored it: its JSON object. */
function isRequestRecord(value: unknown): value is RequestRecord {
  if (typeof value !== 'object' || value === null) return false
  const r = value as Record<string, unknown>
  return (
    typeof r.time === 'number' &&
    typeof r.request_id === 'string' &&
    typeof r.host === 'string' &&
    typeof r.method === 'string' &&
    typeof r.path === 'string' &&
    typeof r.status === 'number' &&
    typeof r.duration_ms === 'number' &&
    typeof r.client_ip === 'string' &&
    typeof r.outcome === 'string'
  )
}
