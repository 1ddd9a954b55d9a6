/**
 * @module The refresh_token grant (RFC 6749 §6, OAuth 2.1 §4.3): rotation on every use, reuse
 * detection with a short grace, client binding, the resource kept (RFC 8707 §2.2), the policy asked
 * again, scopes that shrink but never grow.
 *
 * Concurrency: the family document changes only by compare-and-set. Of several refreshes racing with
 * the current token exactly one rotates; the others re-read, find their token is now `previous`, and
 * open the sealed successor, so all of them answer with the same new pair.
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
 */
import * as v from 'valibot'
import { secretsEqual } from '../../lib/index.ts'
import { isScope, type Scope } from '../tokens/scopes.ts'
import { grantActivity } from './activity.ts'
import { MAX_CAS_ATTEMPTS, type GrantsContext } from './context.ts'
import { findRefreshToken, indexRefreshToken, liveAccessTokens, mintPair, refreshLifetimeMs, revokeFamily } from './families.ts'
import type { ActiveFamily, GrantFailure, GrantFailureReason, TokenResult } from './model.ts'
import { resourceNamesGrant } from './resource-match.ts'
import { openSuccessor, openUpstreamToken, sealSuccessor, sealUpstreamToken } from './seals.ts'

export interface RefreshInput {
  readonly refreshToken: string
  /** The authenticated client. */
  readonly clientId: string
  /** The issuer of the token endpoint's host: a refresh token is used where it was issued. */
  readonly issuer: string
  /** RFC 8707 §2.2: when present it must name the grant's resource (compared resolved); the audience never changes. */
  readonly resource?: string
  /** RFC 6749 §6: a space-separated subset of the grant's scopes, for a narrower access token. */
  readonly scope?: string
}

export type RefreshResult = { readonly ok: true; readonly tokens: TokenResult } | GrantFailure

const SuccessorSchema = v.object({ access_token: v.string(), refresh_token: v.string(), scope: v.string(), accessExpSec: v.number() })

const fail = (error: GrantFailure['error'], reason: GrantFailureReason): GrantFailure => ({ ok: false, error, reason })

/** RFC 6749 §3.3 scope list → scopes, or null when it names one the grant does not have (invalid_scope). */
function requestedScopes(scope: string | undefined, granted: readonly Scope[]): Scope[] | null | undefined {
  if (scope === undefined) return undefined
  const names = scope.split(' ').filter((name) => name !== '')
  return names.every((name) => isScope(name) && granted.includes(name)) ? (names as Scope[]) : null
}

export async function refreshTokens(ctx: GrantsContext, input: RefreshInput): Promise<RefreshResult> {
  const result = await refreshOnce(ctx, input)
  if (!result.ok && result.reason !== 'token_reused') {
    ctx.recordActivity({ type: 'token_refused', grant: 'refresh_token', client_id: input.clientId, reason: result.reason })
  }
  return result
}

