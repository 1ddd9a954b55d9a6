/**
 * @module The live tail: one poller per node reads the stream in append order (store.tail) from a
 * cursor every pollMs and hands each new record to the followers whose filter it matches. Polling
 * the shared store, not this node's ring, is what shows requests served by every node. The poller
 * runs only while someone follows; a store outage pauses it, and it resumes from the same cursor.
 */
import type { Logger } from '../lib/index.ts'
import type { Store } from '../store/index.ts'
import { compileFilter, mayMatchRaw, type CompiledFilter, type Condition } from './filter.ts'
import { parseStoredRecord, type StoredRecord } from './stored-record.ts'

export interface FollowHubOptions {
  readonly store: Store
  readonly stream: string
  readonly logger: Logger
  readonly pollMs: number
}

export interface FollowHub {
  /**
   * Delivers every record appended after this call that matches; resolves once the starting point is
   * fixed (records written before it are not delivered). Returns the unsubscribe function.
   */
  subscribe(conditions: readonly Condition[], deliver: (stored: StoredRecord) => void, end?: () => void): Promise<() => void>
  readonly followers: number
  /** Ends every follow (each follower's `end` is called) and stops polling; later subscribers start afresh. */
  endAll(): void
}

/** Entries read per store call; a poll keeps reading until it catches up. */
const TAIL_BATCH = 1_000

interface Follower {
  readonly filter: CompiledFilter
  readonly deliver: (stored: StoredRecord) => void
  readonly end?: () => void
}

export function createFollowHub(options: FollowHubOptions): FollowHub {
  const { store, stream, logger } = options
  const followers = new Set<Follower>()
  let cursor: string | null = null
  let starting: Promise<void> | null = null
  let timer: ReturnType<typeof setInterval> | null = null
  let isPolling = false
  let isFailing = false

  const start = async () => {
    const [newest] = await store.tail(stream, { limit: 1 })
    // An empty stream: every id is after "0".
    cursor = newest?.id ?? '0'
    timer = setInterval(() => void poll(), options.pollMs)
    timer.unref?.()
  }

  const poll = async () => {
    if (isPolling || cursor === null) return
    isPolling = true
    try {
      for (;;) {
        const entries = await store.tail(stream, { afterId: cursor, limit: TAIL_BATCH })
        for (const entry of entries) {
          cursor = entry.id
          deliver(entry.data, () => parseStoredRecord(entry))
        }
        if (entries.length < TAIL_BATCH || followers.size === 0) break
      }
      if (isFailing) logger.info('request log follow: the store answers again')
      isFailing = false
    } catch (error) {
      if (!isFailing) logger.warn('request log follow: the store does not answer; retrying', { error: String(error) })
      isFailing = true
    } finally {
      isPolling = false
    }
  }

  const deliver = (data: string, parse: () => StoredRecord | null) => {
    let stored: StoredRecord | null | undefined
    for (const follower of followers) {
      if (!mayMatchRaw(follower.filter, data)) continue
      stored ??= parse()
      if (stored === null) return
      if (follower.filter.matches(stored.record)) follower.deliver(stored)
    }
  }

  const stopPolling = () => {
    if (timer) clearInterval(timer)
    timer = null
    cursor = null
    starting = null
  }

  return {
    async subscribe(conditions, deliverTo, end) {
      const follower: Follower = { filter: compileFilter(conditions), deliver: deliverTo, end }
      if (!starting) {
        starting = start()
        starting.catch(() => {
          starting = null
        })
      }
      await starting
      followers.add(follower)
      return () => {
        followers.delete(follower)
        if (followers.size === 0) stopPolling()
      }
    },
    get followers() {
      return followers.size
    },
    endAll() {
      const ending = [...followers]
      followers.clear()
      stopPolling()
      for (const follower of ending) follower.end?.()
    },
  }
}
