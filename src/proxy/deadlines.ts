/**
 * @module Deadlines for everything in flight on one shared timer: response heads, request heads,
 * idle connections. A timer per request costs microseconds of a request that should take ten; so
 * does even a Set entry and a clock read (bench/README.md has the measurements). Here an item joins an
 * intrusive list against a clock that the shared tick reads: no allocation, no hashing, no system call
 * per request. 100 ms is fine resolution for a 504 or an idle timeout.
 *
 * Bun's `socket.timeout(n)` never fires for n above 240 s (test-infrastructure §7), so long timeouts
 * live here too. The edge creates one Deadlines and hands it to whatever needs it: two servers in one
 * process never share a list.
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

/** Marks an item taken off the list by a tick whose expire() has not run yet. */
const EXPIRING = -1

export class Deadlines {
  private first: Expiring | null = null
  private ticker: Timer | null = null
  /**
   * Elapsed time (performance.now(), not the wall clock, which NTP or a resumed VM can step) at the
   * last tick or when the ticker started: deadlines are that coarse, and so is nowMs.
   */
  private coarseNowMs = performance.now()

  /** The coarse elapsed-time clock the deadlines run on: free to read on every request. */
  get nowMs(): number {
    return this.coarseNowMs
  }

  /**
   * expire() is called once timeoutMs has passed, and within two ticks of that, unless untrack() comes
   * first. Re-tracking moves the deadline.
   */
  track(item: Expiring, timeoutMs: number): void {
    if (item.deadlineAtMs > 0) this.unlink(item)
    if (!this.ticker) {
      this.coarseNowMs = performance.now()
      this.ticker = setInterval(() => this.tick(), TICK_MS)
      this.ticker.unref()
    }
    // The coarse clock may be up to a tick old: a deadline counted from it could come a tick early, so
    // a 1 s upstream_timeout answered 504 after 0.94 s. A tick more makes it never early (ticks on time).
    item.deadlineAtMs = this.coarseNowMs + TICK_MS + timeoutMs
    item.previousExpiring = null
    item.nextExpiring = this.first
    if (this.first) this.first.previousExpiring = item
    this.first = item
  }

  untrack(item: Expiring): void {
    this.unlink(item)
    item.deadlineAtMs = 0
  }

  /** Settles with the promise's result, or with 'timeout' once timeoutMs has passed (within two ticks of it). */
  withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T | 'timeout'> {
    return new Promise<T | 'timeout'>((resolve, reject) => {
      const item: Expiring = { deadlineAtMs: 0, previousExpiring: null, nextExpiring: null, expire: () => resolve('timeout') }
      this.track(item, timeoutMs)
      work.then(
        (value) => (this.untrack(item), resolve(value)),
        (error) => (this.untrack(item), reject(error)),
      )
    })
  }

  /** Stops the ticker; items still tracked never expire. */
  stop(): void {
    if (this.ticker) clearInterval(this.ticker)
    this.ticker = null
    this.first = null
  }

  private tick(): void {
    this.coarseNowMs = performance.now()
    const due: Expiring[] = []
    for (let item = this.first; item; item = item.nextExpiring) if (item.deadlineAtMs <= this.coarseNowMs) due.push(item)
    for (const item of due) {
      this.unlink(item)
      item.deadlineAtMs = EXPIRING
    }
    // An expire() may untrack (or re-track) another due item: that one must then not expire.
    for (const item of due) {
      if (item.deadlineAtMs !== EXPIRING) continue
      item.deadlineAtMs = 0
      item.expire()
    }
    if (!this.first && this.ticker) {
      clearInterval(this.ticker)
      this.ticker = null
    }
  }

  private unlink(item: Expiring): void {
    const { previousExpiring: previous, nextExpiring: next } = item
    if (previous) previous.nextExpiring = next
    else if (this.first === item) this.first = next
    else return // not in the list
    if (next) next.previousExpiring = previous
    item.previousExpiring = null
    item.nextExpiring = null
  }
}
