/** @module SHA-256 digests, for storing secrets (codes, tokens) only as hashes. */

export function sha256Hex(text: string): string {
  return new Bun.CryptoHasher('sha256').update(text).digest('hex')
}
