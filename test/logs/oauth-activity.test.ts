/**
 * The OAuth activity log on both store adapters: what record() keeps (bounded, nothing extra), the
 * filters and cursor paging of query(), retention by age (LOG_RETENTION) and by count, and that a full
 * queue or a store that does not answer costs events, never the request that caused them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger, createManualClock, randomToken } from '../../src/lib/index.ts'
import { createOAuthActivityLog, InvalidCursorError, type OAuthActivityLog, type OAuthEventInput } from '../../src/logs/index.ts'
import { createEmbeddedStore, createRedisStore, STREAMS, type Store } from '../../src/store/index.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'

const HOUR_MS = 3_600_000
const START = Date.UTC(2026, 11, 1, 12)

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis?.dispose())

const adapters: [string, () => Store][] = [
  ['embedded', () => createEmbeddedStore({ dataDir: ':memory:' })],
  ['redis', () => createRedisStore({ url: redis.url, namespace: `activity-${randomToken(6)}:` })],
]

function setup(makeStore: () => Store, options: { retentionMs?: number; maxEvents?: number; maxPending?: number } = {}) {
  const store = makeStore()
  const clock = createManualClock(START)
  const log = createOAuthActivityLog({ store, clock, logger: createLogger('silent'), nodeId: 'node-a', retentionMs: options.retentionMs ?? 7 * 24 * HOUR_MS, ...options })
  return { store, clock, log }
}

const event = (input: Partial<OAuthEventInput> = {}): OAuthEventInput => ({ type: 'login', user: 'alice', user_id: '1001', client_id: 'client-a', resource: 'https://app.test', scopes: ['mcp'], grant: 'authorization_code', ip: '192.0.2.1', user_agent: 'agent', ...input })

/** Every event of a listing, following the cursor. */
async function allPages(log: OAuthActivityLog, limit: number, order: 'newest' | 'oldest' = 'newest') {
  const ids: string[] = []
  let cursor: string | undefined
  for (;;) {
    const page = await log.query({}, { limit, order, ...(cursor ? { cursor } : {}) })
    ids.push(...page.events.map((item) => item.id))
    if (page.nextCursor === null) return ids
    cursor = page.nextCursor
  }
}

