/**
 * @module The key ring that signs access tokens: ES256 keys kept in the store, each with a kid (its
 * RFC 7638 thumbprint). The first start generates one under a store lock, so nodes sharing Redis
 * agree on it; the host's CLI reads the same key to issue the first admin token.
 *
 * Rotation makes a new key active and retires the old one. A retired key still verifies for as long
 * as a token it signed can live (retireAfterSec), then it leaves /jwks and verifies nothing.
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
  retiredAtMs: v.optional(v.number()),
})

type SigningKeyDoc = v.InferOutput<typeof SigningKeySchema>

export interface SigningKeyInfo {
  readonly kid: string
  readonly alg: string
  readonly createdAtMs: number
  readonly retiredAtMs?: number
  readonly isActive: boolean
}

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
  /** Public JWKs of every key that may still verify a live token, for /jwks. */
  publicJwks(): Promise<JWK[]>
  /** A new key signs from now on; the old one keeps verifying until its tokens have expired. */
  rotate(): Promise<{ kid: string; retiredKid: string | null }>
  /** Every key still kept, without private material. */
  describe(): Promise<SigningKeyInfo[]>
}

export interface KeyRingOptions {
  /** How long a retired key keeps verifying: the longest lifetime of a token it may have signed. */
  readonly retireAfterSec: number
}

export function createKeyRing(store: Store, clock: Clock, options: KeyRingOptions): KeyRing {
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

  const isUsable = (doc: SigningKeyDoc) => doc.retiredAtMs === undefined || clock.nowMs() < doc.retiredAtMs + options.retireAfterSec * 1000

  const generate = async (): Promise<string> => {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true })
    const publicJwk = await exportJWK(publicKey)
    const kid = await calculateJwkThumbprint(publicJwk)
    const privateJwk = await exportJWK(privateKey)
    await collection.put(kid, {
      kid,
      alg: SIGNING_ALG,
      privateJwk: { ...privateJwk, kid } as SigningKeyDoc['privateJwk'],
      publicJwk: { ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' } as SigningKeyDoc['publicJwk'],
      createdAtMs: clock.nowMs(),
    })
    return kid
  }

  /** Retired keys past their grace are deleted; they could only verify expired tokens. */
  const prune = async () => {
    for (const { id, value } of await collection.list()) if (!isUsable(value)) await collection.del(id)
  }

  const ring: KeyRing = {
    async ensureActive() {
      if (await readActiveKid()) return
      await using _lock = await acquireLock(store, 'signing-key', { ttlMs: 30_000, waitMs: 30_000 })
      if (await readActiveKid()) return
      await store.put(keys.activeSigningKey(), await generate())
    },
    async activeKey() {
      let kid = await readActiveKid()
      let doc = kid ? await collection.get(kid) : null
      if (!kid || !doc) {
        // The store lost its keys (a Redis restarted without persistence): make a new one rather than
        // refusing to sign. Tokens signed by the lost key can no longer verify either way.
        await store.del(keys.activeSigningKey())
        await ring.ensureActive()
        kid = await readActiveKid()
        doc = kid ? await collection.get(kid) : null
        if (!kid || !doc) throw new Error('no active signing key after regenerating one')
      }
      return { kid, privateKey: (await importKey(kid, doc.value)).privateKey }
    },
    async publicKey(kid) {
      const doc = await collection.get(kid)
      return doc && isUsable(doc.value) ? (await importKey(kid, doc.value)).publicKey : null
    },
    async publicJwks() {
      return (await collection.list()).filter(({ value }) => isUsable(value)).map(({ value }) => value.publicJwk as JWK)
    },
    async rotate() {
      await using _lock = await acquireLock(store, 'signing-key', { ttlMs: 30_000, waitMs: 30_000 })
      const retiredKid = await readActiveKid()
      const kid = await generate()
      await store.put(keys.activeSigningKey(), kid)
      const retired = retiredKid ? await collection.get(retiredKid) : null
      if (retired) await collection.put(retiredKid!, { ...retired.value, retiredAtMs: clock.nowMs() })
      await prune()
      return { kid, retiredKid }
    },
    async describe() {
      const active = await readActiveKid()
      return (await collection.list())
        .filter(({ value }) => isUsable(value))
        .map(({ value }) => ({
          kid: value.kid,
          alg: value.alg,
          createdAtMs: value.createdAtMs,
          ...(value.retiredAtMs === undefined ? {} : { retiredAtMs: value.retiredAtMs }),
          isActive: value.kid === active,
        }))
    },
  }
  return ring
}
