/**
 * @module Initial access tokens (RFC 7591 §3): with OAUTH_REGISTRATION=token, POST /register needs one
 * as its Bearer token. An admin issues them; each is 256 random bits, shown once and stored only as its
 * SHA-256 hash, with a store TTL at its expiry. A single-use token is spent by the registration it
 * admits (an atomic take, so of two racing registrations exactly one gets it); a reusable one admits
 * any number until it expires.
 */
import * as v from 'valibot'
import type { Clock } from '../../lib/index.ts'
import { randomToken, sha256Hex } from '../../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../../store/index.ts'

const TOKEN_BYTES = 32
/** Ours are base64url of 32 bytes; anything else cannot be one and needs no store access. */
const TOKEN_SYNTAX = /^[A-Za-z0-9_-]{43}$/
export const DEFAULT_REGISTRATION_TOKEN_TTL_SEC = 86_400
export const MAX_REGISTRATION_TOKEN_TTL_SEC = 365 * 86_400

const StoredRegistrationTokenSchema = v.object({
  single_use: v.boolean(),
  created_at_ms: v.pipe(v.number(), v.integer()),
  expires_at_ms: v.pipe(v.number(), v.integer()),
  /** Who issued it (the admin's login), for the record. */
  created_by: v.pipe(v.string(), v.maxLength(200)),
})

export interface IssuedRegistrationToken {
  /** The plaintext; returned once, never stored. */
  readonly token: string
  readonly singleUse: boolean
  readonly expiresAtMs: number
}

export interface RegistrationTokens {
  issue(options: { readonly ttlSec: number; readonly singleUse: boolean; readonly createdBy: string }): Promise<IssuedRegistrationToken>
  /** Whether the token would admit a registration now; spends nothing. */
  isValid(token: string): Promise<boolean>
  /** Spends a single-use token (false when another request spent it first, or it expired); a reusable one only has to be valid. */
  redeem(token: string): Promise<boolean>
}

export function createRegistrationTokens(store: Store, clock: Clock): RegistrationTokens {
  const tokens = createCollection(store, COLLECTIONS.oauthRegistrationTokens, StoredRegistrationTokenSchema)
  const find = async (token: string) => (TOKEN_SYNTAX.test(token) ? await tokens.get(sha256Hex(token)) : null)
  const isLive = (expiresAtMs: number) => expiresAtMs > clock.nowMs()

  return {
    async issue({ ttlSec, singleUse, createdBy }) {
      const token = randomToken(TOKEN_BYTES)
      const nowMs = clock.nowMs()
      const expiresAtMs = nowMs + ttlSec * 1000
      await tokens.put(sha256Hex(token), { single_use: singleUse, created_at_ms: nowMs, expires_at_ms: expiresAtMs, created_by: createdBy.slice(0, 200) }, { ttlMs: ttlSec * 1000 })
      return { token, singleUse, expiresAtMs }
    },
    async isValid(token) {
      const found = await find(token)
      return found !== null && isLive(found.value.expires_at_ms)
    },
    async redeem(token) {
      const found = await find(token)
      if (found === null || !isLive(found.value.expires_at_ms)) return false
      if (!found.value.single_use) return true
      const taken = await tokens.take(sha256Hex(token))
      return taken !== null && isLive(taken.expires_at_ms)
    },
  }
}
