/** @module Grants: authorization codes with PKCE, rotating refresh-token families, revocation and introspection. */
export type { ExchangeResult, RedeemInput, RedeemResult } from './authorization-codes.ts'
export { createGrants, DEFAULT_CODE_LIFETIME_SEC, DEFAULT_REFRESH_GRACE_SEC, type Grants, type GrantsOptions } from './grants.ts'
export type {
  AuthorizationGrant,
  CodeGrant,
  FamilySummary,
  GrantFailure,
  GrantFailureReason,
  IntrospectionResponse,
  Recheck,
  RevokeOutcome,
  TokenResult,
} from './model.ts'
export { isCodeVerifier, isS256Challenge, s256Challenge, verifyS256 } from './pkce.ts'
export type { RefreshInput, RefreshResult } from './refresh.ts'
