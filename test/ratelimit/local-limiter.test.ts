/** The data plane's limiter: per proxy and client address, in memory, synchronous; exemptions; bounded. */
import { describe, expect, test } from 'bun:test'
import { createExemptions, createLocalRateLimiter, createRateLimitCounts } from '../../src/ratelimit/index.ts'

function limiterAt(options: { exempt?: string[]; maxClientsPerGroup?: number } = {}) {
  let nowMs = 1_000
  const counts = createRateLimitCounts()
  const limiter = createLocalRateLimiter({ nowMs: () => nowMs, isExempt: createExemptions(options.exempt ?? []), counts, maxClientsPerGroup: options.maxClientsPerGroup })
  return { limiter, counts, advance: (ms: number) => void (nowMs += ms) }
}

const LIMIT = { perSecond: 2, burst: 3 }

describe('local rate limiter', () => {
  test('under the limit every request passes; over it, the wait until the next is admitted', () => {
    const { limiter, counts } = limiterAt()
    expect([1, 2, 3].map(() => limiter.admit('a.test', '203.0.113.1', LIMIT))).toEqual([0, 0, 0])
    expect(limiter.admit('a.test', '203.0.113.1', LIMIT)).toBe(500)
    expect(counts.snapshot().proxy).toBe(1)
  })

  test('after the retry-after the client is admitted again, at the sustained rate', () => {
    const { limiter, advance } = limiterAt()
    for (let i = 0; i < 3; i++) limiter.admit('a.test', '203.0.113.1', LIMIT)
    expect(limiter.admit('a.test', '203.0.113.1', LIMIT)).toBeGreaterThan(0)
    advance(500)
    expect(limiter.admit('a.test', '203.0.113.1', LIMIT)).toBe(0)
    expect(limiter.admit('a.test', '203.0.113.1', LIMIT)).toBe(500)
  })

  test('each client address and each proxy has a bucket of its own', () => {
    const { limiter } = limiterAt()
    for (let i = 0; i < 3; i++) limiter.admit('a.test', '203.0.113.1', LIMIT)
    expect(limiter.admit('a.test', '203.0.113.1', LIMIT)).toBeGreaterThan(0)
    expect(limiter.admit('a.test', '203.0.113.2', LIMIT)).toBe(0)
    expect(limiter.admit('b.test', '203.0.113.1', LIMIT)).toBe(0)
  })

  test('RFC 4291 §2.5.4: addresses of one IPv6 /64 share a bucket; another /64 does not', () => {
    const { limiter } = limiterAt()
    expect(['2001:db8::1', '2001:db8::2', '2001:db8::ffff'].map((address) => limiter.admit('a.test', address, LIMIT))).toEqual([0, 0, 0])
    expect(limiter.admit('a.test', '2001:db8::abcd', LIMIT)).toBeGreaterThan(0)
    expect(limiter.admit('a.test', '2001:db8:0:1::1', LIMIT)).toBe(0)
  })

  test('an address in RATE_LIMIT_EXEMPT is never limited; its neighbour is', () => {
    const { limiter, counts } = limiterAt({ exempt: ['10.0.0.0/24', '2001:db8::7'] })
    for (let i = 0; i < 50; i++) expect(limiter.admit('a.test', '10.0.0.9', LIMIT)).toBe(0)
    for (let i = 0; i < 50; i++) expect(limiter.admit('a.test', '2001:db8::7', LIMIT)).toBe(0)
    for (let i = 0; i < 3; i++) limiter.admit('a.test', '10.0.1.9', LIMIT)
    expect(limiter.admit('a.test', '10.0.1.9', LIMIT)).toBeGreaterThan(0)
    // The exempt IPv6 host's /64 neighbours are counted (the exemption is by address, the bucket by /64).
    for (let i = 0; i < 3; i++) limiter.admit('a.test', '2001:db8::8', LIMIT)
    expect(limiter.admit('a.test', '2001:db8::8', LIMIT)).toBeGreaterThan(0)
    expect(counts.snapshot().proxy).toBe(2)
  })

  test('memory is bounded: past the maximum, clients whose buckets are full again are forgotten, a limited one is not', () => {
    const { limiter, advance } = limiterAt({ maxClientsPerGroup: 4 })
    for (let i = 0; i < 3; i++) limiter.admit('a.test', '203.0.113.1', LIMIT)
    limiter.admit('a.test', '203.0.113.2', LIMIT)
    limiter.admit('a.test', '203.0.113.3', LIMIT)
    // .2 and .3 are full again after 500 ms; .1 (three at once) only after 1,500 ms.
    advance(1_000)
    expect(limiter.admit('a.test', '203.0.113.4', LIMIT)).toBe(0)
    expect(limiter.admit('a.test', '203.0.113.5', LIMIT)).toBe(0)
    // .1 was kept: two requests of its bucket have come back, not three.
    expect([1, 2, 3].map(() => limiter.admit('a.test', '203.0.113.1', LIMIT))).toEqual([0, 0, 500])
  })
})
