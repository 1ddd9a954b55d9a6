/**
 * One namespace for external and Docker services (#14): the name claim, on the embedded store and on a
 * real Redis, with the other kind's documents written as their modules write them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createManualClock } from '../../src/lib/index.ts'
import { COLLECTIONS, createEmbeddedStore, createRedisStore, createServiceNames, keys, type Store } from '../../src/store/index.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.dispose()
})

const ADAPTERS: [string, (clock: ReturnType<typeof createManualClock>) => Store][] = [
  ['embedded', (clock) => createEmbeddedStore({ dataDir: ':memory:', clock })],
  ['redis', () => createRedisStore({ url: redis.url, namespace: `names-${crypto.randomUUID()}` })],
]

for (const [adapter, open] of ADAPTERS) {
  describe(`service name claims (${adapter})`, () => {
    const setup = () => {
      const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
      const store = open(clock)
      return { clock, store, names: createServiceNames(store, clock) }
    }

    test('a name is claimed once, whatever the kind; the refusal names the kind that holds it', async () => {
      const { store, names } = setup()
      const first = await names.claim('billing', 'docker')
      expect(first.held).toBe(true)
      expect(await names.claim('billing', 'external')).toEqual({ held: false, by: 'docker' })
      expect(await names.claim('billing', 'docker')).toEqual({ held: false, by: 'docker' })
      expect(await names.holderOf('billing')).toBe('docker')
      expect(await names.holderOf('other')).toBeNull()
      await store.close()
    })

    test('of 20 concurrent claims of one name, of both kinds, exactly one holds it', async () => {
      const { store, names } = setup()
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => names.claim('race', i % 2 ? 'docker' : 'external')))
      expect(results.filter((result) => result.held)).toHaveLength(1)
      await store.close()
    })

    test('release frees only the claim its token was given for', async () => {
      const { store, names } = setup()
      const first = await names.claim('app', 'docker')
      if (!first.held) throw new Error('expected the claim')
      await names.release('app', 'not-the-token')
      expect(await names.holderOf('app')).toBe('docker')
      await names.release('app', first.token)
      expect(await names.holderOf('app')).toBeNull()
      const second = await names.claim('app', 'external')
      expect(second.held).toBe(true)
      // A late release by the first holder leaves its successor's claim alone.
      await names.release('app', first.token)
      await names.releaseKind('app', 'docker')
      expect(await names.holderOf('app')).toBe('external')
      await names.releaseKind('app', 'external')
      expect(await names.holderOf('app')).toBeNull()
      await store.close()
    })

    test('a service stored before names were claimed (a document, no claim) keeps its name from the other kind', async () => {
      const { store, names } = setup()
      const doc = { service_name: 'legacy', target_url: 'http://127.0.0.1:9', description: '', created_by: null, created_at: 'x', updated_at: 'x' }
      await store.put(keys.inCollection(COLLECTIONS.externalServices, 'legacy'), JSON.stringify(doc))
      expect(await names.claim('legacy', 'docker')).toEqual({ held: false, by: 'external' })
      // The refused claim was not left behind.
      expect(await names.holderOf('legacy')).toBeNull()
      await store.close()
    })

    test('an abandoned claim (no service document, older than the grace) is taken over; a fresh or live one is not', async () => {
      const { clock, store, names } = setup()
      expect((await names.claim('crashed', 'external')).held).toBe(true)
      clock.advanceMs(29_000)
      expect(await names.claim('crashed', 'docker')).toEqual({ held: false, by: 'external' })
      expect(await names.stale('external')).toEqual([])
      clock.advanceMs(2_000)
      expect(await names.stale('external')).toEqual(['crashed'])
      expect((await names.claim('crashed', 'docker')).held).toBe(true)
      // A Docker creation may pull or build for minutes: its claim stays respected for 30 minutes.
      clock.advanceMs(29 * 60_000)
      expect(await names.claim('crashed', 'external')).toEqual({ held: false, by: 'docker' })
      clock.advanceMs(2 * 60_000)
      expect(await names.stale('docker')).toEqual(['crashed'])
      // With its document stored the claim is live, however old.
      await store.put(keys.inCollection(COLLECTIONS.dockerServices, 'crashed'), '{}')
      expect(await names.stale('docker')).toEqual([])
      expect(await names.claim('crashed', 'external')).toEqual({ held: false, by: 'docker' })
      await store.close()
    })
  })
}
