/** @module The authorization server's public surface (tokens and keys for now; endpoints land with their issue). */
export {
  ACCESS_TOKEN_TYPE,
  issueAccessToken,
  verifyAccessToken,
  type AccessTokenClaims,
  type AccessTokenGrant,
  type VerifyFailure,
  type VerifyResult,
} from './tokens/access-token.ts'
export { isScope, parseScopeClaim, SCOPES, scopesSatisfy, type Scope } from './tokens/scopes.ts'
export { createKeyRing, SIGNING_ALG, type ActiveKey, type KeyRing, type KeyRingOptions, type SigningKeyInfo } from './tokens/signing-keys.ts'
export { apiResource } from './tokens/resources.ts'
