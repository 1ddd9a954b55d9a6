import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomToken } from '../../src/lib/index.ts'
import { createRedisStore } from '../../src/store/redis.ts'
import { StoreUnavailableError, type Store } from '../../src/store/store.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { storeContract } from './contract.ts'
import { expectLockExclusiveAcrossProcesses } from './lock-processes.ts'

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.dispose()
})

const freshNamespace = () => `test-${randomToken(6)}:`

storeContract('redis (two clients, one namespace)', async () => {
  const namespace = freshNamespace()
  const store = createRedisStore({ url: redis.url, namespace })
  const second = createRedisStore({ url: redis.url, namespace })
  return {
    store,
    second: () => second,
    dispose: async () => {
      await store.close()
      await second.close()
    },
  }
})

describe('redis store', () => {
  test('namespaces isolate documents, versions and logs of stores sharing one server', async () => {
    const one = createRedisStore({ url: redis.url, namespace: freshNamespace() })
    const two = createRedisStore({ url: redis.url, namespace: freshNamespace() })
    try {
      await one.put('shared/doc', 'one')
      await one.append('shared/log', 1, 'one')
      expect(await two.get('shared/doc')).toBeNull()
      expect(await two.list('shared/')).toEqual([])
      expect(await two.query('shared/log')).toEqual([])
      expect(await two.put('shared/doc', 'two', { ifAbsent: true })).not.toBeNull()
      expect((await one.get('shared/doc'))!.value).toBe('one')
    } finally {
      await one.close()
      await two.close()
    }
  })

  test('tail keeps append order for the last tailCapacity entries only; query still sees them all', async () => {
    const store = createRedisStore({ url: redis.url, namespace: freshNamespace(), tailCapacity: 3 })
    try {
      await store.appendMany('capped', [1, 2, 3, 4, 5].map((n) => ({ timeMs: n, data: `e${n}` })))
      expect((await store.tail('capped')).map((e) => e.data)).toEqual(['e3', 'e4', 'e5'])
      expect((await store.tail('capped', { afterId: '0' })).map((e) => e.data)).toEqual(['e3', 'e4', 'e5'])
      expect(await store.query('capped')).toHaveLength(5)
    } finally {
      await store.close()
    }
  })

  test('list works in a namespace that contains glob characters', async () => {
    const namespace = `test-[${randomToken(4)}]*?:`
    const store = createRedisStore({ url: redis.url, namespace })
    const neighbour = createRedisStore({ url: redis.url, namespace: namespace.replace('*?', 'xy') })
    try {
      await store.put('items/a', '1')
      await store.put('items/b', '2')
      await neighbour.put('items/c', '3')
      expect(await store.list('items/')).toEqual(['items/a', 'items/b'])
      expect(await neighbour.list('items/')).toEqual(['items/c'])
    } finally {
      await store.close()
      await neighbour.close()
    }
  })

  test('a lock over one Redis is never held by two OS processes at once', async () => {
    const namespace = freshNamespace()
    const observer = createRedisStore({ url: redis.url, namespace })
    try {
      await expectLockExclusiveAcrossProcesses(observer, { kind: 'redis', url: redis.url, namespace })
    } finally {
      await observer.close()
    }
  })
})

describe('redis store outage', () => {
  // Its own server, so stopping it cannot disturb the suites above.
  let own: TestRedis
  beforeAll(async () => {
    own = await startRedis()
  })
  afterAll(async () => {
    await own?.dispose()
  })

  const operations = (store: Store): Record<string, () => Promise<unknown>> => ({
    get: () => store.get('outage/doc'),
    put: () => store.put('outage/doc', 'v'),
    putIfAbsent: () => store.put('outage/new', 'v', { ifAbsent: true, ttlMs: 1_000 }),
    del: () => store.del('outage/doc', { ifVersion: 1 }),
    take: () => store.take('outage/doc'),
    list: () => store.list('outage/'),
    append: () => store.append('outage/log', 1, 'x'),
    appendMany: () => store.appendMany('outage/log', [{ timeMs: 1, data: 'x' }]),
    query: () => store.query('outage/log'),
    tail: () => store.tail('outage/log'),
    trim: () => store.trim('outage/log', 10),
    trimToCount: () => store.trimToCount('outage/log', 10),
    ping: () => store.ping(),
  })

  /** Runs every operation at once; each must reject with StoreUnavailableError within limitMs. */
  async function expectAllUnavailable(store: Store, limitMs: number): Promise<void> {
    const settled = await Promise.all(
      Object.entries(operations(store)).map(async ([name, run]) => {
        const started = Date.now()
        const outcome = await run().then(
          (value) => ({ resolved: value }),
          (error: unknown) => ({ rejected: error }),
        )
        return { name, outcome, ms: Date.now() - started }
      }),
    )
    for (const { name, outcome, ms } of settled) {
      expect({ name, unavailable: 'rejected' in outcome && outcome.rejected instanceof StoreUnavailableError }).toEqual({
        name,
        unavailable: true,
      })
      expect({ name, withinLimit: ms < limitMs }).toEqual({ name, withinLimit: true })
    }
  }

  test('while Redis is down every operation rejects with StoreUnavailableError within seconds, and the same store recovers when it is back', async () => {
    const store = createRedisStore({ url: own.url, namespace: freshNamespace() })
    try {
      expect(await store.put('outage/doc', 'before')).not.toBeNull()
      await own.stop()
      await expectAllUnavailable(store, 5_000)
      // Still unavailable (not hanging) after the client has been reconnecting for a while.
      await expectAllUnavailable(store, 5_000)
      await own.start()
      await waitFor(() => store.ping().then(() => true), { timeoutMs: 10_000, what: 'store to recover' })
      // The test server keeps nothing across restarts; the point is that the same instance works again.
      const version = await store.put('outage/doc', 'after')
      expect(await store.get('outage/doc')).toEqual({ value: 'after', version: version! })
      await store.append('outage/log', 1, 'after')
      expect((await store.query('outage/log')).map((e) => e.data)).toEqual(['after'])
    } finally {
      await store.close()
    }
  }, 30_000)

  test('a store created while Redis is down rejects with StoreUnavailableError, then works once Redis starts', async () => {
    await own.stop()
    const store = createRedisStore({ url: own.url, namespace: freshNamespace() })
    try {
      await expectAllUnavailable(store, 5_000)
      await own.start()
      await waitFor(() => store.ping().then(() => true), { timeoutMs: 10_000, what: 'store to connect' })
      expect(await store.put('late/doc', 'v', { ifAbsent: true })).not.toBeNull()
    } finally {
      await store.close()
    }
  }, 30_000)
})
