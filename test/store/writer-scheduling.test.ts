/**
 * The log writer thread runs in the background (SCHED_IDLE) and is moved to nice 10 when a batch waits
 * too long for it: the policy changes follow the batches' timings, with a hold before going back.
 */
import { expect, test } from 'bun:test'
import type { BackgroundPolicy } from '../../src/store/thread-priority.ts'
import { createWriterScheduling } from '../../src/store/writer-scheduling.ts'

function scheduling(isAllowed = true) {
  let nowMs = 0
  const changes: BackgroundPolicy[] = []
  const watch = createWriterScheduling({
    threadId: 4242,
    now: () => nowMs,
    setPolicy: (threadId, policy) => {
      expect(threadId).toBe(4242)
      if (isAllowed) changes.push(policy)
      return isAllowed
    },
    starvedAfterMs: 30,
    yieldingForMs: 1_000,
  })
  return { watch, changes, advance: (ms: number) => (nowMs += ms) }
}

test('batches written in time leave the thread in the background', async () => {
  const { watch, changes } = scheduling()
  for (let i = 0; i < 5; i++) watch.sent()()
  await Bun.sleep(60)
  expect(changes).toEqual([])
  expect(watch.policy).toBe('background')
})

test('a batch not written in time moves the thread to nice 10; it goes back only once the hold is over and a batch is written', async () => {
  const { watch, changes, advance } = scheduling()
  const written = watch.sent()
  await Bun.sleep(60)
  expect(changes).toEqual(['yielding'])
  expect(watch.policy).toBe('yielding')
  // Written during the hold: it stays.
  advance(500)
  written()
  watch.sent()()
  expect(watch.policy).toBe('yielding')
  // Another starved batch during the hold extends it; once over, the next batch written goes back.
  const late = watch.sent()
  await Bun.sleep(60)
  advance(900)
  late()
  expect(watch.policy).toBe('yielding')
  advance(200)
  watch.sent()()
  expect(changes).toEqual(['yielding', 'background'])
  expect(watch.policy).toBe('background')
})

test('a policy the kernel refuses is not recorded as set, and close stops the pending timers', async () => {
  const refused = scheduling(false)
  refused.watch.sent()
  await Bun.sleep(60)
  expect(refused.watch.policy).toBe('background')
  const closed = scheduling()
  closed.watch.sent()
  closed.watch.close()
  await Bun.sleep(60)
  expect(closed.changes).toEqual([])
})
