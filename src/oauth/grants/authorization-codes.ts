/**
 * @module Authorization codes (RFC 6749 §4.1.2, OAuth 2.1 §4.1.3): 256 random bits, stored only as
 * their SHA-256 hash, alive for a minute, single use through the store's atomic take, bound to the
 * client, the redirect URI, the S256 challenge, the issuer, the resource and the user. A code
 * presented again revokes every token its first redemption produced (RFC 6749 §10.5).
 */
import { randomToken, sha256Hex } from '../../lib/index.ts'
import { grantActivity } from './activity.ts'
import type { GrantsContext } from './context.ts'
import { newFamilyId, revokeFamily, startFamily, toGrant } from './families.ts'
import type { AuthorizationGrant, CodeGrant, GrantFailure, GrantFailureReason, TokenResult } from './model.ts'
import { isS256Challenge, verifyS256 } from './pkce.ts'
import { resourceNamesGrant } from './resource-match.ts'
import { openUpstreamToken, sealUpstreamToken } from './seals.ts'

const CODE_BYTES = 32
/** What randomToken(32) produces; anything else was never a code of ours. */
const CODE_SYNTAX = /^[A-Za-z0-9_-]{43}$/

export interface RedeemInput {
  readonly code: string
  /** The authenticated client (RFC 6749 §4.1.3). */
  readonly clientId: string
  readonly redirectUri: string
  readonly codeVerifier: string
  /** The issuer of the token endpoint's host: a code is redeemed where it was issued. */
  readonly issuer: string
  /** RFC 8707 §2.2: when present it must name the resource the code was issued for (compared resolved). */
  readonly resource?: string
}

export type RedeemResult = { readonly ok: true; readonly grant: AuthorizationGrant; readonly familyId: string } | GrantFailure
export type ExchangeResult = { readonly ok: true; readonly grant: AuthorizationGrant; readonly tokens: TokenResult } | GrantFailure

const fail = (error: GrantFailure['error'], reason: GrantFailureReason): GrantFailure => ({ ok: false, error, reason })

export async function issueAuthorizationCode(ctx: GrantsContext, grant: CodeGrant): Promise<string> {
  // /authorize refuses plain and malformed challenges (OAuth 2.1 §4.1.1); this is the last guard.
  if (!isS256Challenge(grant.codeChallenge)) throw new Error('code_challenge must be an S256 challenge (RFC 7636 §4.2)')
  const code = randomToken(CODE_BYTES)
  const codeHash = sha256Hex(code)
  const familyId = newFamilyId()
  const expiresAtMs = ctx.clock.nowMs() + ctx.codeLifetimeMs
  // The trace first, so a code that exists always has one.
  await ctx.codeTraces.put(
    codeHash,
    {
      familyId,
      issuer: grant.issuer,
      resource: grant.resource,
      clientId: grant.clientId,
      redirectUri: grant.redirectUri,
      codeChallenge: grant.codeChallenge,
      expiresAtMs,
    },
    { ttlMs: ctx.codeLifetimeMs + ctx.codeTraceMarginMs },
  )
  const upstream = grant.upstreamToken === undefined ? {} : { upstream: await sealUpstreamToken('code', code, codeHash, grant.upstreamToken) }
  await ctx.codes.put(codeHash, { familyId, grant: toGrant(grant), ...upstream }, { ttlMs: ctx.codeLifetimeMs })
  return code
}

/**
 * Checks every binding against the code's trace before taking the code, so a request with a wrong
 * client, redirect URI, issuer, verifier or resource neither consumes the code nor revokes anything.
 * Only a request that would have succeeded, but finds the code gone, counts as a replay.
 */
export async function redeemAuthorizationCode(ctx: GrantsContext, input: RedeemInput): Promise<RedeemResult> {
  if (!CODE_SYNTAX.test(input.code)) return fail('invalid_grant', 'unknown_code')
  const codeHash = sha256Hex(input.code)
  const trace = (await ctx.codeTraces.get(codeHash))?.value
  if (!trace) return fail('invalid_grant', 'unknown_code')
  // RFC 6749 §4.1.3: the code was issued to the authenticated client.
  if (trace.clientId !== input.clientId) return fail('invalid_grant', 'client_mismatch')
  // RFC 6749 §4.1.3: redirect_uri identical to the one in the authorization request.
  if (trace.redirectUri !== input.redirectUri) return fail('invalid_grant', 'redirect_uri_mismatch')
  if (trace.issuer !== input.issuer) return fail('invalid_grant', 'issuer_mismatch')
  // RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) must equal the stored code_challenge.
  if (!verifyS256(input.codeVerifier, trace.codeChallenge)) return fail('invalid_grant', 'verifier_mismatch')
  if (input.resource !== undefined && !resourceNamesGrant(input.resource, trace.resource)) return fail('invalid_target', 'resource_mismatch')

  // RFC 6749 §4.1.2: single use; of concurrent redemptions exactly one takes the code.
  const code = await ctx.codes.take(codeHash)
  if (code) {
    // Only this code opens it; a value that does not open leaves a grant without one, which a membership recheck refuses.
    const upstreamToken = code.upstream && (await openUpstreamToken('code', input.code, codeHash, code.upstream))
    return { ok: true, grant: upstreamToken ? { ...code.grant, upstreamToken } : code.grant, familyId: code.familyId }
  }

  // OAuth 2.1 §4.1.3, RFC 6749 §10.5: a second redemption is denied and every token from the first
  // is revoked. A code that simply expired unredeemed has no tokens; its family is closed all the same.
  const revoked = await revokeFamily(ctx, trace.familyId, 'authorization code replayed')
  const reason = revoked || ctx.clock.nowMs() < trace.expiresAtMs ? 'code_replayed' : 'code_expired'
  if (reason === 'code_replayed') ctx.logger.warn('authorization code presented twice', { clientId: input.clientId, familyId: trace.familyId, tokensRevoked: revoked })
  return fail('invalid_grant', reason)
}

/** The authorization_code grant end to end: redeem, then start the code's token family. */
export async function exchangeAuthorizationCode(ctx: GrantsContext, input: RedeemInput): Promise<ExchangeResult> {
  const refused = (failure: GrantFailure): GrantFailure => {
    ctx.recordActivity({ type: 'token_refused', grant: 'authorization_code', client_id: input.clientId, reason: failure.reason })
    return failure
  }
  const redeemed = await redeemAuthorizationCode(ctx, input)
  if (!redeemed.ok) return refused(redeemed)
  const tokens = await startFamily(ctx, redeemed.grant, redeemed.familyId)
  // A replay got in between the take and this point and revoked the family: nothing may be issued.
  if (!tokens) return refused(fail('invalid_grant', 'code_replayed'))
  ctx.recordActivity({ type: 'token_issued', grant: 'authorization_code', ...grantActivity(redeemed.grant) })
  return { ok: true, grant: redeemed.grant, tokens }
}
