/**
 * @module Response-head deadlines for every in-flight request on one shared timer. A timer per request
 * costs microseconds of a request that should take ten; so does even a Set entry and a clock read
 * (bench/README.md has the measurements). Here a request joins an intrusive list against a clock that
 * the shared tick reads: no allocation, no hashing, no system call per request. 100 ms is fine
 * resolution for a 504.
 */

const TICK_MS = 100

/** Something with a deadline; the fields are the list's, set by track(). */
export interface Expiring {
  deadlineAtMs: number
  previousExpiring: Expiring | null
  nextExpiring: Expiring | null
  /** Called once, from the tick, when the deadline has passed and untrack() did not come first. */
  expire(): void
}

let first: Expiring | null = null
let ticker: Timer | null = null
/**
 * Elapsed time (performance.now(), not the wall clock, which NTP or a resumed VM can step) at the last
 * tick or when the ticker started: deadlines are that coarse.
 */
let coarseNowMs = performance.now()

/** Marks an item taken off the list by a tick whose expire() has not run yet. */
const EXPIRING = -1

function tick(): void {
  coarseNowMs = performance.now()
  const due: Expiring[] = []
  for (let item = first; item; item = item.nextExpiring) if (item.deadlineAtMs <= coarseNowMs) due.push(item)
  for (const item of due) {
    unlink(item)
    item.deadlineAtMs = EXPIRING
  }
  // An expire() may untrack another due item: that one must then not expire.
  for (const item of due) {
    if (item.deadlineAtMs !== EXPIRING) continue
    item.deadlineAtMs = 0
    item.expire()
  }
  if (!first && ticker) {
    clearInterval(ticker)
    ticker = null
  }
}

/** expire() is called once timeoutMs has passed (to within a tick), unless untrack() comes first. */
export function track(item: Expiring, timeoutMs: number): void {
  if (!ticker) {
    coarseNowMs = performance.now()
    ticker = setInterval(tick, TICK_MS)
    ticker.unref()
  }
  item.deadlineAtMs = coarseNowMs + timeoutMs
  item.previousExpiring = null
  item.nextExpiring = first
  if (first) first.previousExpiring = item
  first = item
}

export function untrack(item: Expiring): void {
  unlink(item)
  item.deadlineAtMs = 0
}

function unlink(item: Expiring): void {
  const { previousExpiring: previous, nextExpiring: next } = item
  if (previous) previous.nextExpiring = next
  else if (first === item) first = next
  else return // not in the list
  if (next) next.previousExpiring = previous
  item.previousExpiring = null
  item.nextExpiring = null
}

/** Settles with the promise's result, or with 'timeout' once timeoutMs has passed (to within a tick). */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T | 'timeout'> {
  return new Promise<T | 'timeout'>((resolve, reject) => {
    const item: Expiring = { deadlineAtMs: 0, previousExpiring: null, nextExpiring: null, expire: () => resolve('timeout') }
    track(item, timeoutMs)
    work.then(
      (value) => (untrack(item), resolve(value)),
      (error) => (untrack(item), reject(error)),
    )
  })
}
