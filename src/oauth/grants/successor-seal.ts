/**
 * @module Seals the pair a refresh produced so that only the holder of the refresh token it replaced
 * can read it again. Two clients racing with the same refresh token (a browser's tabs, a retried
 * request) must get the same new pair, yet the store may hold tokens only as hashes. So the pair is
 * encrypted with AES-256-GCM under a key derived by HKDF-SHA-256 from the old refresh token, which
 * the store never sees; the family id is the salt and the additional data, so a sealed pair cannot be
 * moved to another family. The same idea as workers-oauth-provider's key wrapped by the token.
 */
import * as v from 'valibot'
import { encodeBase64url } from '../../lib/index.ts'
import type { SealedSchema } from './model.ts'

type Sealed = v.InferOutput<typeof SealedSchema>

const INFO = new TextEncoder().encode('oauth-https-proxy refresh successor v1')
const IV_BYTES = 12

async function deriveKey(refreshToken: string, familyId: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(refreshToken), 'HKDF', false, ['deriveKey'])
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new TextEncoder().encode(familyId), info: INFO },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  )
}

export async function sealSuccessor(refreshToken: string, familyId: string, payload: unknown): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const key = await deriveKey(refreshToken, familyId)
  const plaintext = new TextEncoder().encode(JSON.stringify(payload))
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(familyId) }, key, plaintext)
  return { iv: encodeBase64url(iv), data: encodeBase64url(new Uint8Array(data)) }
}

/** The payload, or null when this token's key does not open it (GCM authenticates, so a wrong key never yields garbage). */
export async function openSuccessor(refreshToken: string, familyId: string, sealed: Sealed): Promise<unknown> {
  try {
    const key = await deriveKey(refreshToken, familyId)
    const iv = Buffer.from(sealed.iv, 'base64url')
    const plaintext = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(familyId) }, key, Buffer.from(sealed.data, 'base64url'))
    return JSON.parse(new TextDecoder().decode(plaintext))
  } catch {
    return null
  }
}
