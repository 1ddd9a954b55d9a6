/**
 * Browser sessions across nodes and in each node's cache: two nodes on one real Redis (store and event
 * stream) share sessions, a sign-out on one is refused on the other within a second, a refresh on one
 * is picked up by the other; the cache is bounded and re-reads the store after its maximum age.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { createBrowserLogin, SESSION_COOKIE, type BrowserLoginService } from '../../src/auth/index.ts'
import { createMemoryBus, createRedisBus, type EventBus } from '../../src/events/index.ts'
import { createLogger, createManualClock, sha256Hex } from '../../src/lib/index.ts'
import { COLLECTIONS, createEmbeddedStore, createRedisStore, keys, type Store } from '../../src/store/index.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { ACCESS_TTL_SEC, ALICE, ISSUER, ORIGIN, PROXY, sessionTokenOf, signIn, startLoginNode, TestBrowser, type LoginNode } from '../support/browser-login.ts'

describe('two nodes on one Redis', () => {
  let redis: TestRedis
  const started: { node: LoginNode; store: Store; bus: EventBus }[] = []
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterEach(async () => {
    for (const { node, store, bus } of started.splice(0)) {
      node.close()
      await bus.stop()
      await store.close()
    }
  })
  afterAll(async () => {
    await redis.dispose()
  })

  async function nodes(clock = createManualClock(Date.UTC(2026, 11, 1, 12))) {
    const namespace = `browser-${crypto.randomUUID()}:`
    const make = async (nodeId: string) => {
      const store = createRedisStore({ url: redis.url, namespace })
      const bus = createRedisBus({ url: redis.url, nodeId, namespace, logger: createLogger('error'), blockMs: 100 })
      await bus.start()
      const node = await startLoginNode(store, bus, clock)
      started.push({ node, store, bus })
      return node
    }
    return { a: await make('a'), b: await make('b'), clock }
  }

  test('a session made on node A is known on node B (from the store, then from its cache)', async () => {
    const { a, b } = await nodes()
    const browser = new TestBrowser()
    await signIn(a, browser)
    const onA = a.login.sessionToken(browser.request('/'))
    const first = b.login.sessionToken(browser.request('/'))
    expect(first).toBeInstanceOf(Promise)
    expect(await first).toBe(onA as string)
    expect(b.login.sessionToken(browser.request('/'))).toBe(onA as string)
  })

  test('a session ended on node A is refused on node B within a second (session_ended over the event stream)', async () => {
    const { a, b } = await nodes()
    const browser = new TestBrowser()
    await signIn(a, browser)
    await sessionTokenOf(b, browser)
    expect(typeof b.login.sessionToken(browser.request('/'))).toBe('string')

    const signedOutAt = performance.now()
    await a.login.signOut(browser.request('/_oauth/logout', 'POST'))
    // Node B's cache entry is still fresh by its clock (manual, not advanced): only the event can evict it.
    while (typeof b.login.sessionToken(browser.request('/')) === 'string') {
      if (performance.now() - signedOutAt > 1_000) throw new Error('node B still answered from its cache a second after the sign-out')
      await Bun.sleep(10)
    }
    expect(await sessionTokenOf(b, browser)).toBeNull()
    expect(b.events.filter((event) => event.type === 'session_ended')).toEqual([{ type: 'session_ended', sessionHash: sha256Hex(browser.jar.get(SESSION_COOKIE)!) }])
  })

  test('a token refreshed on node A is taken from the store on node B, not refreshed twice', async () => {
    const { a, b, clock } = await nodes()
    const browser = new TestBrowser()
    await signIn(a, browser)
    await sessionTokenOf(b, browser)
    clock.advanceMs((ACCESS_TTL_SEC - 20) * 1000)
    const refreshedOnA = await sessionTokenOf(a, browser)
    expect(refreshedOnA).toBeString()
    const onB = await sessionTokenOf(b, browser)
    expect(onB).toBe(refreshedOnA)
    expect((await b.verify(onB!)).ok).toBe(true)
  })

  test('both nodes refreshing at once end with working tokens and one live family (the grace period, RFC 9700 §4.14.2)', async () => {
    const { a, b, clock } = await nodes()
    const browser = new TestBrowser()
    await signIn(a, browser)
    await sessionTokenOf(b, browser)
    clock.advanceMs((ACCESS_TTL_SEC - 20) * 1000)
    const [onA, onB] = await Promise.all([sessionTokenOf(a, browser), sessionTokenOf(b, browser)])
    expect((await a.verify(onA!)).ok).toBe(true)
    expect((await b.verify(onB!)).ok).toBe(true)
    expect(await a.grants.listFamilies('alice')).toHaveLength(1)
    expect(typeof a.login.sessionToken(browser.request('/'))).toBe('string')
  })
})

describe("one node's session cache", () => {
  const clock = createManualClock(Date.UTC(2026, 11, 1, 12))
  let node: LoginNode
  let sessions: BrowserLoginService | null = null
  afterEach(async () => {
    sessions?.close()
    node.close()
    await node.store.close()
  })

  /** A second BrowserLogin on the node's grants with a small cache; sessions are made by its own sign-in. */
  async function withCache(sessionCache: { maxEntries?: number; maxAgeMs?: number }) {
    node = await startLoginNode(createEmbeddedStore({ dataDir: ':memory:', clock }), createMemoryBus(createLogger('error')), clock)
    const { grants } = node
    sessions = createBrowserLogin({
      store: node.store,
      bus: node.bus,
      clock,
      logger: createLogger('silent'),
      issuer: ISSUER,
      authorizationEndpoint: `${ISSUER}/authorize`,
      sessionTtlSec: 86_400,
      sessionCache,
      async exchangeCode(input) {
        const result = await grants.exchangeAuthorizationCode({ ...input, issuer: ISSUER })
        if (!result.ok) return { ok: false, reason: result.reason }
        const tokens = result.tokens
        return { ok: true, tokens: { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, accessExpiresAtSec: Math.floor(clock.nowMs() / 1000) + tokens.expires_in, username: ALICE.username } }
      },
      refresh: async () => ({ ok: false, reason: 'not in this test' }),
      revoke: async (token, clientId) => {
        await grants.revoke(token, clientId)
      },
    })
    return { ...node, login: sessions }
  }

  test('is bounded: the least recently used session is read from the store again', async () => {
    const small = await withCache({ maxEntries: 2 })
    const browsers = [new TestBrowser(), new TestBrowser(), new TestBrowser()]
    for (const browser of browsers.slice(0, 2)) await signIn(small, browser)
    expect(typeof small.login.sessionToken(browsers[0]!.request('/'))).toBe('string')
    await signIn(small, browsers[2]!)
    // browsers[0] was used last before [2] signed in, so [1] went.
    expect(typeof small.login.sessionToken(browsers[0]!.request('/'))).toBe('string')
    expect(small.login.sessionToken(browsers[1]!.request('/'))).toBeInstanceOf(Promise)
    expect(await sessionTokenOf(small, browsers[1]!)).toBeString()
  })

  test('re-reads the store after its maximum age, so a session_ended a node missed holds within a minute', async () => {
    const aged = await withCache({ maxAgeMs: 60_000 })
    const browser = new TestBrowser()
    await signIn(aged, browser)
    // As if another node ended it and this node never heard: only the store knows.
    await node.store.del(keys.inCollection(COLLECTIONS.authSessions, sha256Hex(browser.jar.get(SESSION_COOKIE)!)))
    expect(typeof aged.login.sessionToken(browser.request('/'))).toBe('string')
    clock.advanceMs(60_000)
    expect(await sessionTokenOf(aged, browser)).toBeNull()
  })

  test('a session whose token has 30 s or less left is not answered from the cache', async () => {
    // A maximum age beyond the token's life, so only the token's exp decides.
    const fresh = await withCache({ maxAgeMs: 2 * ACCESS_TTL_SEC * 1000 })
    const browser = new TestBrowser()
    await signIn(fresh, browser)
    clock.advanceMs((ACCESS_TTL_SEC - 31) * 1000)
    expect(typeof fresh.login.sessionToken(browser.request('/'))).toBe('string')
    clock.advanceMs(1_000)
    const refreshing = fresh.login.sessionToken(browser.request('/'))
    expect(refreshing).toBeInstanceOf(Promise)
    // This node's refresh is refused (see withCache): the session ends rather than serve a token about to expire.
    expect(await refreshing).toBeNull()
  })

  test('the cookie and proxy must match: a token cached for one proxy is not one for another', async () => {
    const scoped = await withCache({})
    const browser = new TestBrowser()
    await signIn(scoped, browser)
    const request = browser.request('/')
    expect(typeof scoped.login.sessionToken(request)).toBe('string')
    expect(await scoped.login.sessionToken({ ...request, proxyHostname: `x.${PROXY}` })).toBeNull()
    expect(await scoped.login.sessionToken({ ...request, resource: `${ORIGIN}:8443` })).toBeNull()
  })
})
