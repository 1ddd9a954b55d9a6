/** @module The resource server: verifying access tokens for the API and auth-enabled proxies. */
export {
  createTokenVerifier,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_ENTRIES,
  type TokenVerifier,
  type TokenVerifierOptions,
  type TokenVerifierStats,
  type VerifiedClaims,
  type VerifyOutcome,
} from './verifier.ts'
export {
  BROWSER_CALLBACK_PATH,
  BROWSER_LOGOUT_PATH,
  LOGIN_COOKIE,
  SESSION_COOKIE,
  type BrowserLogin,
  type BrowserRequest,
  type GateAnswer,
} from './browser.ts'
export {
  createBrowserLogin,
  PROXY_BROWSER_CLIENT,
  PROXY_CLIENT_PREFIX,
  proxyClientId,
  type BrowserClient,
  type BrowserLoginDeps,
  type BrowserLoginService,
  type CodeExchange,
} from './browser-login.ts'
export { FRESH_MARGIN_MS, type SessionTokens, type SignedInTokens, type TokenOutcome } from './browser-sessions.ts'
export { cookieValues } from './cookies.ts'
export { isSameOriginRequest } from './same-origin.ts'
