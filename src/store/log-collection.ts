/**
 * @module A typed, append-only, time-indexed log over one Store stream, with time-based retention.
 */
import * as v from 'valibot'
import type { Clock } from '../lib/index.ts'
import type { LogQuery, Store } from './store.ts'

export interface LogCollection<T> {
  /** Appends a record stamped with the current time. */
  append(record: T): Promise<void>
  /** Records in the time window; entries that no longer match the schema are skipped, not served. */
  query(query?: LogQuery): Promise<{ id: string; timeMs: number; record: T }[]>
  /** Drops entries older than the retention period; returns how many went. */
  enforceRetention(): Promise<number>
}

export function createLogCollection<S extends v.GenericSchema>(
  store: Store,
  stream: string,
  schema: S,
  options: { retentionMs: number; clock: Clock },
): LogCollection<v.InferOutput<S>> {
  return {
    append: (record) => store.append(stream, options.clock.nowMs(), JSON.stringify(v.parse(schema, record))),
    async query(query) {
      const entries = await store.query(stream, query)
      return entries.flatMap((entry) => {
        const parsed = v.safeParse(schema, safeJson(entry.data))
        return parsed.success ? [{ id: entry.id, timeMs: entry.timeMs, record: parsed.output }] : []
      })
    },
    enforceRetention: () => store.trim(stream, options.clock.nowMs() - options.retentionMs),
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
