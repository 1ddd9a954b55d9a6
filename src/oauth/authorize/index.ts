/** @module The authorization endpoint's browser flow: request validation, consent, the GitHub login and /callback. */
export { createAuthorizationFlow, type AuthorizationFlow, type ConsentDecision } from './flow.ts'
export type { AuthorizationErrorCode, AuthorizeDeps, AuthorizeOutcome, ConsentView, PageOutcome } from './model.ts'
export { DEFAULT_CONSENT_TTL_SEC, LOGIN_STATE_TTL_SEC } from './sessions.ts'
