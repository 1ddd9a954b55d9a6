/**
 * @module Keeps the log writer thread from starving (thread-priority.ts). It runs as `background`
 * (SCHED_IDLE) and gets only CPU time no other thread wants; on a machine busy to the last cycle that
 * is almost none, and the ring of records would fill and drop them. So its owner times each batch it
 * sends: one not written within STARVED_AFTER_MS sets the thread to `yielding` (nice 10: a tenth of a
 * contended core, plenty), for at least YIELDING_FOR_MS, after which the next batch written sets it
 * back. The thread's own promptness does not matter here: its policy is set from this thread.
 */
import { setThreadPolicy, type BackgroundPolicy } from './thread-priority.ts'

/** A batch is written within a few ms when the thread runs: one not written after a flush interval (writer.ts) is waiting for a core. */
export const STARVED_AFTER_MS = 250
export const YIELDING_FOR_MS = 10_000

export interface WriterScheduling {
  /** A batch was sent: returns what to call when it has been written (or has failed). */
  sent(): () => void
  readonly policy: BackgroundPolicy
  close(): void
}

export interface WriterSchedulingOptions {
  readonly threadId: number
  readonly now?: () => number
  readonly setPolicy?: (threadId: number, policy: BackgroundPolicy) => boolean
  readonly onChange?: (policy: BackgroundPolicy) => void
  /** STARVED_AFTER_MS and YIELDING_FOR_MS (tests). */
  readonly starvedAfterMs?: number
  readonly yieldingForMs?: number
}

export function createWriterScheduling(options: WriterSchedulingOptions): WriterScheduling {
  const { threadId, now = () => performance.now(), setPolicy = setThreadPolicy, starvedAfterMs = STARVED_AFTER_MS, yieldingForMs = YIELDING_FOR_MS } = options
  let policy: BackgroundPolicy = 'background'
  let yieldingUntil = 0
  const timers = new Set<ReturnType<typeof setTimeout>>()

  const change = (next: BackgroundPolicy) => {
    if (!setPolicy(threadId, next)) return
    policy = next
    options.onChange?.(next)
  }
  const starved = () => {
    yieldingUntil = now() + yieldingForMs
    if (policy === 'background') change('yielding')
  }

  return {
    sent() {
      const timer = setTimeout(starved, starvedAfterMs)
      timer.unref?.()
      timers.add(timer)
      return () => {
        clearTimeout(timer)
        timers.delete(timer)
        if (policy === 'yielding' && now() >= yieldingUntil) change('background')
      }
    },
    get policy() {
      return policy
    },
    close() {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
    },
  }
}
