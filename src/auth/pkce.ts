/**
 * @module PKCE for our own sign-in, the client side (RFC 7636): a fresh verifier per sign-in and its
 * S256 challenge. The authorization server's side checks the pair (oauth/grants/pkce.ts).
 */
import { encodeBase64url, randomToken } from '../lib/index.ts'

/** RFC 7636 §4.1: 32 random octets, base64url: 43 characters of the unreserved set, 256 bits of entropy. */
export function newCodeVerifier(): string {
  return randomToken(32)
}

/** RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))). */
export function s256Challenge(codeVerifier: string): string {
  return encodeBase64url(new Bun.CryptoHasher('sha256').update(codeVerifier).digest())
}
