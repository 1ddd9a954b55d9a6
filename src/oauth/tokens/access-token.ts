/**
 * @module Access tokens: JWTs per RFC 9068 (header typ "at+jwt", one audience per token, RFC 8707),
 * signed with the key ring's active key. Verification pins the algorithm, resolves the key by kid
 * from our own ring only, and checks typ, iss, aud, exp and nbf.
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

export type VerifyFailure = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'claims'
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
    .setJti(randomToken(16))
    .setIssuedAt(iat)
    .setExpirationTime(iat + grant.ttlSec)
    .sign(privateKey)
}

export interface VerifyOptions {
  /** Issuers whose tokens this verifier accepts. */
  readonly issuers: readonly string[]
  readonly audience: string
}

/**
 * Never throws for a bad token: the reason is for logs; callers answer every failure with the same
 * 401. It does throw when the key ring cannot be read (store outage): that is not the token's fault,
 * and a 401 would make clients throw away a good token.
 */
export async function verifyAccessToken(ring: KeyRing, clock: Clock, token: string, options: VerifyOptions): Promise<VerifyResult> {
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
        issuer: options.issuers as string[],
        audience: options.audience,
        currentDate: new Date(clock.nowMs()),
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti'],
      },
    )
    const claims: AccessTokenClaims = {
      iss: payload.iss!,
      sub: payload.sub!,
      aud: options.audience,
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
