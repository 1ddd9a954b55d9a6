/**
 * @module The two Bearer credentials of registration (RFC 6750 §2.1 header only): the initial access
 * token that admits POST /register (RFC 7591 §3) and the registration access token that manages one
 * client (RFC 7592 §2). Both fail the same way: 401 invalid_token with a Bearer challenge.
 */
import type { Context } from 'hono'
import { ApiError } from '../errors.ts'

export type RegistrationCredential = 'initial access token' | 'registration access token'

/** RFC 6750 §3: no credentials → a bare challenge, no error code in it. */
function missingToken(credential: RegistrationCredential): ApiError {
  return new ApiError(401, 'invalid_token', `the ${credential} is required (Authorization: Bearer)`, { 'WWW-Authenticate': 'Bearer' })
}

/** RFC 6750 §3.1 invalid_token; also RFC 7592 §2.1's answer for a client that does not exist. */
export function invalidToken(credential: RegistrationCredential): ApiError {
  return new ApiError(401, 'invalid_token', `the ${credential} is invalid`, { 'WWW-Authenticate': 'Bearer error="invalid_token"' })
}

export function bearerToken(c: Context, credential: RegistrationCredential): string {
  const header = c.req.header('authorization')
  if (!header) throw missingToken(credential)
  // RFC 6750 §2.1 b64token syntax.
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  if (!match) throw invalidToken(credential)
  return match[1]!
}
