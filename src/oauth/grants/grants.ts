/**
 * @module The grants service: one object the token endpoint, /callback and the device grant share.
 * Built once by the composition root; holds no state of its own beyond what the store keeps, so any
 * number of nodes on one store agree.
 */
import type { Clock, Logger } from '../../lib/index.ts'
import type { Store } from '../../store/index.ts'
import { ignoreActivity, type RecordActivity } from '../activity.ts'
import type { KeyRing } from '../tokens/signing-keys.ts'
import { exchangeAuthorizationCode, issueAuthorizationCode, redeemAuthorizationCode, type ExchangeResult, type RedeemInput, type RedeemResult } from './authorization-codes.ts'
import { grantActivity } from './activity.ts'
import { createGrantsContext } from './context.ts'
import { isAccessTokenRevoked, listFamilies, newFamilyId, revokeFamily, startFamily } from './families.ts'
import type { AuthorizationGrant, CodeGrant, FamilySummary, IntrospectionResponse, Recheck, RevokeOutcome, TokenResult } from './model.ts'
import { refreshTokens, type RefreshInput, type RefreshResult } from './refresh.ts'
import { introspectToken, revokeToken } from './revocation.ts'

/** OAuth 2.1 §4.1.2 recommends at most 10 minutes; a client exchanges its code within seconds. */
export const DEFAULT_CODE_LIFETIME_SEC = 60
/** Two requests racing with one refresh token arrive within milliseconds; a retried one within seconds. */
export const DEFAULT_REFRESH_GRACE_SEC = 10
/** A replay this long after a code expired still revokes what the code produced. */
const CODE_TRACE_MARGIN_SEC = 600
/** newFamilyId()'s shape; an admin's path parameter is checked against it before it becomes a key. */
const FAMILY_ID_SYNTAX = /^[A-Za-z0-9_-]{22}$/

export interface GrantsOptions {
  readonly store: Store
  readonly clock: Clock
  readonly keyRing: KeyRing
  readonly logger: Logger
  /** The policy, asked again on every refresh (allowlists and scope lists may have changed). */
  readonly recheck: Recheck
  /** OAUTH_ACCESS_TOKEN_LIFETIME */
  readonly accessTokenLifetimeSec: number
  /** OAUTH_REFRESH_TOKEN_LIFETIME: each refresh token lives this long from its issue (an idle timeout for the family). */
  readonly refreshTokenLifetimeSec: number
  readonly refreshGraceSec?: number
  readonly codeLifetimeSec?: number
  /** Told each access token's jti once it is on the denylist. */
  readonly onAccessTokenRevoked?: (jti: string) => Promise<void>
  /** The OAuth activity log (tokens issued, refreshed, refused, revoked; reuse detected); absent: none. */
  readonly recordActivity?: RecordActivity
}

export interface Grants {
  /** /callback: a code bound to the grant, the redirect URI and the S256 challenge. Throws on a challenge that is not S256. */
  issueAuthorizationCode(grant: CodeGrant): Promise<string>
  /** Checks and consumes a code; mostly for tests, since exchangeAuthorizationCode is what /token uses. */
  redeemAuthorizationCode(input: RedeemInput): Promise<RedeemResult>
  /** grant_type=authorization_code: redeem the code and issue the first pair of its family. */
  exchangeAuthorizationCode(input: RedeemInput): Promise<ExchangeResult>
  /** A new family with its first pair, for grants that have no code (the device grant, RFC 8628). */
  issueTokens(grant: AuthorizationGrant): Promise<TokenResult>
  /** grant_type=refresh_token (RFC 6749 §6). */
  refresh(input: RefreshInput): Promise<RefreshResult>
  /** RFC 7009: never fails for an unknown token or another client's; the outcome is for logs. */
  revoke(token: string, clientId: string): Promise<RevokeOutcome>
  /** The jti denylist, for every access-token verifier (VerifyOptions.isRevoked). Reads the store each time. */
  isRevoked(jti: string): Promise<boolean>
  /** RFC 7662, after the caller authenticated a confidential client. */
  introspect(token: string): Promise<IntrospectionResponse>
  /** A user's live refresh-token families, for the admin view. */
  listFamilies(username: string): Promise<FamilySummary[]>
  /** A client's live refresh-token families, for the admin view. */
  listClientFamilies(clientId: string): Promise<FamilySummary[]>
  /** Ends a family and its live access tokens; false when there was no live family. */
  revokeFamily(familyId: string): Promise<boolean>
  /** Ends every live family of a client (it is being deleted); returns how many ended. */
  revokeClientFamilies(clientId: string): Promise<number>
}

export function createGrants(options: GrantsOptions): Grants {
  const ctx = createGrantsContext({
    store: options.store,
    clock: options.clock,
    keyRing: options.keyRing,
    logger: options.logger,
    recheck: options.recheck,
    accessTokenLifetimeSec: options.accessTokenLifetimeSec,
    refreshTokenLifetimeSec: options.refreshTokenLifetimeSec,
    refreshGraceMs: (options.refreshGraceSec ?? DEFAULT_REFRESH_GRACE_SEC) * 1000,
    codeLifetimeMs: (options.codeLifetimeSec ?? DEFAULT_CODE_LIFETIME_SEC) * 1000,
    codeTraceMarginMs: CODE_TRACE_MARGIN_SEC * 1000,
    ...(options.onAccessTokenRevoked ? { onAccessTokenRevoked: options.onAccessTokenRevoked } : {}),
    recordActivity: options.recordActivity ?? ignoreActivity,
  })
  return {
    issueAuthorizationCode: (grant) => issueAuthorizationCode(ctx, grant),
    redeemAuthorizationCode: (input) => redeemAuthorizationCode(ctx, input),
    exchangeAuthorizationCode: (input) => exchangeAuthorizationCode(ctx, input),
    async issueTokens(grant) {
      const tokens = await startFamily(ctx, grant, newFamilyId())
      // A fresh 128-bit family id cannot already exist.
      if (!tokens) throw new Error('new token family collided with an existing one')
      ctx.recordActivity({ type: 'token_issued', grant: 'device_code', ...grantActivity(grant) })
      return tokens
    },
    refresh: (input) => refreshTokens(ctx, input),
    revoke: (token, clientId) => revokeToken(ctx, token, clientId),
    isRevoked: (jti) => isAccessTokenRevoked(ctx, jti),
    introspect: (token) => introspectToken(ctx, token),
    listFamilies: (username) => listFamilies(ctx, { username }),
    listClientFamilies: (clientId) => listFamilies(ctx, { clientId }),
    async revokeFamily(familyId) {
      // Only a live family: an admin's typo must not leave a tombstone behind.
      if (!FAMILY_ID_SYNTAX.test(familyId) || (await ctx.families.get(familyId))?.value.state !== 'active') return false
      return revokeFamily(ctx, familyId, 'revoked by an admin')
    },
    async revokeClientFamilies(clientId) {
      let ended = 0
      for (const family of await listFamilies(ctx, { clientId })) if (await revokeFamily(ctx, family.familyId, 'client deleted')) ended++
      return ended
    },
  }
}
