/** The node's token verifier: cached successes until exp, bounded, and evicted by `token_revoked` events. */
import { describe, expect, test } from 'bun:test'
import { createTokenVerifier, type VerifyOutcome } from '../../src/auth/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'

const AUDIENCE = 'https://api.example.com'
/** A second resource the fake accepts, so one token can be cached under two audiences. */
const PROXY = 'https://proxy.example.com'
const START_MS = Date.UTC(2026, 0, 1)
const START_SEC = START_MS / 1000

interface Claims {
  readonly jti: string
  readonly exp: number
  readonly aud: string
}

/** Tokens are "<jti>.<exp>" here; verify counts its calls, as the signature check it stands for. */
function setUp(options: { maxEntries?: number; maxAgeMs?: number } = {}) {
  const clock = createManualClock(START_MS)
  const bus = createMemoryBus(createLogger('error'))
  const revoked = new Set<string>()
  const calls = { verify: 0, isRevoked: 0 }
  const verifier = createTokenVerifier<Claims, 'expired' | 'claims'>({
    async verify(token, audience): Promise<VerifyOutcome<Claims, 'expired' | 'claims'>> {
      calls.verify++
      const [jti, exp] = token.split('.')
      if (audience !== AUDIENCE && audience !== PROXY) return { ok: false, reason: 'claims' }
      if (clock.nowMs() >= Number(exp) * 1000) return { ok: false, reason: 'expired' }
      return { ok: true, claims: { jti: jti!, exp: Number(exp), aud: audience } }
    },
    async isRevoked(jti) {
      calls.isRevoked++
      return revoked.has(jti)
    },
    bus,
    clock,
    ...options,
  })
  return { clock, bus, revoked, calls, verifier }
}

const token = (jti: string, ttlSec = 3600) => `${jti}.${START_SEC + ttlSec}`

