/**
 * @module The creation order of routes across nodes: one counter document, incremented by
 * compare-and-set, gives every new route a number larger than any route created before it anywhere.
 * Equal priorities are ordered by it, so every node matches in the same order (the original used Redis
 * scan order, which differs between calls).
 */
import { keys, StoreCorruptionError, type Store } from '../store/index.ts'
import { RouteError } from './errors.ts'

/** Route creation is rare; this many lost races in a row means something is wrong, and the client may retry. */
const MAX_ATTEMPTS = 50

export async function nextRouteSequence(store: Store): Promise<number> {
  const key = keys.routeSequence()
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await store.get(key)
    const count = current === null ? 0 : Number(current.value)
    if (!Number.isSafeInteger(count) || count < 0) throw new StoreCorruptionError(key, 'not a count')
    const written = await store.put(key, String(count + 1), current === null ? { ifAbsent: true } : { ifVersion: current.version })
    if (written !== null) return count + 1
  }
  throw new RouteError('conflict', 'too many routes are being created at once; retry')
}
