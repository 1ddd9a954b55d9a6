/** @module A grants service on the embedded store with a manual clock and a captured log, for grant and token-endpoint tests. */
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createClientRegistry, createGrants, createKeyRing, verifyAccessToken, type CodeGrant, type OAuthUser, type Recheck, type Scope } from '../../src/oauth/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'

export const ISSUER = 'https://auth.example.com'
export const RESOURCE = 'https://mcp.example.com'
/** RFC 7636 Appendix B. */
export const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
export const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
export const REDIRECT_URI = 'http://127.0.0.1:33418/callback'
export const ALICE: OAuthUser = { sub: '1001', username: 'alice', email: 'alice@example.com' }
export const ACCESS_TTL_SEC = 3600
export const REFRESH_TTL_SEC = 30 * 86_400

export async function createGrantsFixture(options: { refreshGraceSec?: number } = {}) {
  const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
  const store = createEmbeddedStore({ dataDir: ':memory:', clock })
  const keyRing = createKeyRing(store, clock, { retireAfterSec: ACCESS_TTL_SEC })
  await keyRing.ensureActive()
  const logLines: string[] = []
  const logger = createLogger('debug', (line) => logLines.push(line))
  /** What the policy says on the next refresh; tests replace it. */
  const policy: { recheck: Recheck } = { recheck: async (grant) => grant.scopes }
  const grants = createGrants({
    store,
    clock,
    keyRing,
    logger,
    recheck: (grant) => policy.recheck(grant),
    accessTokenLifetimeSec: ACCESS_TTL_SEC,
    refreshTokenLifetimeSec: REFRESH_TTL_SEC,
    ...(options.refreshGraceSec === undefined ? {} : { refreshGraceSec: options.refreshGraceSec }),
  })
  const registry = createClientRegistry(store, clock)

  /** A resource server's view: our issuer, the one audience, and the denylist. */
  const verify = (token: string, audience = RESOURCE) => verifyAccessToken(keyRing, clock, token, { issuers: [ISSUER], audience, isRevoked: grants.isRevoked })

  const codeFor = (clientId: string, overrides: Partial<CodeGrant> = {}) =>
    grants.issueAuthorizationCode({
      issuer: ISSUER,
      resource: RESOURCE,
      clientId,
      user: ALICE,
      scopes: ['mcp', 'user'] as Scope[],
      redirectUri: REDIRECT_URI,
      codeChallenge: CHALLENGE,
      ...overrides,
    })

  const redeemInput = (code: string, clientId: string) => ({ code, clientId, redirectUri: REDIRECT_URI, codeVerifier: VERIFIER, issuer: ISSUER })

  /** Every key and value in the store, as one text. */
  async function rawStore(): Promise<string> {
    const parts: string[] = []
    for (const key of await store.list('')) parts.push(key, (await store.get(key))?.value ?? '')
    return parts.join('\n')
  }

  return { clock, store, keyRing, grants, registry, policy, logLines, verify, codeFor, redeemInput, rawStore, close: () => store.close() }
}

export type GrantsFixture = Awaited<ReturnType<typeof createGrantsFixture>>
