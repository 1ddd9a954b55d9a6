/**
 * @module Initial access tokens (RFC 7591 §3): with OAUTH_REGISTRATION=token, POST /register needs one
 * as its Bearer token. An admin issues them; each is 256 random bits, shown once and stored only as its
 * SHA-256 hash, with a store TTL at its expiry. A single-use token is spent by the registration it
 * admits (compare-and-set of its use count, so of two racing registrations exactly one gets it); a
 * reusable one admits any number until it expires. An admin lists them (never the token: an id, the
 * label, who issued it when, its expiry and uses) and deletes one by its id, which stops it at once.
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
export const MAX_REGISTRATION_TOKEN_LABEL_LENGTH = 200
/**
 * A token's id: the first 16 hex digits (64 bits) of its stored hash. The hash of 256 random bits says
 * nothing of the token, and every token ever issued has one, so the id needs no document of its own.
 */
export const REGISTRATION_TOKEN_ID = /^[0-9a-f]{16}$/
const ID_LENGTH = 16
/** Racing registrations with one reusable token retry their count this often, then are admitted uncounted. */
const MAX_COUNT_ATTEMPTS = 10

const StoredRegistrationTokenSchema = v.object({
  single_use: v.boolean(),
  created_at_ms: v.pipe(v.number(), v.integer()),
  expires_at_ms: v.pipe(v.number(), v.integer()),
  /** Who issued it (the admin's login), for the record. */
  created_by: v.pipe(v.string(), v.maxLength(200)),
  /** What the admin called it; tokens issued before labels existed have none. */
  label: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(MAX_REGISTRATION_TOKEN_LABEL_LENGTH))), null),
  /** Registrations it admitted (a spent single-use token stays listed with 1 until it expires). */
  uses: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
})
type StoredRegistrationToken = v.InferOutput<typeof StoredRegistrationTokenSchema>

export interface IssuedRegistrationToken {
  /** The plaintext; returned once, never stored. */
  readonly token: string
  readonly id: string
  readonly singleUse: boolean
  readonly expiresAtMs: number
}

/** A token as an admin sees it: never the token or its hash. */
export interface RegistrationTokenSummary {
  readonly id: string
  readonly label: string | null
  readonly singleUse: boolean
  readonly uses: number
  readonly createdAtMs: number
  readonly createdBy: string
  readonly expiresAtMs: number
}

export interface RegistrationTokens {
  issue(options: { readonly ttlSec: number; readonly singleUse: boolean; readonly createdBy: string; readonly label?: string | null }): Promise<IssuedRegistrationToken>
  /** Whether the token would admit a registration now; spends nothing. */
  isValid(token: string): Promise<boolean>
  /** Spends a single-use token (false when another request spent it first, it was deleted, or it expired); counts a use of a reusable one. */
  redeem(token: string): Promise<boolean>
  /** The tokens not yet expired, spent single-use ones included, oldest first. */
  list(): Promise<RegistrationTokenSummary[]>
  /** Deletes the token with this id; false when there is none (unknown, expired or deleted before). */
  delete(id: string): Promise<boolean>
}

export function createRegistrationTokens(store: Store, clock: Clock): RegistrationTokens {
  const tokens = createCollection(store, COLLECTIONS.oauthRegistrationTokens, StoredRegistrationTokenSchema)
  const find = async (token: string) => (TOKEN_SYNTAX.test(token) ? await tokens.get(sha256Hex(token)) : null)
  const isLive = (expiresAtMs: number) => expiresAtMs > clock.nowMs()
  const admits = (stored: StoredRegistrationToken) => isLive(stored.expires_at_ms) && !(stored.single_use && stored.uses > 0)
  /** The hashes (document ids) an id stands for: one, almost surely; none when unknown. */
  const hashesOf = async (id: string) => (REGISTRATION_TOKEN_ID.test(id) ? (await tokens.ids()).filter((hash) => hash.startsWith(id)) : [])

  return {
    async issue({ ttlSec, singleUse, createdBy, label = null }) {
      const token = randomToken(TOKEN_BYTES)
      const hash = sha256Hex(token)
      const nowMs = clock.nowMs()
      const expiresAtMs = nowMs + ttlSec * 1000
      const stored: StoredRegistrationToken = { single_use: singleUse, created_at_ms: nowMs, expires_at_ms: expiresAtMs, created_by: createdBy.slice(0, 200), label, uses: 0 }
      await tokens.put(hash, stored, { ttlMs: ttlSec * 1000 })
      return { token, id: hash.slice(0, ID_LENGTH), singleUse, expiresAtMs }
    },
    async isValid(token) {
      const found = await find(token)
      return found !== null && admits(found.value)
    },
    async redeem(token) {
      if (!TOKEN_SYNTAX.test(token)) return false
      const hash = sha256Hex(token)
      for (let attempt = 0; attempt < MAX_COUNT_ATTEMPTS; attempt++) {
        const found = await tokens.get(hash)
        if (found === null || !admits(found.value)) return false
        const ttlMs = found.value.expires_at_ms - clock.nowMs()
        const counted = await tokens.put(hash, { ...found.value, uses: found.value.uses + 1 }, { ifVersion: found.version, ttlMs })
        if (counted !== null) return true
        // Changed meanwhile: a single-use token was spent (or deleted) by another request, which the next read shows.
      }
      // Only a reusable token can be this busy (a single-use one is spent by the first write): admitted, uncounted.
      return true
    },
    async list() {
      const live = (await tokens.list()).filter(({ value }) => isLive(value.expires_at_ms))
      return live
        .map(({ id: hash, value }) => ({
          id: hash.slice(0, ID_LENGTH),
          label: value.label,
          singleUse: value.single_use,
          uses: value.uses,
          createdAtMs: value.created_at_ms,
          createdBy: value.created_by,
          expiresAtMs: value.expires_at_ms,
        }))
        .sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id))
    },
    async delete(id) {
      let deleted = false
      for (const hash of await hashesOf(id)) {
        const found = await tokens.take(hash)
        if (found !== null && isLive(found.expires_at_ms)) deleted = true
      }
      return deleted
    },
  }
}
