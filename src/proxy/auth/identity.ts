/**
 * @module Who the backend is told the user is: the original's header names (original-behaviour §4.6),
 * set only by the proxy after verification. Every client-sent header of that family is dropped on
 * every path before these are added (headers.ts isIdentityHeader).
 */
import type { AccessTokenClaims } from '../../oauth/index.ts'

export type IdentityHeaders = readonly (readonly [string, string])[]

export function identityOf(claims: AccessTokenClaims): IdentityHeaders {
  return [
    ['x-auth-user', headerSafe(claims.username)],
    ['x-auth-user-id', headerSafe(claims.sub)],
    ...(claims.email ? ([['x-auth-email', headerSafe(claims.email)]] as const) : []),
    ['x-auth-scopes', claims.scopes.join(' ')],
    ['x-auth-client-id', headerSafe(claims.clientId)],
  ]
}

/** The identity as raw field lines for the relay's upstream head. */
export function identityLines(identity: IdentityHeaders): string {
  let lines = ''
  for (const [name, value] of identity) lines += `${name}: ${value}\r\n`
  return lines
}

/**
 * Claims are ours (signed), but an email or a name is the user's own text: a field value holds only
 * visible ASCII and spaces (RFC 9110 §5.5), so nothing can end a header line or be read two ways.
 */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 512)
}
