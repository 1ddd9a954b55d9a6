/**
 * @module Search: the records of a time window that match a filter, newest first, one page at a
 * time. Paging goes by the stream's order (time, then id), so a page cursor stays valid while new
 * records arrive. A page may hold fewer than `limit` records when the scan budget ran out; its
 * cursor then continues the scan where it stopped.
 */
import type { LogPosition, Store } from '../store/index.ts'
import { compileFilter, mayMatchRaw, type Condition } from './filter.ts'
import { scanNewestFirst } from './scan.ts'
import { parseStoredRecord, type StoredRecord } from './stored-record.ts'

export interface SearchQuery {
  readonly conditions: readonly Condition[]
  readonly fromMs: number
  readonly toMs: number
  readonly limit: number
  readonly cursor?: LogPosition | null
}

export interface SearchPage {
  readonly records: StoredRecord[]
  /** Where the next page starts; null when the window has nothing more. */
  readonly next: LogPosition | null
  readonly scanned: number
  /** The page stopped because the scan budget ran out, not because it was full or the window ended. */
  readonly isBudgetSpent: boolean
}

export async function searchRecords(store: Store, stream: string, query: SearchQuery, budget: number): Promise<SearchPage> {
  const filter = compileFilter(query.conditions)
  const records: StoredRecord[] = []
  const outcome = await scanNewestFirst(store, stream, { fromMs: query.fromMs, toMs: query.toMs, startAfter: query.cursor }, budget, (entry) => {
    if (!mayMatchRaw(filter, entry.data)) return true
    const stored = parseStoredRecord(entry)
    if (stored && filter.matches(stored.record)) records.push(stored)
    return records.length < query.limit
  })
  return { records, next: outcome.isWindowDone ? null : outcome.last, scanned: outcome.scanned, isBudgetSpent: outcome.isBudgetSpent }
}
