/**
 * @module Seals GitHub's device code under our own: AES-256-GCM with a key HKDF-SHA-256-derived from
 * our device_code, which the store never sees (salt and additional data: the record's id, so a sealed
 * value cannot be moved to another record). Whoever reads the store cannot poll GitHub in a user's
 * name; only the client holding our device_code can make us do it. Same idea as successor-seal.ts.
 */
import * as v from 'valibot'
import { encodeBase64url } from '../../lib/index.ts'
import type { SealedSchema } from './model.ts'

type Sealed = v.InferOutput<typeof SealedSchema>

const INFO = new TextEncoder().encode('oauth-https-proxy github device code v1')
const IV_BYTES = 12

async function deriveKey(deviceCode: string, id: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(deviceCode), 'HKDF', false, ['deriveKey'])
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new TextEncoder().encode(id), info: INFO },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  )
}

export async function sealGitHubCode(deviceCode: string, id: string, githubCode: string): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const key = await deriveKey(deviceCode, id)
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(id) }, key, new TextEncoder().encode(githubCode))
  return { iv: encodeBase64url(iv), data: encodeBase64url(new Uint8Array(data)) }
}

/** GitHub's code, or null when this device code's key does not open it (GCM authenticates). */
export async function openGitHubCode(deviceCode: string, id: string, sealed: Sealed): Promise<string | null> {
  try {
    const key = await deriveKey(deviceCode, id)
    const iv = Buffer.from(sealed.iv, 'base64url')
    const plaintext = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(id) }, key, Buffer.from(sealed.data, 'base64url'))
    return new TextDecoder().decode(plaintext)
  } catch {
    return null
  }
}
