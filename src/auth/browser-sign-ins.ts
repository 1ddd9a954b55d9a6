/**
 * @module Browser sign-ins in progress: what a callback needs to finish one (the PKCE verifier, where
 * to go back to), kept in the store for ten minutes and keyed by both the browser's sign-in cookie and
 * the `state` sent to the authorization server. A callback finds its sign-in only with the very cookie
 * that started it and only once (RFC 6749 §10.12, RFC 9700 §2.1: state bound to the user agent), so a
 * code and state sent to someone else's browser finish nothing there (login CSRF). One cookie may hold
 * several sign-ins at once: two tabs signing in do not undo each other.
 */
import * as v from 'valibot'
import { openWithSecret, sealWithSecret, sha256Hex, type Clock } from '../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'
import { newCodeVerifier } from './pkce.ts'
import { isSecretId, newSecretId } from './secret-id.ts'

/** A sign-in takes a consent click and a GitHub login: minutes. Also the sign-in cookie's Max-Age. */
export const SIGN_IN_TTL_SEC = 600
const SEAL_PURPOSE = 'oauth-https-proxy browser sign-in v1'

const SignInSchema = v.object({
  origin: v.string(),
  proxy: v.string(),
  resource: v.string(),
  returnPath: v.string(),
  createdAtMs: v.number(),
  /** The PKCE verifier, sealed under the cookie and the state, neither of which the store holds. */
  sealedVerifier: v.object({ iv: v.string(), data: v.string() }),
})

/** What a sign-in is about; the callback checks it is answered on the same origin and proxy. */
export interface SignInTarget {
  readonly origin: string
  readonly proxy: string
  readonly resource: string
  /** A path on `origin` (return-path.ts). */
  readonly returnPath: string
}

export interface PendingSignIn extends SignInTarget {
  readonly codeVerifier: string
}

export interface SignIns {
  /** A new state and PKCE verifier for this browser's sign-in cookie. */
  start(browserId: string, target: SignInTarget): Promise<{ readonly state: string; readonly codeVerifier: string }>
  /** The sign-in, taken: a second callback with the same state finds nothing. Null for an unknown pair. */
  finish(browserId: string, state: string): Promise<PendingSignIn | null>
}

export function createSignIns(store: Store, clock: Clock): SignIns {
  const signIns = createCollection(store, COLLECTIONS.authSignIns, SignInSchema)
  const idOf = (browserId: string, state: string) => sha256Hex(`${browserId}.${state}`)
  return {
    async start(browserId, target) {
      const state = newSecretId()
      const codeVerifier = newCodeVerifier()
      const id = idOf(browserId, state)
      const sealedVerifier = await sealWithSecret(`${browserId}.${state}`, id, SEAL_PURPOSE, codeVerifier)
      await signIns.put(id, { ...target, createdAtMs: clock.nowMs(), sealedVerifier }, { ttlMs: SIGN_IN_TTL_SEC * 1000 })
      return { state, codeVerifier }
    },
    async finish(browserId, state) {
      if (!isSecretId(browserId) || !isSecretId(state)) return null
      const id = idOf(browserId, state)
      // RFC 6749 §10.5 spirit: single use; of two callbacks racing with one state, one finishes.
      const found = await signIns.take(id)
      if (!found) return null
      const codeVerifier = await openWithSecret(`${browserId}.${state}`, id, SEAL_PURPOSE, found.sealedVerifier)
      if (codeVerifier === null) return null
      return { origin: found.origin, proxy: found.proxy, resource: found.resource, returnPath: found.returnPath, codeVerifier }
    },
  }
}
