/**
 * @module Token revocation (RFC 7009) and introspection (RFC 7662) for both kinds of token: access
 * tokens are our JWTs (revoked by jti into the denylist), refresh tokens are opaque (revoked with
 * their whole family). The caller has authenticated the client already.
 */
import { secretsEqual } from '../../lib/index.ts'
import { readAccessToken } from '../tokens/access-token.ts'
import type { GrantsContext } from './context.ts'
import { denylistAccessToken, findRefreshToken, isAccessTokenRevoked, revokeFamily } from './families.ts'
import type { IntrospectionResponse, RevokeOutcome } from './model.ts'

/** A JWS compact serialization has three dot-separated parts; our refresh tokens have none. */
const looksLikeJwt = (token: string) => token.split('.').length === 3

const INACTIVE: IntrospectionResponse = { active: false }

/**
 * RFC 7009 §2.1: revokes the token if it is one of ours and was issued to this client; otherwise
 * does nothing (§2.2: the answer is 200 either way). token_type_hint is unnecessary: the two kinds
 * cannot be mistaken for each other.
 */
export async function revokeToken(ctx: GrantsContext, token: string, clientId: string): Promise<RevokeOutcome> {
  if (looksLikeJwt(token)) {
    const read = await readAccessToken(ctx.keyRing, ctx.clock, token)
    if (!read.ok) return 'not_found'
    // §2.1: the server verifies that the token was issued to the client making the request.
    if (read.claims.clientId !== clientId) return 'other_client'
    await denylistAccessToken(ctx, read.claims.jti, read.claims.exp)
    ctx.logger.info('access token revoked', { clientId, jti: read.claims.jti })
    const { claims } = read
    ctx.recordActivity({ type: 'token_revoked', user: claims.username, user_id: claims.sub, client_id: clientId, resource: claims.aud, scopes: [...claims.scopes], reason: 'access token revoked by its client (RFC 7009)' })
    return 'revoked'
  }
  const found = await findRefreshToken(ctx, token)
  const family = found && (await ctx.families.get(found.familyId))?.value
  if (!found || !family || family.state === 'revoked') return 'not_found'
  if (family.grant.clientId !== clientId) return 'other_client'
  // §2.1: revoking a refresh token SHOULD revoke the access tokens of the same grant: the family.
  await revokeFamily(ctx, found.familyId, 'revoked by its client (RFC 7009)')
  return 'revoked'
}

/** RFC 7662 §2.2: details for an active token; `{active: false}` and nothing else for any other. */
export async function introspectToken(ctx: GrantsContext, token: string): Promise<IntrospectionResponse> {
  if (looksLikeJwt(token)) {
    const read = await readAccessToken(ctx.keyRing, ctx.clock, token)
    if (!read.ok || (await isAccessTokenRevoked(ctx, read.claims.jti))) return INACTIVE
    const claims = read.claims
    return {
      active: true,
      scope: claims.scopes.join(' '),
      client_id: claims.clientId,
      username: claims.username,
      token_type: 'Bearer',
      exp: claims.exp,
      iat: claims.iat,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      jti: claims.jti,
    }
  }
  const found = await findRefreshToken(ctx, token)
  const family = found && (await ctx.families.get(found.familyId))?.value
  // Only the current token of a live family is active: a rotated-away one is not, grace or no grace.
  if (!found || !family || family.state === 'revoked' || !secretsEqual(found.tokenHash, family.current.tokenHash)) return INACTIVE
  if (ctx.clock.nowMs() >= family.current.expiresAtMs) return INACTIVE
  return {
    active: true,
    scope: family.grant.scopes.join(' '),
    client_id: family.grant.clientId,
    username: family.grant.user.username,
    exp: Math.floor(family.current.expiresAtMs / 1000),
    iat: Math.floor(family.current.issuedAtMs / 1000),
    sub: family.grant.user.sub,
    aud: family.grant.resource,
    iss: family.grant.issuer,
  }
}
