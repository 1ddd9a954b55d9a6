/**
 * @module Exclusive, expiring locks for work that one node of many must do (ACME issuance, key
 * generation). Built on the Store's ifAbsent write and version-checked delete, so it is exactly as
 * atomic as the adapter: across processes on SQLite, across nodes on Redis.
 */
import { randomToken } from '../lib/index.ts'
import { keys } from './keys.ts'
import type { Store } from './store.ts'

export interface Lock extends AsyncDisposable {
  readonly name: string
  /** Releases the lock if this holder still owns it; a lock that expired and was taken over is left alone. */
  release(): Promise<void>
}

export interface LockOptions {
  /** The lock frees itself after this long, so a crashed holder cannot block others forever. */
  readonly ttlMs: number
  /** How long to keep trying before giving up (0: try once). */
  readonly waitMs?: number
  readonly retryMs?: number
}

export class LockTimeoutError extends Error {
  constructor(readonly lockName: string) {
    super(`could not acquire lock ${lockName}`)
    this.name = 'LockTimeoutError'
  }
}

/** Returns the lock, or null when someone else holds it. */
export async function tryLock(store: Store, name: string, ttlMs: number): Promise<Lock | null> {
  const key = keys.lock(name)
  const version = await store.put(key, randomToken(16), { ifAbsent: true, ttlMs })
  if (version === null) return null
  const release = async () => void (await store.del(key, { ifVersion: version }))
  return { name, release, [Symbol.asyncDispose]: release }
}

/**
 * Waits until the lock is free (or its holder's TTL has run out). Callers should re-check, once they
 * hold it, that the work is still needed: another holder may just have done it.
 */
export async function acquireLock(store: Store, name: string, options: LockOptions): Promise<Lock> {
  const deadline = Date.now() + (options.waitMs ?? 10_000)
  const retryMs = options.retryMs ?? 50
  for (;;) {
    const lock = await tryLock(store, name, options.ttlMs)
    if (lock) return lock
    if (Date.now() >= deadline) throw new LockTimeoutError(name)
    await Bun.sleep(retryMs + Math.random() * retryMs)
  }
}
