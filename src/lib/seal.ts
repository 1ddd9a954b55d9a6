/**
 * @module Seals a value so that only the holder of a secret the store never sees can open it again:
 * AES-256-GCM under a key HKDF-SHA-256-derived from that secret. The record's id is the HKDF salt and
 * the GCM additional data, so a sealed value cannot be moved to another record; `purpose` is the HKDF
 * info, so one secret yields unrelated keys for unrelated uses. The same idea as workers-oauth-provider's
 * key wrapped by the token (and oauth/grants/successor-seal.ts, oauth/device/seal.ts).
 * @see https://www.rfc-editor.org/rfc/rfc5869 (HKDF)
 */
import { encodeBase64url } from './base64url.ts'

/** AES-GCM output: the 96-bit IV and the ciphertext with its tag, base64url. */
export interface Sealed {
  readonly iv: string
  readonly data: string
}

const IV_BYTES = 12
const encoder = new TextEncoder()

async function deriveKey(secret: string, id: string, purpose: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey'])
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode(id), info: encoder.encode(purpose) },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  )
}

export async function sealWithSecret(secret: string, id: string, purpose: string, plaintext: string): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const key = await deriveKey(secret, id, purpose)
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(id) }, key, encoder.encode(plaintext))
  return { iv: encodeBase64url(iv), data: encodeBase64url(new Uint8Array(data)) }
}

/** The plaintext, or null when this secret, id and purpose do not open it (GCM authenticates, so a wrong key never yields garbage). */
export async function openWithSecret(secret: string, id: string, purpose: string, sealed: Sealed): Promise<string | null> {
  try {
    const key = await deriveKey(secret, id, purpose)
    const iv = Buffer.from(sealed.iv, 'base64url')
    const plaintext = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(id) }, key, Buffer.from(sealed.data, 'base64url'))
    return new TextDecoder().decode(plaintext)
  } catch {
    return null
  }
}
