/**
 * @module The only place store keys are built. Keys are paths ("keys/signing/<kid>"); every
 * caller-supplied segment goes through safe(), so a segment can never contain "/" or escape its
 * prefix. The whole key space is documented in storage-schema.md beside this file.
 */

/** Encodes one path segment: "/" "%" and control characters are percent-encoded, ".." is refused. */
export function safe(segment: string): string {
  if (segment === '' || segment === '.' || segment === '..') throw new Error(`invalid key segment ${JSON.stringify(segment)}`)
  return segment.replace(/[%/\u0000-\u001f\u007f]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase())
}

export function unsafe(segment: string): string {
  return decodeURIComponent(segment)
}

/** Collection prefixes: every document of a collection lives at prefix + safe(id). */
export const COLLECTIONS = {
  signingKeys: 'keys/signing/',
} as const

export const keys = {
  lock: (name: string) => `lock/${safe(name)}`,
  /** The kid of the key that signs new tokens. */
  activeSigningKey: () => 'keys/active',
  inCollection: (prefix: string, id: string) => prefix + safe(id),
}

/** Log streams (the append-only, time-indexed collection). */
export const STREAMS = {
  requests: 'requests',
} as const
