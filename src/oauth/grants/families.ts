/**
 * @module Refresh-token families: one per authorization. A family holds its current refresh token's
 * hash, the previous one for the grace period, and the ids of its live access tokens, so revoking it
 * (reuse detected, code replayed, access withdrawn, RFC 7009 revocation, an admin) ends every token
 * it issued: refresh tokens at once, access tokens through the jti denylist.
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
 */
import { randomToken, sha256Hex } from '../../lib/index.ts'
import { keys } from '../../store/index.ts'
import { issueAccessToken } from '../tokens/access-token.ts'
import { grantActivity } from './activity.ts'
import { MAX_CAS_ATTEMPTS, type GrantsContext } from './context.ts'
import type { ActiveFamily, AuthorizationGrant, FamilySummary, StoredGrant, TokenResult } from './model.ts'
import { sealUpstreamToken } from './seals.ts'

/** 256 bits, like every other bearer secret here. */
const REFRESH_TOKEN_BYTES = 32
const FAMILY_ID_BYTES = 16
const JTI_BYTES = 16
/** A denylist entry outlives its token by this much, so nodes whose clocks run behind still refuse it. */
const DENYLIST_MARGIN_MS = 60_000
/** Ours are base64url (randomToken); anything else cannot be a key segment and cannot be one of ours. */
const TOKEN_SYNTAX = /^[A-Za-z0-9_-]{16,512}$/

export const newFamilyId = (): string => randomToken(FAMILY_ID_BYTES)

export interface MintedPair {
  readonly tokens: TokenResult
  readonly jti: string
  readonly accessExpSec: number
  readonly refreshHash: string
}

/** Only the grant's own fields, so a caller's extra properties (a CodeGrant's redirect URI) never reach a document. */
export function toGrant(grant: AuthorizationGrant): StoredGrant {
  const { sub, username, email } = grant.user
  return {
    issuer: grant.issuer,
    resource: grant.resource,
    clientId: grant.clientId,
    user: email === undefined ? { sub, username } : { sub, username, email },
    scopes: [...grant.scopes],
  }
}

/** A fresh access token (aud = the one resource, RFC 8707) and refresh token for a grant; nothing stored yet. */
export async function mintPair(ctx: GrantsContext, grant: AuthorizationGrant): Promise<MintedPair> {
  const jti = randomToken(JTI_BYTES)
  const ttlSec = ctx.accessTokenLifetimeSec
  const accessExpSec = Math.floor(ctx.clock.nowMs() / 1000) + ttlSec
  const accessToken = await issueAccessToken(ctx.keyRing, ctx.clock, {
    issuer: grant.issuer,
    audience: grant.resource,
    subject: grant.user.sub,
    username: grant.user.username,
    ...(grant.user.email === undefined ? {} : { email: grant.user.email }),
    scopes: grant.scopes,
    clientId: grant.clientId,
    ttlSec,
    jti,
  })
  const refreshToken = randomToken(REFRESH_TOKEN_BYTES)
  return {
    // RFC 6749 §5.1; scope is always sent, as it may be narrower than requested.
    tokens: { access_token: accessToken, token_type: 'Bearer', expires_in: ttlSec, refresh_token: refreshToken, scope: grant.scopes.join(' ') },
    jti,
    accessExpSec,
    refreshHash: sha256Hex(refreshToken),
  }
}

export const refreshLifetimeMs = (ctx: GrantsContext): number => ctx.refreshTokenLifetimeSec * 1000

/** Every refresh token of a family stays findable until it expires, so reuse of any old one is recognised. */
export async function indexRefreshToken(ctx: GrantsContext, tokenHash: string, familyId: string): Promise<void> {
  await ctx.store.put(keys.refreshToken(tokenHash), familyId, { ttlMs: refreshLifetimeMs(ctx) })
}

/** The family id and hash of a refresh token, or null when it is not one of ours (or has expired). */
export async function findRefreshToken(ctx: GrantsContext, token: string): Promise<{ familyId: string; tokenHash: string } | null> {
  if (!TOKEN_SYNTAX.test(token)) return null
  const tokenHash = sha256Hex(token)
  const found = await ctx.store.get(keys.refreshToken(tokenHash))
  return found && { familyId: found.value, tokenHash }
}

export const liveAccessTokens = (list: ActiveFamily['accessTokens'], nowMs: number) => list.filter((entry) => entry.expSec * 1000 > nowMs)

/**
 * Creates a family with its first pair. Null when the family id was already revoked: a replayed code
 * revoked it between the code's redemption and this call, and no token may come out of it.
 */