describe('createTokenVerifier', () => {
  test('a cached token verifies without a second signature check or store read, and verifyCached answers synchronously', async () => {
    const { verifier, calls } = setUp()
    expect(verifier.verifyCached(token('a'), AUDIENCE)).toBeUndefined()
    const first = await verifier.verify(token('a'), AUDIENCE)
    expect(first).toEqual({ ok: true, claims: { jti: 'a', exp: START_SEC + 3600, aud: AUDIENCE } })
    expect(await verifier.verify(token('a'), AUDIENCE)).toBe(first)
    expect(verifier.verifyCached(token('a'), AUDIENCE)).toBe(first)
    expect(calls).toEqual({ verify: 1, isRevoked: 1 })
  })

  test('the audience is part of the key: a token cached for one resource is checked afresh for another', async () => {
    const { verifier, calls } = setUp()
    await verifier.verify(token('a'), AUDIENCE)
    expect(verifier.verifyCached(token('a'), 'https://other.example.com')).toBeUndefined()
    expect(await verifier.verify(token('a'), 'https://other.example.com')).toEqual({ ok: false, reason: 'claims' })
    expect(calls.verify).toBe(2)
  })

  test('failures are never cached: every attempt is checked again', async () => {
    const { verifier, calls, revoked } = setUp()
    revoked.add('r')
    expect(await verifier.verify(token('r'), AUDIENCE)).toEqual({ ok: false, reason: 'revoked' })
    expect(await verifier.verify(token('r'), AUDIENCE)).toEqual({ ok: false, reason: 'revoked' })
    expect(verifier.verifyCached(token('r'), AUDIENCE)).toBeUndefined()
    expect(calls.verify).toBe(2)
  })

  test('an expired cached entry is not used: from exp on, the token is verified (and refused) again', async () => {
    const { verifier, calls, clock } = setUp()
    await verifier.verify(token('a', 30), AUDIENCE)
    clock.advanceMs(29_999)
    expect(verifier.verifyCached(token('a', 30), AUDIENCE)?.ok).toBe(true)
    clock.advanceMs(1)
    expect(verifier.verifyCached(token('a', 30), AUDIENCE)).toBeUndefined()
    expect(await verifier.verify(token('a', 30), AUDIENCE)).toEqual({ ok: false, reason: 'expired' })
    expect(calls.verify).toBe(2)
  })

  test('a long-lived entry is re-checked against the store after maxAgeMs (a missed event heals)', async () => {
    const { verifier, calls, clock, revoked } = setUp({ maxAgeMs: 1_000 })
    await verifier.verify(token('a'), AUDIENCE)
    revoked.add('a') // written by a node whose announcement never arrived
    expect((await verifier.verify(token('a'), AUDIENCE)).ok).toBe(true)
    clock.advanceMs(1_000)
    expect(await verifier.verify(token('a'), AUDIENCE)).toEqual({ ok: false, reason: 'revoked' })
    expect(calls.isRevoked).toBe(2)
  })

  test('the cache is bounded: the least recently used entry goes first', async () => {
    const { verifier, calls } = setUp({ maxEntries: 2 })
    await verifier.verify(token('a'), AUDIENCE)
    await verifier.verify(token('b'), AUDIENCE)
    await verifier.verify(token('a'), AUDIENCE) // a is now the most recently used
    await verifier.verify(token('c'), AUDIENCE) // evicts b
    expect(verifier.verifyCached(token('a'), AUDIENCE)?.ok).toBe(true)
    expect(verifier.verifyCached(token('b'), AUDIENCE)).toBeUndefined()
    expect(verifier.verifyCached(token('c'), AUDIENCE)?.ok).toBe(true)
    expect(calls.verify).toBe(3)
    for (let i = 0; i < 100; i++) await verifier.verify(token(`n${i}`), AUDIENCE)
    expect([token('a'), token('c'), ...Array.from({ length: 98 }, (_, i) => token(`n${i}`))].every((t) => verifier.verifyCached(t, AUDIENCE) === undefined)).toBe(true)
    expect(verifier.verifyCached(token('n99'), AUDIENCE)?.ok).toBe(true)
  })

  test('token_revoked evicts every entry with that jti; the next verification reads the denylist', async () => {
    const { verifier, bus, revoked, calls } = setUp()
    await verifier.verify(token('a'), AUDIENCE)
    await verifier.verify(token('a'), PROXY)
    await verifier.verify(token('b'), AUDIENCE)
    revoked.add('a')
    await bus.publish({ type: 'token_revoked', jti: 'a' })
    expect(verifier.verifyCached(token('a'), AUDIENCE)).toBeUndefined()
    expect(verifier.verifyCached(token('a'), PROXY)).toBeUndefined()
    expect(verifier.verifyCached(token('b'), AUDIENCE)?.ok).toBe(true)
    expect(await verifier.verify(token('a'), AUDIENCE)).toEqual({ ok: false, reason: 'revoked' })
    expect(calls.verify).toBe(4)
  })

  test('a verification in flight when a revocation arrives is answered but not cached (it may have read the denylist too early)', async () => {
    const { verifier, bus } = setUp()
    const pending = verifier.verify(token('a'), AUDIENCE)
    await bus.publish({ type: 'token_revoked', jti: 'a' })
    expect((await pending).ok).toBe(true)
    expect(verifier.verifyCached(token('a'), AUDIENCE)).toBeUndefined()
  })

  test('stats() counts cache hits (verify and verifyCached), full checks that passed, and refusals by reason; a miss of verifyCached counts nothing', async () => {
    const { verifier, clock, revoked } = setUp()
    expect(verifier.stats()).toEqual({ cacheHits: 0, verified: 0, refused: {} })
    await verifier.verify(token('a'), AUDIENCE)
    await verifier.verify(token('a'), AUDIENCE)
    verifier.verifyCached(token('a'), AUDIENCE)
    verifier.verifyCached(token('never-seen'), AUDIENCE)
    await verifier.verify(token('a'), 'https://other.example.com')
    revoked.add('r')
    await verifier.verify(token('r'), AUDIENCE)
    await verifier.verify(token('r'), AUDIENCE)
    await verifier.verify(token('old', 10), AUDIENCE)
    clock.advanceMs(10_000)
    await verifier.verify(token('old', 10), AUDIENCE)
    const stats = verifier.stats()
    expect(stats).toEqual({ cacheHits: 2, verified: 2, refused: { claims: 1, revoked: 2, expired: 1 } })
    // A snapshot: later answers do not change one already taken.
    await verifier.verify(token('a'), AUDIENCE)
    expect(stats.cacheHits).toBe(2)
    expect(verifier.stats().cacheHits).toBe(3)
  })

  test('close() stops listening and empties the cache; maxEntries must be a positive integer', async () => {
    const { verifier } = setUp()
    await verifier.verify(token('a'), AUDIENCE)
    verifier.close()
    expect(verifier.verifyCached(token('a'), AUDIENCE)).toBeUndefined()
    expect(() => setUp({ maxEntries: 0 })).toThrow(RangeError)
  })
})
