/**
 * @module Every query reads the stream the same bounded way: newest first through a time window, in
 * chunks, at most `budget` entries per request. A query cannot take the server down by asking for a
 * month of traffic; it reports how far it got, and a cursor continues from there. Between chunks the
 * scan yields to the event loop, so requests keep flowing while an operator queries.
 */
import { yieldToEventLoop } from '../lib/index.ts'
import type { LogEntry, LogPosition, Store } from '../store/index.ts'
import { positionOf } from './stored-record.ts'

export interface ScanWindow {
  readonly fromMs: number
  readonly toMs: number
  /** Start strictly after this position (a page cursor). */
  readonly startAfter?: LogPosition | null
}

export interface ScanOutcome {
  readonly scanned: number
  /** The last entry looked at; null when none was. */
  readonly last: LogPosition | null
  /** The window holds nothing past `last`. */
  readonly isWindowDone: boolean
  /** The scan stopped because the budget ran out. */
  readonly isBudgetSpent: boolean
}

/** Return false to stop the scan after this entry. */
export type Visit = (entry: LogEntry) => boolean

const CHUNK = 1_000

export async function scanNewestFirst(store: Store, stream: string, window: ScanWindow, budget: number, visit: Visit): Promise<ScanOutcome> {
  let scanned = 0
  let last: LogPosition | null = window.startAfter ?? null
  for (;;) {
    const size = Math.min(CHUNK, budget - scanned)
    if (size <= 0) return { scanned, last, isWindowDone: false, isBudgetSpent: true }
    const chunk = await store.query(stream, { fromMs: window.fromMs, toMs: window.toMs, order: 'newest', limit: size, startAfter: last ?? undefined })
    for (const [index, entry] of chunk.entries()) {
      scanned++
      last = positionOf(entry)
      // Stopped on the window's last entry: nothing is left, so no cursor is needed.
      if (!visit(entry)) return { scanned, last, isWindowDone: index === chunk.length - 1 && chunk.length < size, isBudgetSpent: false }
    }
    if (chunk.length < size) return { scanned, last, isWindowDone: true, isBudgetSpent: false }
    // The embedded store answers synchronously: without this the whole scan would hold the thread the
    // data plane runs on. Between chunks, pending I/O (requests) goes first.
    await yieldToEventLoop()
  }
}
