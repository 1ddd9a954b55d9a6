/**
 * @module The resource server's token verifier: one per node, shared by the management API and (later)
 * every auth-enabled proxy. A successful verification is remembered until the token expires, so a
 * repeat costs a hash and a map lookup, with no signature check and no store read. Revocation reaches
 * every node through the `token_revoked` event, which evicts the token's entries at once; the store's
 * jti denylist stays the source of truth for every verification that is not a cache hit.
 * @see https://www.rfc-editor.org/rfc/rfc7009 (revocation) and RFC 9068 §4 (validating JWT access tokens)
 */
import type { EventBus } from '../events/index.ts'
import type { Clock } from '../lib/index.ts'

/** What the cache needs of a verified token: its id (for revocation) and its expiry (epoch seconds). */
export interface VerifiedClaims {
  readonly jti: string
  readonly exp: number
}

export type VerifyOutcome<C extends VerifiedClaims, F extends string> = { ok: true; claims: C } | { ok: false; reason: F }

/** Enough for every token a node sees in its lifetime several times over; a miss only costs a verification. */
export const DEFAULT_MAX_ENTRIES = 10_000
/**
 * A cached entry is re-verified after this long even if its token lives longer: the store re-checked
 * once a minute bounds the damage of a `token_revoked` event that some node missed (a bus outage).
 */
export const DEFAULT_MAX_AGE_MS = 60_000

/** Characters of a token's end kept with its entry: 16 of an ES256 signature's base64url are 96 secret bits. */
const TAIL_LENGTH = 16

export interface TokenVerifierOptions<C extends VerifiedClaims, F extends string> {
  /** Signature, typ, iss, aud, exp and nbf: the expensive part. Must not consult the denylist itself. */
  readonly verify: (token: string, audience: string) => Promise<VerifyOutcome<C, F>>
  /** The jti denylist in the store, asked on every verification that is not a cache hit. */
  readonly isRevoked: (jti: string) => Promise<boolean>
  readonly bus: EventBus
  readonly clock: Clock
  readonly maxEntries?: number
  readonly maxAgeMs?: number
}

export interface TokenVerifier<C extends VerifiedClaims, F extends string> {
  /** A cache hit, or the full check (signature, claims, denylist); never throws for a bad token. */
  verify(token: string, audience: string): Promise<VerifyOutcome<C, F | 'revoked'>>
  /**
   * A cached success, synchronously (the data plane's decision step); never a failure, and undefined
   * means "call verify". Typed like verify's answer so callers handle both alike.
   */
  verifyCached(token: string, audience: string): VerifyOutcome<C, F | 'revoked'> | undefined
  /** What this verifier has answered since it was made, for /metrics. */
  stats(): TokenVerifierStats
  /** Stops listening for revocations and drops the cache. */
  close(): void
}

/** Counters since the verifier was made; a snapshot, never a live view. */
export interface TokenVerifierStats {
  /** Answered from the cache (verify or verifyCached). */
  readonly cacheHits: number
  /** Full checks that passed (signature, claims, denylist). */
  readonly verified: number
  /** Full checks that failed, by reason ('revoked' for the denylist). */
  readonly refused: Readonly<Record<string, number>>
}

interface Entry<C> {
  readonly result: { ok: true; claims: C }
  /** The token's last characters (of its signature): a hash collision with another token is no hit. */
  readonly tail: string
  /** The earlier of the token's exp and the entry's maximum age. */
  readonly validUntilMs: number
}

export function createTokenVerifier<C extends VerifiedClaims, F extends string>(options: TokenVerifierOptions<C, F>): TokenVerifier<C, F> {
  const { clock } = options
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`)
  // Keyed by the audience and a 64-bit hash of the token, not the token itself, so a heap dump or a log
  // of keys holds no bearer secret; a hash (not SHA-256: this runs on every request) can collide, so an
  // entry also keeps the token's last signature characters, which only its holder knows, and a hit must
  // match them. A Map iterates in insertion order, and a hit re-inserts its entry: the first key is the
  // least recently used.
  const cache = new Map<string, Entry<C>>()
  // Bumped by every revocation: a verification that started before one may have read the denylist too early, so its result is not cached.
  let revocations = 0
  const counts = { cacheHits: 0, verified: 0 }
  const refused = new Map<string, number>()
  const refuse = <R extends { ok: false; reason: string }>(result: R): R => {
    refused.set(result.reason, (refused.get(result.reason) ?? 0) + 1)
    return result
  }

  const keyOf = (token: string, audience: string) => `${audience} ${Bun.hash(token).toString(36)}`

  const lookUp = (key: string, token: string): Entry<C> | undefined => {
    const entry = cache.get(key)
    if (!entry || !token.endsWith(entry.tail)) return undefined
    cache.delete(key)
    if (clock.nowMs() >= entry.validUntilMs) return undefined
    cache.set(key, entry)
    return entry
  }

  const remember = (key: string, token: string, result: { ok: true; claims: C }) => {
    const validUntilMs = Math.min(result.claims.exp * 1000, clock.nowMs() + maxAgeMs)
    if (validUntilMs <= clock.nowMs()) return
    cache.delete(key)
    while (cache.size >= maxEntries) cache.delete(cache.keys().next().value!)
    cache.set(key, { result, tail: token.slice(-TAIL_LENGTH), validUntilMs })
  }

  const unsubscribe = options.bus.subscribe((event) => {
    if (event.type !== 'token_revoked') return
    revocations++
    for (const [key, entry] of cache) if (entry.result.claims.jti === event.jti) cache.delete(key)
  })

  return {
    async verify(token, audience) {
      const key = keyOf(token, audience)
      const hit = lookUp(key, token)
      if (hit) {
        counts.cacheHits++
        return hit.result
      }
      const seen = revocations
      const result = await options.verify(token, audience)
      if (!result.ok) return refuse(result)
      if (await options.isRevoked(result.claims.jti)) return refuse({ ok: false, reason: 'revoked' as const })
      counts.verified++
      if (seen === revocations) remember(key, token, result)
      return result
    },
    verifyCached(token, audience) {
      const hit = lookUp(keyOf(token, audience), token)
      if (hit) counts.cacheHits++
      return hit?.result
    },
    stats() {
      return { ...counts, refused: Object.fromEntries(refused) }
    },
    close() {
      unsubscribe()
      cache.clear()
    },
  }
}
