/** @module The authorization server's public surface: tokens and keys, the issuer of a request, RFC 8414 metadata. */
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
export {
  createClientRegistry,
  GRANT_TYPES,
  isConfidentialMethod,
  isLoopbackRedirectUri,
  MAX_REDIRECT_URIS,
  OAuthClientSchema,
  parseClientMetadata,
  redirectUriMatches,
  RESPONSE_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  validateRedirectUri,
  type ClientAuthFailure,
  type ClientAuthResult,
  type ClientMetadata,
  type ClientMetadataErrorCode,
  type ClientMetadataResult,
  type ClientRegistry,
  type GrantType,
  type OAuthClient,
  type RedirectUriCheck,
  type RegisteredClient,
  type TokenEndpointAuthMethod,
  type UpdatedClient,
} from './clients/index.ts'
export { createIssuerResolver, isLoopbackHost, parseHostHeader, type HostAuthority, type IssuerResolverDeps, type ResolveIssuer } from './issuer.ts'
export {
  AS_ENDPOINT_PATHS,
  AS_METADATA_PATH,
  buildAuthorizationServerMetadata,
  DEVICE_CODE_GRANT_TYPE,
  issuerPath,
  MetadataOverridesSchema,
  type AuthorizationServerMetadata,
  type MetadataOverrides,
  type MetadataOverridesFor,
} from './metadata.ts'
export type { OAuthUser } from './user.ts'
