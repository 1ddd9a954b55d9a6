/** @module OAuth clients: the model, registration-request parsing, redirect URI rules and the registry. */
export { cacheLifetimeMs, CIMD_MAX_BYTES, CIMD_TIMEOUT_MS, cimdUrlProblem, createCimdResolver, isCimdClientId, type CimdFailureReason, type CimdResolver, type CimdResolverOptions, type CimdResult } from './cimd.ts'
export { isBlockedAddress } from './cimd-address.ts'
export { createClientFinder, type ClientFinder, type ClientRules } from './client-finder.ts'
export { isProxyRedirectUri, isProxyResource, PROXY_CALLBACK_PATH, PROXY_CLIENT_PREFIX, proxyClient, proxyClientId, proxyHostnameOf, type ProxyDirectory } from './proxy-clients.ts'
export { isUiRedirectUri, UI_CALLBACK_PATH, UI_CLIENT_ID, uiClient, type UiOrigins } from './ui-client.ts'
export { CLI_CLIENT_ID, cliClient, type CliClientRules } from './cli-client.ts'
export { parseClientMetadata, type ClientMetadataErrorCode, type ClientMetadataResult } from './client-metadata.ts'
export {
  ClientIdSchema,
  GRANT_TYPES,
  isConfidentialMethod,
  MAX_CLIENT_METADATA_BYTES,
  MAX_REDIRECT_URIS,
  OAuthClientSchema,
  PortableClientSchema,
  RESPONSE_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  type ClientMetadata,
  type GrantType,
  type OAuthClient,
  type PortableClient,
  type ResponseType,
  type TokenEndpointAuthMethod,
} from './model.ts'
export { isLoopbackRedirectUri, MAX_REDIRECT_URI_LENGTH, redirectUriMatches, validateRedirectUri, type RedirectUriCheck, type RedirectUriKind } from './redirect-uri.ts'
export {
  createClientRegistry,
  type ClientAuthFailure,
  type ClientAuthResult,
  type ClientRegistry,
  type RegisteredClient,
  type UpdatedClient,
} from './registry.ts'
export { addressBucket, createRegistrationLimiter, type RegistrationAdmission, type RegistrationLimiter } from './registration-limit.ts'
export {
  createRegistrationTokens,
  DEFAULT_REGISTRATION_TOKEN_TTL_SEC,
  MAX_REGISTRATION_TOKEN_LABEL_LENGTH,
  MAX_REGISTRATION_TOKEN_TTL_SEC,
  REGISTRATION_TOKEN_ID,
  type IssuedRegistrationToken,
  type RegistrationTokens,
  type RegistrationTokenSummary,
} from './registration-tokens.ts'
