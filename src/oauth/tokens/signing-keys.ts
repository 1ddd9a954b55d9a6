/**
 * @module The key ring that signs access tokens: ES256 keys kept in the store, each with a kid (its
 * RFC 7638 thumbprint). The first start generates one under a store lock, so nodes sharing Redis
 * agree on it; the host's CLI reads the same key to issue the first admin token.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose'
import * as v from 'valibot'
import type { Clock } from '../../lib/index.ts'
import { acquireLock, COLLECTIONS, createCollection, keys, type Store } from '../../store/index.ts'

export const SIGNING_ALG = 'ES256'

const JwkSchema = v.looseObject({ kty: v.literal('EC'), crv: v.literal('P-256'), x: v.string(), y: v.string(), d: v.optional(v.string()) })

const SigningKeySchema = v.object({
  kid: v.string(),
  alg: v.literal(SIGNING_ALG),
  privateJwk: JwkSchema,
  publicJwk: JwkSchema,
  createdAtMs: v.number(),
})

export interface ActiveKey {
  readonly kid: string
  readonly privateKey: CryptoKey
}

export interface KeyRing {
  /** Generates the first key if the store has none. Safe to call from many nodes at once. */
  ensureActive(): Promise<void>
  /** The key new tokens are signed with. */
  activeKey(): Promise<ActiveKey>
  /** The public key for a kid, or null when the store has no such key. */
  publicKey(kid: string): Promise<CryptoKey | null>
  /** Public JWKs of every key still in the ring, for /jwks. */
  publicJwks(): Promise<JWK[]>
}

export function createKeyRing(store: Store, clock: Clock): KeyRing {
  const collection = createCollection(store, COLLECTIONS.signingKeys, SigningKeySchema)
  const imported = new Map<string, Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }>>()

  const importKey = (kid: string, doc: v.InferOutput<typeof SigningKeySchema>) => {
    let pair = imported.get(kid)
    if (!pair) {
      pair = Promise.all([
        importJWK(doc.privateJwk as JWK, SIGNING_ALG) as Promise<CryptoKey>,
        importJWK(doc.publicJwk as JWK, SIGNING_ALG) as Promise<CryptoKey>,
      ]).then(([privateKey, publicKey]) => ({ privateKey, publicKey }))
      imported.set(kid, pair)
    }
    return pair
  }

  const readActiveKid = async () => {
    const doc = await store.get(keys.activeSigningKey())
    return doc?.value ?? null
  }

  const ring: KeyRing = {
    async ensureActive() {
      if (await readActiveKid()) return
      await using _lock = await acquireLock(store, 'signing-key', { ttlMs: 30_000, waitMs: 30_000 })
      if (await readActiveKid()) return
      const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true })
      const publicJwk = await exportJWK(publicKey)
      const kid = await calculateJwkThumbprint(publicJwk)
      const privateJwk = await exportJWK(privateKey)
      await collection.put(kid, {
        kid,
        alg: SIGNING_ALG,
        privateJwk: { ...privateJwk, kid } as v.InferOutput<typeof JwkSchema>,
        publicJwk: { ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' } as v.InferOutput<typeof JwkSchema>,
        createdAtMs: clock.nowMs(),
      })
      await store.put(keys.activeSigningKey(), kid)
    },
    async activeKey() {
      const kid = await readActiveKid()
      const doc = kid ? await collection.get(kid) : null
      if (!kid || !doc) throw new Error('no active signing key; ensureActive() must run first')
      return { kid, privateKey: (await importKey(kid, doc.value)).privateKey }
    },
    async publicKey(kid) {
      const doc = await collection.get(kid)
      return doc ? (await importKey(kid, doc.value)).publicKey : null
    },
    async publicJwks() {
      return (await collection.list()).map(({ value }) => value.publicJwk as JWK)
    },
  }
  return ring
}
