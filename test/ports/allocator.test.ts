import { afterAll, beforeAll } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomToken } from '../../src/lib/index.ts'
import { createEmbeddedStore, createRedisStore, type Store } from '../../src/store/index.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { allocatorContract, type Backend } from './allocator-contract.ts'

/** Tracks every Store a test opens, so dispose() closes each exactly once (even one a test closed to simulate a restart). */
function backend(openStore: () => Store, cleanup: () => Promise<void> | void = () => {}): Backend {
  const open = new Set<Store>()
  return {
    open() {
      const inner = openStore()
      const store: Store = { ...inner, close: async () => void (open.delete(store) && (await inner.close())) }
      open.add(store)
      return store
    },
    async dispose() {
      for (const store of [...open]) await store.close()
      await cleanup()
    },
  }
}

allocatorContract('embedded (store instances on one SQLite file)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ohp-ports-'))
  return backend(
    () => createEmbeddedStore({ dataDir }),
    () => rmSync(dataDir, { recursive: true, force: true }),
  )
})

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.dispose()
})

allocatorContract('redis (clients sharing one namespace)', async () => {
  const namespace = `test-${randomToken(6)}:`
  return backend(() => createRedisStore({ url: redis.url, namespace }))
})
