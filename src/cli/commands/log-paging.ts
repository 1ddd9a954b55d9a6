/**
 * @module Cursor paging for the log listings (request records and OAuth events): one page, or with
 * --all the pages that follow (each page's next_cursor) up to a cap; then, for people, a line on stderr
 * with the --cursor that continues where this stopped.
 */
import { printable } from '../client/index.ts'

export interface Paged {
  readonly next_cursor: string | null
}

export interface PageRequest {
  /** The next_cursor of the page before, or the --cursor given. */
  readonly cursor: string | undefined
  /** The page size to ask for; undefined is the API's default. */
  readonly limit: number | undefined
}

export interface Pages<P extends Paged, Item> {
  readonly pages: readonly P[]
  readonly items: readonly Item[]
  /** Where a further page starts, or null when the window has no more. */
  readonly next: string | null
}

export interface PagingOptions {
  readonly all: boolean
  readonly cursor: string | undefined
  /** --limit as given. */
  readonly limit: number | undefined
  /** The API's largest page: --all asks for it unless --limit says otherwise. */
  readonly maxLimit: number
  /** --all stops after this many items. */
  readonly cap: number
}

export async function readPages<P extends Paged, Item>(
  fetchPage: (request: PageRequest) => Promise<P>,
  itemsOf: (page: P) => readonly Item[],
  options: PagingOptions,
): Promise<Pages<P, Item>> {
  const pageSize = options.limit ?? (options.all ? options.maxLimit : undefined)
  const pages: P[] = []
  const items: Item[] = []
  let cursor = options.cursor
  for (;;) {
    // The last page of --all asks only for what the cap leaves.
    const limit = options.all && pageSize !== undefined ? Math.min(pageSize, options.cap - items.length) : pageSize
    const page = await fetchPage({ cursor, limit })
    pages.push(page)
    items.push(...itemsOf(page))
    const next = typeof page.next_cursor === 'string' && page.next_cursor !== '' ? page.next_cursor : null
    if (!options.all || next === null || items.length >= options.cap) return { pages, items, next }
    cursor = next
  }
}

/** "more records: --cursor X (or --all)", on stderr for people; nothing when there is no more. */
export function printMoreHint(what: string, next: string | null, options: Pick<PagingOptions, 'all' | 'cap'>): void {
  if (next === null) return
  const tail = options.all ? `; --all stopped at ${options.cap}` : ' (or --all)'
  process.stderr.write(`more ${what}: continue with --cursor ${printable(next, 200)}${tail}\n`)
}
