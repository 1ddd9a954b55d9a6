/** @module The random ids browser sign-in hands out (session, sign-in binding, state): 256 bits, base64url. */
import { randomToken } from '../lib/index.ts'

/** What newSecretId produces; anything else was never one of ours, and is refused before any store read. */
const SECRET_ID_SYNTAX = /^[A-Za-z0-9_-]{43}$/

/** 256 random bits (RFC 6749 §10.10: the probability of guessing one is 2^-256 per try; at least 128 is required). */
export function newSecretId(): string {
  return randomToken(32)
}

export function isSecretId(text: string): boolean {
  return SECRET_ID_SYNTAX.test(text)
}
