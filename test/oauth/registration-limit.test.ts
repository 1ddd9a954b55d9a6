/**
 * The per-address hourly registration counter (issue #13, OAUTH_REGISTRATIONS_PER_HOUR): what an address
 * counts as, and that the count is one across limiter instances (nodes) sharing a store — the embedded
 * one and a real Redis — also when requests race.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createManualClock } from '../../src/lib/index.ts'
import { addressBucket, createRegistrationLimiter } from '../../src/oauth/index.ts'
import { createEmbeddedStore, createRedisStore, type Store } from '../../src/store/index.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'

const HOUR_MS = 3_600_000

describe('addressBucket', () => {
  test('IPv4 as itself (a mapped one unwrapped), IPv6 by its /64 (RFC 4291 §2.5.4), anything else as unknown', () => {
    const cases: [string | null, string][] = [
      ['203.0.113.9', '203.0.113.9'],
      ['::ffff:203.0.113.9', '203.0.113.9'],
      ['2001:db8:a:b:1:2:3:4', '2001:db8:a:b::/64'],
      ['2001:db8:a:b::ffff', '2001:db8:a:b::/64'],
      ['2001:DB8:A:B::1', '2001:db8:a:b::/64'],
      ['2001:db8:a:c::1', '2001:db8:a:c::/64'],
      ['::1', '0:0:0:0::/64'],
      ['fe80::1%eth0', 'fe80:0:0:0::/64'],
      ['not an address', 'unknown'],
      [null, 'unknown'],
    ]
    for (const [address, bucket] of cases) expect([address, addressBucket(address)]).toEqual([address, bucket])
  })
})

/** Two "nodes" over stores that share their backing store: the count must be one. */
function sharedCountContract(name: string, open: () => Promise<[Store, Store]>) {
  describe(name, () => {
    test('two limiter instances share one count; the next hour starts again; other addresses are apart', async () => {
      const [a, b] = await open()
      const clock = createManualClock(Date.UTC(2026, 10, 27, 12, 30))
      const nodeA = createRegistrationLimiter(a, clock, 4)
      const nodeB = createRegistrationLimiter(b, clock, 4)
      const verdicts = []
      for (let i = 0; i < 6; i++) verdicts.push((await (i % 2 === 0 ? nodeA : nodeB).admit('198.51.100.1')).ok)
      expect(verdicts).toEqual([true, true, true, true, false, false])
      expect(await nodeB.admit('198.51.100.1')).toEqual({ ok: false, limit: 4, retryAfterSec: 1800 })
      expect((await nodeA.admit('198.51.100.2')).ok).toBe(true)
      clock.advanceMs(HOUR_MS / 2)
      expect((await nodeB.admit('198.51.100.1')).ok).toBe(true)
      await Promise.all([a.close(), b.close()])
    })

    test('racing requests never admit more than the limit', async () => {
      const [a, b] = await open()
      const clock = createManualClock(Date.UTC(2026, 10, 27, 13))
      const limiters = [createRegistrationLimiter(a, clock, 10), createRegistrationLimiter(b, clock, 10)]
      const verdicts = await Promise.all(Array.from({ length: 40 }, (_, i) => limiters[i % 2]!.admit('198.51.100.3')))
      const admitted = verdicts.filter((verdict) => verdict.ok).length
      // Compare-and-set: a lost race retries, and a request that keeps losing is refused, never counted twice.
      expect(admitted).toBeLessThanOrEqual(10)
      expect(admitted).toBeGreaterThan(0)
      // Sequentially, what the race left is still counted exactly.
      let more = 0
      while ((await limiters[0]!.admit('198.51.100.3')).ok) more++
      expect(admitted + more).toBe(10)
      await Promise.all([a.close(), b.close()])
    })

    test('0 turns the limit off', async () => {
      const [a, b] = await open()
      const off = createRegistrationLimiter(a, createManualClock(), 0)
      for (let i = 0; i < 50; i++) expect((await off.admit('198.51.100.4')).ok).toBe(true)
      expect(await a.list('oauth/registration-counts/')).toEqual([])
      await Promise.all([a.close(), b.close()])
    })
  })
}

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.dispose()
})

let namespaceSeq = 0
sharedCountContract('on Redis (two connections)', async () => {
  const namespace = `reg-limit-${++namespaceSeq}:`
  return [createRedisStore({ url: redis.url, namespace }), createRedisStore({ url: redis.url, namespace })]
})
sharedCountContract('on one embedded store', async () => {
  const store = createEmbeddedStore({ dataDir: ':memory:' })
  // One store object for both "nodes": closing it twice must be harmless.
  let closed = false
  const once = { ...store, close: async () => (closed ? undefined : ((closed = true), store.close())) }
  return [once, once]
})
