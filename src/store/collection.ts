/**
 * @module Typed document collections over the Store: every write and every read is validated with
 * the collection's valibot schema, so a bad document can neither get in nor be served.
 */
import * as v from 'valibot'
import { yieldToEventLoop } from '../lib/index.ts'
import { keys, unsafe } from './keys.ts'
import { StoreCorruptionError, type PutOptions, type Store } from './store.ts'

export interface Versioned<T> {
  readonly value: T
  readonly version: number
}

export interface Collection<T> {
  get(id: string): Promise<Versioned<T> | null>
  /** Returns the new version, or null when ifAbsent / ifVersion did not hold. */
  put(id: string, value: T, options?: PutOptions): Promise<number | null>
  del(id: string, options?: { ifVersion?: number }): Promise<boolean>
  take(id: string): Promise<T | null>
  ids(): Promise<string[]>
  list(): Promise<{ id: string; value: T }[]>
}

/** Documents list() reads between two turns of the event loop. */
const LIST_SLICE = 256

export function createCollection<S extends v.GenericSchema>(store: Store, prefix: string, schema: S): Collection<v.InferOutput<S>> {
  type T = v.InferOutput<S>
  const keyOf = (id: string) => keys.inCollection(prefix, id)
  const decode = (key: string, text: string): T => {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new StoreCorruptionError(key, 'not JSON')
    }
    const result = v.safeParse(schema, json)
    if (!result.success) throw new StoreCorruptionError(key, v.summarize(result.issues))
    return result.output
  }
  // Writes go through the schema too: a caller bug must not be able to store what reads would reject.
  const encode = (value: T): string => JSON.stringify(v.parse(schema, value))

  const collection: Collection<T> = {
    async get(id) {
      const doc = await store.get(keyOf(id))
      return doc && { value: decode(keyOf(id), doc.value), version: doc.version }
    },
    put: (id, value, options) => store.put(keyOf(id), encode(value), options),
    del: (id, options) => store.del(keyOf(id), options),
    async take(id) {
      const text = await store.take(keyOf(id))
      return text === null ? null : decode(keyOf(id), text)
    },
    async ids() {
      return (await store.list(prefix)).map((key) => unsafe(key.slice(prefix.length)))
    },
    async list() {
      const found: { id: string; value: T }[] = []
      const ids = await collection.ids()
      for (let i = 0; i < ids.length; i++) {
        // The embedded store answers at once, so awaiting each get never let a request in: listing
        // 10,000 routes (read, parse, validate) held the thread serving requests for some 150 ms.
        if (i > 0 && i % LIST_SLICE === 0) await yieldToEventLoop()
        const doc = await collection.get(ids[i]!)
        if (doc) found.push({ id: ids[i]!, value: doc.value })
      }
      return found
    },
  }
  return collection
}
