/**
 * @module Seals what a grant keeps between requests under a secret the store never sees (lib/seal.ts,
 * AES-256-GCM under an HKDF-derived key, bound to the record's id):
 * - the pair a refresh produced, under the refresh token it replaced: two clients racing with the same
 *   refresh token (a browser's tabs, a retried request) must get the same new pair, yet the store may
 *   hold tokens only as hashes;
 * - the user's GitHub token, for resources that check GitHub memberships on every refresh: under the
 *   authorization code until it is redeemed, then under the family's current refresh token, re-sealed
 *   at each rotation. Whoever reads the store cannot call GitHub in a user's name; only the client
 *   holding the code or refresh token can make us do it.
 */
import * as v from 'valibot'
import { openWithSecret, sealWithSecret } from '../../lib/index.ts'
import type { SealedSchema } from './model.ts'

type Sealed = v.InferOutput<typeof SealedSchema>

/** HKDF info per use, so one secret yields unrelated keys; the successor's is unchanged since it was first stored. */
const PURPOSES = {
  successor: 'oauth-https-proxy refresh successor v1',
  upstreamUnderCode: 'oauth-https-proxy github token under code v1',
  upstreamUnderRefresh: 'oauth-https-proxy github token under refresh token v1',
} as const

export const sealSuccessor = (refreshToken: string, familyId: string, payload: unknown): Promise<Sealed> =>
  sealWithSecret(refreshToken, familyId, PURPOSES.successor, JSON.stringify(payload))

/** The payload, or null when this token's key does not open it (GCM authenticates, so a wrong key never yields garbage). */
export async function openSuccessor(refreshToken: string, familyId: string, sealed: Sealed): Promise<unknown> {
  const text = await openWithSecret(refreshToken, familyId, PURPOSES.successor, sealed)
  return text === null ? null : JSON.parse(text)
}

/** Where a GitHub token waits: under the code (id: the code's hash) or under a refresh token (id: the family id). */
export type UpstreamHolder = 'code' | 'refresh'

const purposeOf = (holder: UpstreamHolder) => (holder === 'code' ? PURPOSES.upstreamUnderCode : PURPOSES.upstreamUnderRefresh)

export const sealUpstreamToken = (holder: UpstreamHolder, secret: string, id: string, token: string): Promise<Sealed> =>
  sealWithSecret(secret, id, purposeOf(holder), token)

export const openUpstreamToken = (holder: UpstreamHolder, secret: string, id: string, sealed: Sealed): Promise<string | null> =>
  openWithSecret(secret, id, purposeOf(holder), sealed)
