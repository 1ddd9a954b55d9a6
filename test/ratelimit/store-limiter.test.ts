/**
 * The store-held limits (authorization server, management API): GCRA by compare-and-set, on the
 * embedded store and on Redis, where two "nodes" (two Store connections, two limiters) share one
 * count, also when their checks race; a refused client is refused from memory until its retry-after
 * (shown with Redis stopped: no round trip is made), and a store that does not answer admits.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger, createManualClock, type Clock } from '../../src/lib/index.ts'
import { createRateLimitCounts, createStoreRateLimiter, type RateLimit, type RateLimitCounts } from '../../src/ratelimit/index.ts'
import { createEmbeddedStore, createRedisStore, keys, type Store } from '../../src/store/index.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'

const LIMIT: RateLimit = { perSecond: 2, burst: 4 }
const logger = createLogger('silent')

function limiterOn(store: Store, clock: Clock, counts: RateLimitCounts = createRateLimitCounts(), limit = LIMIT) {
  return createStoreRateLimiter('oauth', limit, { store, clock, logger, counts })
}

async function admittedOf(checks: Promise<{ isAdmitted: boolean }>[]): Promise<number> {
  return (await Promise.all(checks)).filter((verdict) => verdict.isAdmitted).length
}

describe('store rate limiter on the embedded store', () => {
  test('under the limit every request is admitted; over it, refused with the wait until the next', async () => {
    const clock = createManualClock()
    const store = createEmbeddedStore({ dataDir: ':memory:', clock })
    const counts = createRateLimitCounts()
    const limiter = limiterOn(store, clock, counts)
    for (let i = 0; i < 4; i++) expect(await limiter.check('203.0.113.1')).toEqual({ isAdmitted: true })
    expect(await limiter.check('203.0.113.1')).toEqual({ isAdmitted: false, retryAfterMs: 500 })
    // Another client is not affected.
    expect(await limiter.check('203.0.113.2')).toEqual({ isAdmitted: true })
    expect(counts.snapshot()).toEqual({ oauth: 1, registration: 0, api_address: 0, api_token: 0, proxy: 0 })
    await store.close()
  })

  test('after the retry-after the client is admitted again, at the sustained rate', async () => {
    const clock = createManualClock()
    const store = createEmbeddedStore({ dataDir: ':memory:', clock })
    const limiter = limiterOn(store, clock)
    for (let i = 0; i < 4; i++) await limiter.check('c')
    expect((await limiter.check('c')).isAdmitted).toBe(false)
    clock.advanceMs(499)
    expect(await limiter.check('c')).toEqual({ isAdmitted: false, retryAfterMs: 1 })
    clock.advanceMs(1)
    expect(await limiter.check('c')).toEqual({ isAdmitted: true })
    expect((await limiter.check('c')).isAdmitted).toBe(false)
    await store.close()
  })

  test('the bucket is one document with a TTL: it expires when the bucket is full again', async () => {
    const clock = createManualClock()
    const store = createEmbeddedStore({ dataDir: ':memory:', clock })
    const limiter = limiterOn(store, clock)
    const key = keys.rateLimit('oauth', '2001:db8::/64')
    await limiter.check('2001:db8::/64')
    expect(Number((await store.get(key))?.value)).toBe(clock.nowMs() + 500)
    expect(await store.list('ratelimit/')).toEqual([key])
    clock.advanceMs(501)
    expect(await store.get(key)).toBeNull()
    await store.close()
  })

  test('one node racing itself: many concurrent checks of one client admit exactly the burst', async () => {
    const clock = createManualClock()
    const store = createEmbeddedStore({ dataDir: ':memory:', clock })
    const limiter = limiterOn(store, clock)
    expect(await admittedOf(Array.from({ length: 40 }, () => limiter.check('flood')))).toBe(4)
    await store.close()
  })
})

describe('store rate limiter on Redis: two nodes share the count', () => {
  let redis: TestRedis
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.dispose()
  })

  const nodes = (namespace: string, clock: Clock, limit = LIMIT) => {
    const stores = [createRedisStore({ url: redis.url, namespace }), createRedisStore({ url: redis.url, namespace })]
    const counts = createRateLimitCounts()
    return { stores, counts, limiters: stores.map((store) => limiterOn(store, clock, counts, limit)), close: () => Promise.all(stores.map((store) => store.close())) }
  }

  test('requests alternating between two nodes are counted together', async () => {
    const clock = createManualClock()
    const { limiters, close } = nodes('rl-alternate:', clock)
    const verdicts = []
    for (let i = 0; i < 6; i++) verdicts.push((await limiters[i % 2]!.check('203.0.113.9')).isAdmitted)
    expect(verdicts).toEqual([true, true, true, true, false, false])
    await close()
  })

  test('concurrent checks on two nodes (compare-and-set races) admit exactly the burst, never more', async () => {
    const clock = createManualClock()
    const limit = { perSecond: 1, burst: 25 }
    const { limiters, close } = nodes('rl-race:', clock, limit)
    const checks = Array.from({ length: 120 }, (_, i) => limiters[i % 2]!.check('racer'))
    expect(await admittedOf(checks)).toBe(25)
    await close()
  })

  test('a refused client is refused from memory until its retry-after: no store round trip (Redis is down meanwhile)', async () => {
    const clock = createManualClock()
    const { limiters, counts, close } = nodes('rl-blocked:', clock)
    const [node] = limiters
    for (let i = 0; i < 4; i++) await node!.check('blocked')
    expect((await node!.check('blocked')).isAdmitted).toBe(false)
    await redis.stop()
    try {
      // Refused without asking Redis; a store round trip would fail and admit (the outage rule, below).
      expect(await node!.check('blocked')).toEqual({ isAdmitted: false, retryAfterMs: 500 })
      clock.advanceMs(300)
      expect(await node!.check('blocked')).toEqual({ isAdmitted: false, retryAfterMs: 200 })
      // A client the node has not refused is checked in the store: unreachable, so admitted.
      expect(await node!.check('someone-else')).toEqual({ isAdmitted: true })
      expect(counts.snapshot().oauth).toBe(3)
    } finally {
      await redis.start()
    }
    await close()
  }, 20_000)
})
