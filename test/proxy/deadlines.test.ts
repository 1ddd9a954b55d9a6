/**
 * The shared response-head deadline (deadlines.ts): items on one intrusive list, read by a 100 ms tick.
 * Proved on real time, with small timeouts: an item expires exactly once, never before its timeout and
 * within two ticks after it (the tick's clock may be a tick old when an item joins, so a tick is added);
 * untrack() before that prevents it, is idempotent and harmless for items never tracked; the list stays
 * consistent whatever order items leave it in. withDeadline() is the fetch forwarder's race between a
 * backend's response and its 504 (RFC 9110 §15.6.5).
 */
import { describe, expect, setSystemTime, test } from 'bun:test'
import { Deadlines, type Expiring } from '../../src/proxy/deadlines.ts'

const deadlines = new Deadlines()
const track = (item: Expiring, timeoutMs: number) => deadlines.track(item, timeoutMs)
const untrack = (item: Expiring) => deadlines.untrack(item)
const withDeadline = <T>(work: Promise<T>, timeoutMs: number) => deadlines.withDeadline(work, timeoutMs)

/** deadlines.ts's tick. */
const TICK_MS = 100
/** How late an expiry may come: two ticks, plus a busy test machine's timer lag. */
const LATE_MS = 350

interface Probe extends Expiring {
  readonly name: string
  /** performance.now() at each expire() call. */
  readonly expiredAtMs: number[]
}

function probe(name: string, onExpire?: () => void): Probe {
  const expiredAtMs: number[] = []
  return {
    name,
    expiredAtMs,
    deadlineAtMs: 0,
    previousExpiring: null,
    nextExpiring: null,
    expire() {
      expiredAtMs.push(performance.now())
      onExpire?.()
    },
  }
}

/** Polls until `condition` holds or `maxMs` has passed; the caller's expectations say which. */
async function until(condition: () => boolean, maxMs: number): Promise<void> {
  const endAtMs = performance.now() + maxMs
  while (!condition() && performance.now() < endAtMs) await Bun.sleep(10)
}
/** Waits until every tick that could expire these items (on their recorded deadlines) has run. */
const pastDeadlines = (items: readonly Expiring[]) => until(() => false, Math.max(...items.map((item) => item.deadlineAtMs)) + TICK_MS + 50 - performance.now())
const expiries = (items: readonly Probe[]) => items.map((item) => item.expiredAtMs.length)

describe('track', () => {
  test('an item expires once, never before its timeout, and leaves the list', async () => {
    const item = probe('a')
    const trackedAtMs = performance.now()
    track(item, 400)
    await until(() => item.expiredAtMs.length > 0, 400 + LATE_MS)
    await Bun.sleep(2 * TICK_MS + 20) // two more ticks: no second call
    expect(item.expiredAtMs).toHaveLength(1)
    const elapsed = item.expiredAtMs[0]! - trackedAtMs
    expect(elapsed).toBeGreaterThanOrEqual(400)
    expect(elapsed).toBeLessThanOrEqual(400 + LATE_MS)
    expect([item.previousExpiring, item.nextExpiring]).toEqual([null, null])
  })

  test('an item tracked just before a tick, on a clock almost a tick old, still waits its whole timeout', async () => {
    const keeper = probe('keeps the ticker running')
    track(keeper, 10_000)
    try {
      // Wait for a tick (the coarse clock moves), then for most of the next interval: the clock is ~90 ms old.
      const tickedAt = deadlines.nowMs
      await until(() => deadlines.nowMs !== tickedAt, 3 * TICK_MS)
      await Bun.sleep(TICK_MS - 10)
      const item = probe('late joiner')
      const trackedAtMs = performance.now()
      const clockAgeMs = trackedAtMs - deadlines.nowMs
      track(item, 300)
      await until(() => item.expiredAtMs.length > 0, 300 + LATE_MS)
      expect(item.expiredAtMs).toHaveLength(1)
      // Never early while ticks come on time; a loaded machine that delays a tick past its interval may
      // make the clock older than a tick, and only that excess can come off (without the added tick,
      // the whole age did: ~90 ms here).
      expect(item.expiredAtMs[0]! - trackedAtMs).toBeGreaterThanOrEqual(300 - Math.max(0, clockAgeMs - TICK_MS))
    } finally {
      untrack(keeper)
    }
  })

  test('items expire in the order of their deadlines, not of tracking', async () => {
    const order: string[] = []
    const slow = probe('slow', () => order.push('slow'))
    const fast = probe('fast', () => order.push('fast'))
    track(slow, 250)
    track(fast, 20)
    await until(() => order.length === 2, 250 + LATE_MS)
    expect(order).toEqual(['fast', 'slow'])
  })
})