export async function startFamily(ctx: GrantsContext, grant: AuthorizationGrant, familyId: string): Promise<TokenResult | null> {
  const stored = toGrant(grant)
  const pair = await mintPair(ctx, stored)
  await indexRefreshToken(ctx, pair.refreshHash, familyId)
  const nowMs = ctx.clock.nowMs()
  const family: ActiveFamily = {
    state: 'active',
    familyId,
    grant: stored,
    createdAtMs: nowMs,
    lastUsedAtMs: nowMs,
    current: { tokenHash: pair.refreshHash, issuedAtMs: nowMs, expiresAtMs: nowMs + refreshLifetimeMs(ctx) },
    accessTokens: [{ jti: pair.jti, expSec: pair.accessExpSec }],
    ...(grant.upstreamToken === undefined ? {} : { upstream: await sealUpstreamToken('refresh', pair.tokens.refresh_token, familyId, grant.upstreamToken) }),
  }
  const written = await ctx.families.put(familyId, family, { ifAbsent: true, ttlMs: refreshLifetimeMs(ctx) })
  return written === null ? null : pair.tokens
}

/** RFC 7009: the jti is refused by every verifier until the token would have expired anyway. */
export async function denylistAccessToken(ctx: GrantsContext, jti: string, expSec: number): Promise<void> {
  const ttlMs = expSec * 1000 + DENYLIST_MARGIN_MS - ctx.clock.nowMs()
  if (ttlMs <= 0 || !TOKEN_SYNTAX.test(jti)) return
  await ctx.store.put(keys.revokedAccessToken(jti), String(ctx.clock.nowMs()), { ttlMs })
  // The denylist entry is what counts; a lost announcement only delays the refusal on nodes that cached the token.
  await ctx.onAccessTokenRevoked?.(jti).catch((error) => ctx.logger.warn('announcing a revoked access token failed', { jti, error: String(error) }))
}

export async function isAccessTokenRevoked(ctx: GrantsContext, jti: string): Promise<boolean> {
  // Not the shape of our jtis: no token of ours, so nothing to admit (and no key to build).
  if (!TOKEN_SYNTAX.test(jti)) return true
  return (await ctx.store.get(keys.revokedAccessToken(jti))) !== null
}

/**
 * Ends a family: its live access tokens go on the denylist, then the document becomes a tombstone
 * (by compare-and-set, so a rotation racing with this is either seen or retried). A family id with no
 * document yet gets a tombstone too, so it can never be started. Returns whether a live family ended.
 */
export async function revokeFamily(ctx: GrantsContext, familyId: string, why: string): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const found = await ctx.families.get(familyId)
    const tombstone = { state: 'revoked' as const, familyId, revokedAtMs: ctx.clock.nowMs() }
    const ttlMs = refreshLifetimeMs(ctx)
    if (!found) {
      if ((await ctx.families.put(familyId, tombstone, { ifAbsent: true, ttlMs })) !== null) return false
      continue
    }
    if (found.value.state === 'revoked') return false
    for (const { jti, expSec } of found.value.accessTokens) await denylistAccessToken(ctx, jti, expSec)
    if ((await ctx.families.put(familyId, tombstone, { ifVersion: found.version, ttlMs })) !== null) {
      ctx.logger.info('token family revoked', { familyId, clientId: found.value.grant.clientId, username: found.value.grant.user.username, why })
      ctx.recordActivity({ type: 'token_revoked', ...grantActivity(found.value.grant), reason: why })
      return true
    }
  }
  throw new Error(`token family ${familyId} is being changed concurrently; retry`)
}

/** The live families of one GitHub login (compared case-insensitively, as GitHub does), or of one client; oldest first. */
export async function listFamilies(ctx: GrantsContext, of: { readonly username: string } | { readonly clientId: string }): Promise<FamilySummary[]> {
  const matches =
    'username' in of
      ? (family: ActiveFamily) => family.grant.user.username.toLowerCase() === of.username.toLowerCase()
      : (family: ActiveFamily) => family.grant.clientId === of.clientId
  const found: FamilySummary[] = []
  for (const { value } of await ctx.families.list()) {
    if (value.state !== 'active' || !matches(value)) continue
    found.push({
      familyId: value.familyId,
      clientId: value.grant.clientId,
      issuer: value.grant.issuer,
      resource: value.grant.resource,
      user: value.grant.user,
      scopes: value.grant.scopes,
      createdAtMs: value.createdAtMs,
      lastUsedAtMs: value.lastUsedAtMs,
      expiresAtMs: value.current.expiresAtMs,
    })
  }
  return found.sort((a, b) => a.createdAtMs - b.createdAtMs)
}
