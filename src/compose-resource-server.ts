/**
 * @module Composition of the resource server (DESIGN §2 auth/): one token verifier per node, shared by
 * the management API and every proxy, so neither wires verification on its own; browser sign-in for
 * redirect-mode proxies and for the web UI (each its own first-party client); and the edge's auth gate on top of both. A token is cached until it expires
 * (at most a minute) and evicted on every node when it is revoked anywhere.
 */
import { createTokenVerifier, type BrowserLoginService, type TokenVerifier } from './auth/index.ts'
import { composeBrowserLogin } from './compose-browser-login.ts'
import type { Config } from './config/index.ts'
import type { EventBus } from './events/index.ts'
import type { Clock, Logger } from './lib/index.ts'
import { verifyAccessToken, type AccessTokenClaims, type Grants, type KeyRing, type VerifyFailure } from './oauth/index.ts'
import { createAuthGate, type AuthGate } from './proxy/index.ts'
import type { Store } from './store/index.ts'
import { UI_BROWSER_CLIENT } from './ui/index.ts'

export interface ResourceServerDeps {
  readonly config: Config
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  readonly keyRing: KeyRing
  /** The authorization server's grants (revocation list, and the in-process code exchange of browser sign-in). */
  readonly grants: Grants
  /** Whether a token's iss is one of this server's issuers. */
  readonly isOurIssuer: (issuer: string) => Promise<boolean>
}

export interface ResourceServer {
  readonly verifier: TokenVerifier<AccessTokenClaims, VerifyFailure>
  readonly gate: AuthGate
  /** The web UI's sign-in (src/ui): the same machinery, its own client and cookies. */
  readonly uiLogin: BrowserLoginService
  close(): void
}

export function composeResourceServer(deps: ResourceServerDeps): ResourceServer {
  const { config, clock, logger, grants } = deps
  const verifier = createTokenVerifier({
    verify: (token, resource) => verifyAccessToken(deps.keyRing, clock, token, { issuers: deps.isOurIssuer, audience: resource }),
    isRevoked: grants.isRevoked,
    bus: deps.bus,
    clock,
  })
  // Redirect mode: browsers sign in at our authorization server and keep a session cookie (sessions shared through the store and bus).
  const browserLogin = composeBrowserLogin({ config, store: deps.store, bus: deps.bus, clock, logger, grants })
  const uiLogin = composeBrowserLogin({ config, store: deps.store, bus: deps.bus, clock, logger, grants, client: UI_BROWSER_CLIENT })
  const gate = createAuthGate({ verifier, browserLogin, authorizationServer: () => config.publicUrl, logger })
  return {
    verifier,
    gate,
    uiLogin,
    close() {
      browserLogin.close()
      uiLogin.close()
      verifier.close()
    },
  }
}