async function refreshOnce(ctx: GrantsContext, input: RefreshInput): Promise<RefreshResult> {
  const found = await findRefreshToken(ctx, input.refreshToken)
  if (!found) return fail('invalid_grant', 'unknown_token')
  const { familyId, tokenHash } = found

  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const doc = await ctx.families.get(familyId)
    if (!doc || doc.value.state === 'revoked') return fail('invalid_grant', 'family_revoked')
    const family = doc.value
    // RFC 6749 §6: the token was issued to this client. Another client's attempt revokes nothing,
    // or any client that saw a token could end the user's session.
    if (family.grant.clientId !== input.clientId) return fail('invalid_grant', 'client_mismatch')
    if (family.grant.issuer !== input.issuer) return fail('invalid_grant', 'issuer_mismatch')
    if (input.resource !== undefined && !resourceNamesGrant(input.resource, family.grant.resource)) return fail('invalid_target', 'resource_mismatch')
    const requested = requestedScopes(input.scope, family.grant.scopes)
    if (requested === null) return fail('invalid_scope', 'scope_not_granted')
    const nowMs = ctx.clock.nowMs()

    if (secretsEqual(tokenHash, family.current.tokenHash)) {
      if (nowMs >= family.current.expiresAtMs) return fail('invalid_grant', 'token_expired')
      const rotated = await rotate(ctx, family, input.refreshToken, requested)
      if (rotated === 'withdrawn') return fail('invalid_grant', 'access_withdrawn')
      if ((await ctx.families.put(familyId, rotated.family, { ifVersion: doc.version, ttlMs: refreshLifetimeMs(ctx) })) !== null) {
        ctx.recordActivity({ type: 'token_refreshed', grant: 'refresh_token', ...grantActivity(rotated.family.grant), scopes: tokenScopes(rotated.tokens) })
        return { ok: true, tokens: rotated.tokens }
      }
      continue // Someone else rotated (or revoked) first: look again.
    }

    if (family.previous && secretsEqual(tokenHash, family.previous.tokenHash) && nowMs - family.previous.rotatedAtMs <= ctx.refreshGraceMs) {
      const successor = v.safeParse(SuccessorSchema, await openSuccessor(input.refreshToken, familyId, family.previous.successor))
      if (successor.success) {
        const { accessExpSec, ...pair } = successor.output
        // A racing twin of a refresh that just rotated: it gets the same new pair.
        ctx.recordActivity({ type: 'token_refreshed', grant: 'refresh_token', ...grantActivity(family.grant), scopes: tokenScopes(pair), reason: 'within_grace' })
        return { ok: true, tokens: { ...pair, token_type: 'Bearer', expires_in: Math.max(0, accessExpSec - Math.floor(nowMs / 1000)) } }
      }
    }

    // RFC 9700 §4.14.2: a refresh token that was already rotated away is being reused; one of the two
    // holders is an attacker, and we cannot tell which, so the whole family ends.
    ctx.recordActivity({ type: 'refresh_reuse_detected', grant: 'refresh_token', ...grantActivity(family.grant), reason: 'token_reused' })
    await revokeFamily(ctx, familyId, 'refresh token reused')
    return fail('invalid_grant', 'token_reused')
  }
  throw new Error(`token family ${familyId} is being changed concurrently; retry`)
}

const tokenScopes = (tokens: Pick<TokenResult, 'scope'>) => tokens.scope.split(' ').filter((scope) => scope !== '')

interface Rotation {
  readonly family: ActiveFamily
  readonly tokens: TokenResult
}

/** The next family document and the pair it hands out; 'withdrawn' (and the family revoked) when the policy says no. */
async function rotate(ctx: GrantsContext, family: ActiveFamily, oldToken: string, requested: Scope[] | undefined): Promise<Rotation | 'withdrawn'> {
  // Sealed under the current refresh token, which this request holds; re-sealed under its successor below.
  const upstreamToken = family.upstream && (await openUpstreamToken('refresh', oldToken, family.familyId, family.upstream))
  const allowed = await ctx.recheck(upstreamToken ? { ...family.grant, upstreamToken } : family.grant)
  if (allowed === null) {
    await revokeFamily(ctx, family.familyId, 'access withdrawn by policy')
    return 'withdrawn'
  }
  // Only scopes the grant had and the policy still gives: the family can shrink, never grow.
  const familyScopes = family.grant.scopes.filter((scope) => allowed.includes(scope))
  const tokenScopes = requested ? familyScopes.filter((scope) => requested.includes(scope)) : familyScopes
  const pair = await mintPair(ctx, { ...family.grant, scopes: tokenScopes })
  await indexRefreshToken(ctx, pair.refreshHash, family.familyId)
  const nowMs = ctx.clock.nowMs()
  const successor = { access_token: pair.tokens.access_token, refresh_token: pair.tokens.refresh_token, scope: pair.tokens.scope, accessExpSec: pair.accessExpSec }
  return {
    tokens: pair.tokens,
    family: {
      ...family,
      grant: { ...family.grant, scopes: familyScopes },
      lastUsedAtMs: nowMs,
      current: { tokenHash: pair.refreshHash, issuedAtMs: nowMs, expiresAtMs: nowMs + refreshLifetimeMs(ctx) },
      previous: { tokenHash: family.current.tokenHash, rotatedAtMs: nowMs, successor: await sealSuccessor(oldToken, family.familyId, successor) },
      accessTokens: [...liveAccessTokens(family.accessTokens, nowMs), { jti: pair.jti, expSec: pair.accessExpSec }],
      upstream: upstreamToken ? await sealUpstreamToken('refresh', pair.tokens.refresh_token, family.familyId, upstreamToken) : undefined,
    },
  }
}
