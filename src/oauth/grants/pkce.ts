/**
 * @module PKCE with S256 only (RFC 7636; OAuth 2.1 §4.1.1 requires it of every client, `plain` is
 * refused). The verifier check is constant-time on the challenge.
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.6
 */
import { createHash } from 'node:crypto'
import { secretsEqual } from '../../lib/index.ts'

/** RFC 7636 §4.1: code-verifier = 43*128unreserved, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~". */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/
/** RFC 7636 §4.2: BASE64URL-ENCODE(SHA256(...)) of 32 bytes is exactly 43 characters, no padding. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/

export function isCodeVerifier(text: string): boolean {
  return CODE_VERIFIER.test(text)
}

/** Whether text can be an S256 code_challenge at all; /authorize refuses anything else. */
export function isS256Challenge(text: string): boolean {
  return S256_CHALLENGE.test(text)
}

/** RFC 7636 §4.2: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))). */
export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url')
}

/** RFC 7636 §4.6: the server recomputes the challenge from the verifier and compares. */
export function verifyS256(verifier: string, challenge: string): boolean {
  return isCodeVerifier(verifier) && secretsEqual(s256Challenge(verifier), challenge)
}
