/**
 * @module Pending ACME HTTP-01 challenges (RFC 8555 §8.3): the token, its key authorization and the
 * domain it proves. Kept in the store with a TTL so every node can answer it, and announced with an
 * `acme_challenge` event so each node's data plane loads it into memory before the CA asks.
 */
import * as v from 'valibot'
import type { EventBus } from '../events/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'

/** RFC 8555 §8.1: a token is base64url; the key authorization is "token.thumbprint". */
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/

export const ChallengeSchema = v.object({
  token: v.pipe(v.string(), v.regex(TOKEN)),
  key_authorization: v.string(),
  /** The domain being validated: the challenge is answered only on that Host. */
  domain: v.string(),
})
export type Challenge = v.InferOutput<typeof ChallengeSchema>

export interface ChallengeStore {
  /** Stores and announces it; it expires by itself after ttlSec. */
  set(challenge: Challenge, ttlSec: number): Promise<void>
  clear(token: string): Promise<void>
  get(token: string): Promise<Challenge | null>
  list(): Promise<Challenge[]>
}

export const isChallengeToken = (token: string) => TOKEN.test(token)

export function createChallengeStore(store: Store, bus: EventBus): ChallengeStore {
  const collection = createCollection(store, COLLECTIONS.acmeChallenges, ChallengeSchema)
  return {
    async set(challenge, ttlSec) {
      await collection.put(challenge.token, challenge, { ttlMs: ttlSec * 1000 })
      await bus.publish({ type: 'acme_challenge', token: challenge.token })
    },
    async clear(token) {
      if (await collection.del(token)) await bus.publish({ type: 'acme_challenge', token })
    },
    async get(token) {
      return isChallengeToken(token) ? ((await collection.get(token))?.value ?? null) : null
    },
    list: async () => (await collection.list()).map(({ value }) => value),
  }
}
