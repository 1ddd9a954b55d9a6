/** @module base64url encoding without padding (RFC 4648 §5). */

export function encodeBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url')
}

export function randomToken(byteLength = 32): string {
  return encodeBase64url(crypto.getRandomValues(new Uint8Array(byteLength)))
}
