/**
 * @module Composition of browser sign-in (redirect mode): auth/'s BrowserLogin wired to our own
 * authorization server in-process. The proxy's client is public (code + PKCE), so the code exchange,
 * refresh and revocation call the grants service directly, as the token endpoint would after
 * authenticating a client with method "none"; no HTTP to ourselves, and the same checks (code bound to
 * client, redirect URI, verifier and issuer; refresh re-checking the allowlists).
 */
import { createBrowserLogin, type BrowserClient, type BrowserLoginService, type SessionTokens } from './auth/index.ts'
import type { Config } from './config/index.ts'
import type { EventBus } from './events/index.ts'
import type { Clock, Logger } from './lib/index.ts'
import { AS_ENDPOINT_PATHS, type Grants, type TokenResult } from './oauth/index.ts'
import type { Store } from './store/index.ts'

export interface BrowserLoginCompositionDeps {
  readonly config: Config
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  /** The authorization server's grants (composeOAuthServer(...).grants). */
  readonly grants: Grants
  /** Absent: the redirect-mode proxies' clients; the web UI passes its own. */
  readonly client?: BrowserClient
}

export function composeBrowserLogin(deps: BrowserLoginCompositionDeps): BrowserLoginService {
  const { config, grants, clock } = deps
  // The proxy sends browsers to PUBLIC_URL's /authorize, so that is the issuer codes and tokens carry.
  const issuer = config.publicUrl
  const sessionTokens = (tokens: TokenResult): SessionTokens => ({
    accessToken: tokens.access_token,
    accessExpiresAtSec: Math.floor(clock.nowMs() / 1000) + tokens.expires_in,
    refreshToken: tokens.refresh_token,
  })
  return createBrowserLogin({
    store: deps.store,
    bus: deps.bus,
    clock,
    logger: deps.logger,
    issuer,
    authorizationEndpoint: `${issuer}${AS_ENDPOINT_PATHS.authorization}`,
    sessionTtlSec: config.oauth.refreshTokenLifetimeSec,
    ...(deps.client ? { client: deps.client } : {}),
    async exchangeCode({ code, codeVerifier, redirectUri, clientId }) {
      const result = await grants.exchangeAuthorizationCode({ code, codeVerifier, redirectUri, clientId, issuer })
      return result.ok ? { ok: true, tokens: { ...sessionTokens(result.tokens), username: result.grant.user.username } } : { ok: false, reason: result.reason }
    },
    async refresh({ refreshToken, clientId, resource }) {
      const result = await grants.refresh({ refreshToken, clientId, issuer, resource })
      return result.ok ? { ok: true, tokens: sessionTokens(result.tokens) } : { ok: false, reason: result.reason }
    },
    revoke: async (token, clientId) => {
      await grants.revoke(token, clientId)
    },
  })
}
