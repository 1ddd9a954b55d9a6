/** @module Long lists a page at a time (100 rows): the rows of the current page, and the controls to move between pages. */
import { useEffect, useState } from 'hono/jsx/dom'

export const PAGE_SIZE = 100

export interface Pages<T> {
  readonly rows: readonly T[]
  readonly page: number
  readonly count: number
  go(page: number): void
}

/** A changed list (a reload, a filter) keeps the page while it still exists. */
export function usePages<T>(items: readonly T[]): Pages<T> {
  const [page, setPage] = useState(0)
  const count = Math.max(1, Math.ceil(items.length / PAGE_SIZE))
  useEffect(() => {
    if (page >= count) setPage(count - 1)
  }, [count])
  const current = Math.min(page, count - 1)
  return { rows: items.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE), page: current, count, go: setPage }
}

/** Nothing when everything fits on one page. */
export function Pager<T>(props: { pages: Pages<T>; label: string }) {
  const { pages } = props
  if (pages.count <= 1) return null
  return (
    <nav class="pager" aria-label={props.label}>
      <button type="button" disabled={pages.page === 0} onClick={() => pages.go(pages.page - 1)}>
        Previous page
      </button>
      <span>
        Page {pages.page + 1} of {pages.count}
      </span>
      <button type="button" disabled={pages.page + 1 >= pages.count} onClick={() => pages.go(pages.page + 1)}>
        Next page
      </button>
    </nav>
  )
}