for (const [name, makeStore] of adapters) {
  describe(`${name} store`, () => {
    test('record keeps the listed fields, stamped with time and node; anything else an input carries is dropped', async () => {
      const { log, clock } = setup(makeStore)
      const input = { ...event(), access_token: 'at-secret', code: 'code-secret' } as OAuthEventInput
      log.record(input)
      clock.advanceMs(5)
      log.record(event({ type: 'client_registered', user: undefined, user_id: undefined, scopes: undefined, grant: undefined, ip: '::ffff:198.51.100.4', user_agent: null }))
      const { events, nextCursor } = await log.query({}, { limit: 10 })
      expect(nextCursor).toBeNull()
      expect(events.map((item) => item.type)).toEqual(['client_registered', 'login'])
      expect(events[1]).toEqual({
        id: expect.any(String),
        time: new Date(START).toISOString(),
        time_ms: START,
        type: 'login',
        node: 'node-a',
        user: 'alice',
        user_id: '1001',
        client_id: 'client-a',
        resource: 'https://app.test',
        scopes: ['mcp'],
        grant: 'authorization_code',
        reason: null,
        ip: '192.0.2.1',
        user_agent: 'agent',
      })
      // The IPv4-mapped spelling of a dual-stack listener is stored as the IPv4 address (RFC 4291 §2.5.5.2).
      expect(events[0]).toMatchObject({ user: null, scopes: null, grant: null, ip: '198.51.100.4', user_agent: null })
      expect(JSON.stringify(events)).not.toContain('secret')
    })

    test('fields are bounded and a user agent loses its control characters', async () => {
      const { log, store } = setup(makeStore)
      log.record(event({ user_agent: `evil\r\nX-Injected: 1${'a'.repeat(1000)}`, reason: 'r'.repeat(500), scopes: Array.from({ length: 40 }, (_, i) => `s${i}`) }))
      const [stored] = (await log.query({}, { limit: 1 })).events
      expect(stored!.user_agent).toHaveLength(256)
      expect(stored!.user_agent).not.toMatch(/[\r\n]/)
      expect(stored!.reason).toHaveLength(200)
      expect(stored!.scopes).toHaveLength(16)
      expect((await store.query(STREAMS.oauth)).length).toBe(1)
    })

    test('filters: user (any case), client, ip (either spelling), types, resource host, time window', async () => {
      const { log, clock } = setup(makeStore)
      log.record(event({ user: 'Alice', ip: '192.0.2.1' }))
      clock.advanceMs(1000)
      log.record(event({ type: 'token_issued', user: 'bob', client_id: 'client-b', resource: 'https://other.test:8443/mcp', ip: '2001:db8::1' }))
      clock.advanceMs(1000)
      log.record(event({ type: 'login_refused', user: 'alice', reason: 'user_not_allowed' }))
      const types = async (filter: Parameters<OAuthActivityLog['query']>[0]) => (await log.query(filter, { limit: 100 })).events.map((item) => `${item.type}:${item.user}`)
      expect(await types({ user: 'ALICE' })).toEqual(['login_refused:alice', 'login:Alice'])
      expect(await types({ clientId: 'client-b' })).toEqual(['token_issued:bob'])
      expect(await types({ ip: '2001:db8::1' })).toEqual(['token_issued:bob'])
      expect(await types({ ip: '::ffff:192.0.2.1' })).toEqual(['login_refused:alice', 'login:Alice'])
      expect(await types({ types: ['login', 'token_issued'] })).toEqual(['token_issued:bob', 'login:Alice'])
      expect(await types({ resourceHost: 'OTHER.test' })).toEqual(['token_issued:bob'])
      expect(await types({ fromMs: START + 1000, toMs: START + 1000 })).toEqual(['token_issued:bob'])
      expect(await types({ user: 'alice', types: ['login_refused'], fromMs: START + 2000 })).toEqual(['login_refused:alice'])
      expect(await types({ user: 'carol' })).toEqual([])
    })

    test('cursor paging in both orders covers every event once, also with many at the same millisecond, and new events shift no page', async () => {
      const { log, clock } = setup(makeStore)
      for (let i = 0; i < 23; i++) {
        log.record(event({ reason: `n${i}` }))
        if (i % 5 === 0) clock.advanceMs(1)
      }
      const newest = await allPages(log, 4)
      expect(newest).toHaveLength(23)
      expect(new Set(newest).size).toBe(23)
      expect(await allPages(log, 7, 'oldest')).toEqual([...newest].reverse())

      const first = await log.query({}, { limit: 10 })
      clock.advanceMs(10)
      for (let i = 0; i < 5; i++) log.record(event({ reason: 'late' }))
      const second = await log.query({}, { limit: 100, cursor: first.nextCursor! })
      expect([...first.events, ...second.events].map((item) => item.id)).toEqual(newest)
    })

    test('a filtered page that reads its scan budget returns what it found and a cursor to go on', async () => {
      const { log } = setup(makeStore)
      for (let i = 0; i < 1200; i++) log.record(event({ user: i === 3 || i === 1100 ? 'needle' : 'hay' }))
      const pages: string[][] = []
      let cursor: string | undefined
      do {
        const page = await log.query({ user: 'needle' }, { limit: 10, scanBudget: 500, ...(cursor ? { cursor } : {}) })
        pages.push(page.events.map((item) => item.reason ?? item.user!))
        cursor = page.nextCursor ?? undefined
      } while (cursor)
      // 1,200 events, 500 a page: the newer needle on the first page, the older on the third.
      expect(pages).toEqual([['needle'], [], ['needle']])
    })

    test('a cursor not of this API is refused', async () => {
      const { log } = setup(makeStore)
      log.record(event())
      for (const cursor of ['', 'not a cursor', Buffer.from('x1.2').toString('base64url'), 'A'.repeat(100)]) {
        await expect(log.query({}, { limit: 1, cursor })).rejects.toBeInstanceOf(InvalidCursorError)
      }
    })

    test('retention: events older than LOG_RETENTION go, and at most maxEvents stay', async () => {
      const { log, clock } = setup(makeStore, { retentionMs: 24 * HOUR_MS, maxEvents: 3 })
      log.record(event({ reason: 'old' }))
      clock.advanceMs(25 * HOUR_MS)
      for (const reason of ['a', 'b', 'c', 'd']) log.record(event({ reason }))
      await log.flush()
      expect(await log.enforceRetention()).toBe(2)
      expect((await log.query({}, { limit: 10 })).events.map((item) => item.reason)).toEqual(['d', 'c', 'b'])
    })
  })
}

describe('back-pressure and outages cost events, never the caller', () => {
  test('beyond maxPending queued events, record drops and counts', async () => {
    const { log } = setup(adapters[0]![1], { maxPending: 3 })
    for (let i = 0; i < 5; i++) log.record(event())
    expect(log.dropped).toBe(2)
    expect((await log.query({}, { limit: 10 })).events).toHaveLength(3)
  })

  test('a store that does not answer: record neither throws nor waits; the batch is dropped and counted; later events are kept', async () => {
    const port = redis.port
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, namespace: `activity-${randomToken(6)}:`, commandTimeoutMs: 300 })
    const log = createOAuthActivityLog({ store, clock: createManualClock(START), logger: createLogger('silent'), nodeId: 'n', retentionMs: HOUR_MS })
    await redis.stop()
    try {
      const started = performance.now()
      log.record(event())
      expect(performance.now() - started).toBeLessThan(50)
      await log.flush()
      expect(log.dropped).toBe(1)
    } finally {
      await redis.start()
    }
    log.record(event({ reason: 'after' }))
    await log.flush()
    expect((await log.query({}, { limit: 10 })).events.map((item) => item.reason)).toEqual(['after'])
    await store.close()
  }, 20_000)
})
