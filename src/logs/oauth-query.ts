/**
 * @module Queries over the OAuth activity stream: filters (user, client, ip, type, resource host, time
 * window) and cursor paging. A cursor is a position in the stream's order (time, then entry id), so a
 * page never shifts when new events arrive, on this node or another. Filters are applied while
 * scanning the time window; a scan that reads its budget without filling the page returns what it found
 * with a cursor to go on from, so one request never reads the whole stream.
 */
import * as v from 'valibot'
import { normalizeClientAddress } from '../lib/index.ts'
import type { Store } from '../store/index.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'
import { StoredOAuthEventSchema, toOAuthEvent, type OAuthEvent, type OAuthEventType } from './oauth-event.ts'

export interface OAuthEventFilter {
  /** A GitHub login, compared case-insensitively (as GitHub does). */
  readonly user?: string
  readonly clientId?: string
  /** An IP address; the IPv4-mapped IPv6 spelling finds the IPv4 one. */
  readonly ip?: string
  readonly types?: readonly OAuthEventType[]
  /** The host of the event's resource (a proxy's hostname, or the API's), case-insensitive. */
  readonly resourceHost?: string
  /** Inclusive bounds, epoch milliseconds. */
  readonly fromMs?: number
  readonly toMs?: number
}

export type OAuthEventOrder = 'newest' | 'oldest'

export interface OAuthEventPageRequest {
  /** 1…1000. */
  readonly limit: number
  readonly order?: OAuthEventOrder
  /** The next_cursor of the previous page, with the same filter and order. */
  readonly cursor?: string
  /** How many stored events one page may read (default 20,000). */
  readonly scanBudget?: number
}

export interface OAuthEventPage {
  readonly events: OAuthEvent[]
  /** Where the next page starts; null when the window holds nothing more. */
  readonly nextCursor: string | null
}

/** A cursor that is not one of ours. */
export class InvalidCursorError extends Error {
  constructor(detail: string) {
    super(detail)
    this.name = 'InvalidCursorError'
  }
}

export const MAX_PAGE_LIMIT = 1000
const DEFAULT_SCAN_BUDGET = 20_000
const CHUNK = 500

/** The matcher for a filter, built once per query. */
export function matcherFor(filter: OAuthEventFilter): (event: OAuthEvent) => boolean {
  const user = filter.user?.toLowerCase()
  const ip = filter.ip === undefined ? undefined : normalizeClientAddress(filter.ip)
  const types = filter.types && filter.types.length > 0 ? new Set(filter.types) : null
  const host = filter.resourceHost?.toLowerCase()
  return (event) =>
    (user === undefined || event.user?.toLowerCase() === user) &&
    (filter.clientId === undefined || event.client_id === filter.clientId) &&
    (ip === undefined || event.ip === ip) &&
    (types === null || types.has(event.type)) &&
    (host === undefined || (event.resource !== null && URL.parse(event.resource)?.hostname.toLowerCase() === host))
}

/** One page of the events in `stream` that match `filter`. Throws InvalidCursorError for a bad cursor. */
export async function queryOAuthEvents(store: Store, stream: string, filter: OAuthEventFilter, page: OAuthEventPageRequest): Promise<OAuthEventPage> {
  const order = page.order ?? 'newest'
  const limit = Math.max(1, Math.min(MAX_PAGE_LIMIT, Math.floor(page.limit)))
  const budget = page.scanBudget ?? DEFAULT_SCAN_BUDGET
  const matches = matcherFor(filter)
  // The request log's cursors (a position in the stream): the next page starts strictly past it, in either order.
  let position = page.cursor === undefined ? undefined : (decodeCursor(page.cursor) ?? undefined)
  if (page.cursor !== undefined && position === undefined) throw new InvalidCursorError('not a cursor from this API')
  const events: OAuthEvent[] = []
  let scanned = 0
  for (;;) {
    const chunk = await store.query(stream, {
      ...(filter.fromMs === undefined ? {} : { fromMs: filter.fromMs }),
      ...(filter.toMs === undefined ? {} : { toMs: filter.toMs }),
      order,
      limit: CHUNK,
      ...(position === undefined ? {} : { startAfter: position }),
    })
    for (const entry of chunk) {
      scanned++
      position = { timeMs: entry.timeMs, id: entry.id }
      const stored = v.safeParse(StoredOAuthEventSchema, parseJson(entry.data))
      // A document this version cannot read is skipped, never served.
      if (!stored.success) continue
      const event = toOAuthEvent(entry.id, entry.timeMs, stored.output)
      if (!matches(event)) continue
      events.push(event)
      if (events.length === limit) return { events, nextCursor: encodeCursor(position) }
    }
    if (chunk.length < CHUNK) return { events, nextCursor: null }
    // The budget is spent: what was found so far, and where to go on.
    if (scanned >= budget) return { events, nextCursor: encodeCursor(position!) }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