describe('untrack', () => {
  test('before the deadline, it prevents the expiry; the other items still expire', async () => {
    const [before, item, after] = [probe('before'), probe('item'), probe('after')]
    track(after, 100)
    track(item, 200)
    track(before, 100)
    await Bun.sleep(30) // less than 200 ms less a tick
    untrack(item)
    expect([item.previousExpiring, item.nextExpiring]).toEqual([null, null])
    await pastDeadlines([item, before, after])
    expect(expiries([before, item, after])).toEqual([1, 0, 1])
  })

  test('is idempotent, harmless for an item never tracked or already expired, and leaves the others tracked', async () => {
    const [first, middle, last] = [probe('first'), probe('middle'), probe('last')]
    track(last, 100)
    track(middle, 100)
    track(first, 100)
    const stranger = probe('stranger')
    untrack(stranger)
    untrack(stranger)
    untrack(middle)
    untrack(middle)
    await pastDeadlines([first, middle, last])
    expect(expiries([first, middle, last, stranger])).toEqual([1, 0, 1, 0])
    untrack(first)
    untrack(last)
    // The list still works: an item tracked now expires too, and the expired ones do not again.
    const later = probe('later')
    track(later, 50)
    await until(() => later.expiredAtMs.length > 0, 50 + LATE_MS)
    expect(expiries([first, middle, last, stranger, later])).toEqual([1, 0, 1, 0, 1])
  })

  test('50 items, every other one untracked in a scrambled order: exactly the other 25 expire, once each', async () => {
    const items = Array.from({ length: 50 }, (_, i) => probe(`item-${i}`))
    // Deadlines in no tracking order, so expiries take items from everywhere in the list.
    items.forEach((item, i) => track(item, 60 + ((i * 37) % 140)))
    // The list's tail (item 0, tracked first) and the even item next to its head (48) go first; then all
    // even items again (untracking twice is harmless) in the order i → 19·i mod 50, 19 being prime to 50.
    const evens = items.map((_, i) => i).filter((i) => i % 2 === 0)
    const scrambled = [...evens].sort((a, b) => ((a * 19) % 50) - ((b * 19) % 50))
    for (const i of [0, 48, ...scrambled]) untrack(items[i]!)
    await pastDeadlines(items)
    expect(items.filter((item) => item.expiredAtMs.length > 0).map((item) => item.name)).toEqual(items.filter((_, i) => i % 2 === 1).map((item) => item.name))
    expect(Math.max(...expiries(items))).toBe(1)
    for (const item of items) expect([item.name, item.previousExpiring, item.nextExpiring]).toEqual([item.name, null, null])
  })

  test('an item untracked by another item’s expire() in the same tick is not expired', async () => {
    // deadlines.ts: expire() is "called once, from the tick, when the deadline has passed and untrack() did not come first".
    const victim = probe('victim')
    const killer = probe('killer', () => untrack(victim))
    track(victim, 50)
    track(killer, 50) // now the list's head: the tick reaches it first, with the same deadline as the victim
    await pastDeadlines([killer, victim])
    expect(expiries([killer, victim])).toEqual([1, 0])
  })
})

describe('withDeadline', () => {
  test('resolves to the value when the work is faster', async () => {
    const startedAtMs = performance.now()
    expect(await withDeadline(Bun.sleep(20).then(() => 'value'), 300)).toBe('value')
    expect(performance.now() - startedAtMs).toBeLessThan(300)
  })

  test("resolves to 'timeout' when the work is slower, never before the timeout", async () => {
    const startedAtMs = performance.now()
    expect(await withDeadline(Bun.sleep(400).then(() => 'late'), 150)).toBe('timeout')
    const elapsed = performance.now() - startedAtMs
    expect(elapsed).toBeGreaterThanOrEqual(150)
    expect(elapsed).toBeLessThanOrEqual(150 + LATE_MS)
  })

  test('passes a rejection on; a settled race leaves no item on the list', async () => {
    const failure = new Error('backend refused')
    await expect(withDeadline(Promise.reject(failure), 1000)).rejects.toBe(failure)
    expect(await withDeadline(Promise.resolve(1), 1000)).toBe(1)
    // Both deadlines were a second away, so were either still tracked, it would follow a new item.
    const alone = probe('alone')
    track(alone, 1000)
    expect(alone.nextExpiring).toBeNull()
    untrack(alone)
  })
})

describe('RFC 9110 §15.6.5: the 504 deadline measures elapsed time', () => {
  // The deadline list reads the clock on each tick; a wall clock can be stepped (NTP, a VM resumed), elapsed time cannot.
  test('a wall-clock step of an hour forward does not expire a request that has waited 250 ms of its 60 s', async () => {
    let isExpired = false
    const item: Expiring = { deadlineAtMs: 0, previousExpiring: null, nextExpiring: null, expire: () => void (isExpired = true) }
    track(item, 60_000)
    setSystemTime(new Date(Date.now() + 3_600_000))
    try {
      await Bun.sleep(250)
    } finally {
      setSystemTime()
      untrack(item)
    }
    expect(isExpired).toBe(false)
  })
})
