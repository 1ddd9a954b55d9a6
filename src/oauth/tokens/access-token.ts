/**
 * @module Access tokens: JWTs per RFC 9068 (header typ "at+jwt", one audience per token, RFC 8707),
 * signed with the key ring's active key. Verification pins the algorithm, resolves the key by kid
 * from our own ring only, and checks typ, iss, aud, exp and nbf, then (when asked) the jti denylist.
 */
import { errors, jwtVerify, SignJWT } from 'jose'
import { randomToken, type Clock } from '../../lib/index.ts'
import { parseScopeClaim, type Scope } from './scopes.ts'
import { SIGNING_ALG, type KeyRing } from './signing-keys.ts'

export const ACCESS_TOKEN_TYPE = 'at+jwt'

export interface AccessTokenGrant {
  readonly issuer: string
  readonly audience: string
  /** Stable user id (GitHub's numeric id, or "local:NAME" for host-issued tokens). */
  readonly subject: string
  readonly username: string
  readonly email?: string
  readonly scopes: readonly Scope[]
  readonly clientId: string
  readonly ttlSec: number
  /** The token's id; random when omitted. The grants module picks it so it can revoke the token later. */
  readonly jti?: string
}

export interface AccessTokenClaims {
  readonly iss: string
  readonly sub: string
  readonly aud: string
  readonly username: string
  readonly email?: string
  readonly scopes: Scope[]
  readonly clientId: string
  readonly jti: string
  readonly iat: number
  readonly exp: number
}

export type VerifyFailure = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'claims' | 'revoked'
export type VerifyResult = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: VerifyFailure }

export async function issueAccessToken(ring: KeyRing, clock: Clock, grant: AccessTokenGrant): Promise<string> {
  const { kid, privateKey } = await ring.activeKey()
  const iat = Math.floor(clock.nowMs() / 1000)
  return new SignJWT({
    username: grant.username,
    ...(grant.email ? { email: grant.email } : {}),
    scope: grant.scopes.join(' '),
    client_id: grant.clientId,
  })
    .setProtectedHeader({ alg: SIGNING_ALG, typ: ACCESS_TOKEN_TYPE, kid })
    .setIssuer(grant.issuer)
    .setSubject(grant.subject)
    .setAudience(grant.audience)
    .setJti(grant.jti ?? randomToken(16))
    .setIssuedAt(iat)
    .setExpirationTime(iat + grant.ttlSec)
    .sign(privateKey)
}

export interface VerifyOptions {
  /** Issuers whose tokens this verifier accepts: a list, or a question asked once the signature holds. */
  readonly issuers: readonly string[] | ((issuer: string) => Promise<boolean>)
  readonly audience: string
  /**
   * The jti denylist (RFC 7009 revocation). Asked on every verification, never cached here, so a
   * revoked token is refused as soon as the store has the entry.
   */
  readonly isRevoked?: (jti: string) => Promise<boolean>
}

/**
 * Never throws for a bad token: the reason is for logs; callers answer every failure with the same
 * 401. It does throw when the key ring or the denylist cannot be read (store outage): that is not
 * the token's fault, and a 401 would make clients throw away a good token.
 */
export async function verifyAccessToken(ring: KeyRing, clock: Clock, token: string, options: VerifyOptions): Promise<VerifyResult> {
  const { issuers } = options
  const result = await verifySigned(ring, clock, token, { audience: options.audience, ...(typeof issuers === 'function' ? {} : { issuers }) })
  // RFC 9068 §4: the issuer must be one of ours.
  if (result.ok && typeof issuers === 'function' && !(await issuers(result.claims.iss))) return { ok: false, reason: 'claims' }
  if (result.ok && options.isRevoked && (await options.isRevoked(result.claims.jti))) return { ok: false, reason: 'revoked' }
  return result
}

/**
 * Signature, typ and lifetime only, for any of our issuers and audiences: what revocation
 * (RFC 7009) and introspection (RFC 7662) need to recognise one of our tokens. Never use it to
 * admit a request; that is verifyAccessToken's job.
 */
export function readAccessToken(ring: KeyRing, clock: Clock, token: string): Promise<VerifyResult> {
  return verifySigned(ring, clock, token, {})
}

async function verifySigned(
  ring: KeyRing,
  clock: Clock,
  token: string,
  options: { readonly issuers?: readonly string[]; readonly audience?: string },
): Promise<VerifyResult> {
  let unknownKid = false
  let keyLookupError: unknown = null
  const lookUp = async (kid: string) => {
    try {
      return await ring.publicKey(kid)
    } catch (error) {
      keyLookupError = error
      throw error
    }
  }
  try {
    const { payload } = await jwtVerify(
      token,
      async (header) => {
        const key = typeof header.kid === 'string' ? await lookUp(header.kid) : null
        if (!key) {
          unknownKid = true
          throw new errors.JWKSNoMatchingKey()
        }
        return key
      },
      {
        algorithms: [SIGNING_ALG],
        typ: ACCESS_TOKEN_TYPE,
        ...(options.issuers ? { issuer: options.issuers as string[] } : {}),
        ...(options.audience === undefined ? {} : { audience: options.audience }),
        currentDate: new Date(clock.nowMs()),
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti'],
      },
    )
    // RFC 9068 §2.2 allows an array, but ours always carry exactly one audience (RFC 8707).
    const audience = options.audience ?? payload.aud
    if (typeof audience !== 'string') return { ok: false, reason: 'claims' }
    const claims: AccessTokenClaims = {
      iss: payload.iss!,
      sub: payload.sub!,
      aud: audience,
      username: typeof payload.username === 'string' ? payload.username : payload.sub!,
      ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
      scopes: parseScopeClaim(payload.scope),
      clientId: typeof payload.client_id === 'string' ? payload.client_id : '',
      jti: payload.jti!,
      iat: payload.iat!,
      exp: payload.exp!,
    }
    return { ok: true, claims }
  } catch (error) {
    if (keyLookupError) throw keyLookupError
    if (unknownKid) return { ok: false, reason: 'unknown_key' }
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired' }
    if (error instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: 'bad_signature' }
    if (error instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: 'claims' }
    return { ok: false, reason: 'malformed' }
  }
}
