/**
 * @module Browser sign-in (redirect mode) on real parts: composeBrowserLogin over the real grants, key
 * ring, store and bus, with a manual clock. `authorizeAt` stands in for /authorize, consent and GitHub
 * (the Chromium end to end runs those): it checks the authorization URL our sign-in produced and issues
 * a real authorization code bound to its redirect_uri, S256 challenge, client and resource.
 */
import { expect } from 'bun:test'
import type { BrowserLoginService, BrowserRequest, GateAnswer } from '../../src/auth/index.ts'
import { loadConfig } from '../../src/config/index.ts'
import { composeBrowserLogin } from '../../src/compose-browser-login.ts'
import type { AppEvent, EventBus } from '../../src/events/index.ts'
import { createLogger, type Clock } from '../../src/lib/index.ts'
import { createGrants, createKeyRing, verifyAccessToken, type Grants, type KeyRing, type OAuthUser, type Recheck, type Scope } from '../../src/oauth/index.ts'
import type { Store } from '../../src/store/index.ts'

export const ISSUER = 'https://auth.example.com'
export const ORIGIN = 'https://app.example.com'
export const PROXY = 'app.example.com'
export const CLIENT_ID = `proxy:${PROXY}`
export const REDIRECT_URI = `${ORIGIN}/_oauth/callback`
export const ALICE: OAuthUser = { sub: '1001', username: 'alice', email: 'alice@example.com' }
export const ACCESS_TTL_SEC = 3600
export const REFRESH_TTL_SEC = 30 * 86_400

export interface LoginNode {
  readonly login: BrowserLoginService
  readonly grants: Grants
  readonly keyRing: KeyRing
  readonly store: Store
  readonly bus: EventBus
  /** Every event this node's bus delivered. */
  readonly events: AppEvent[]
  /** Every log line this node wrote. */
  readonly logLines: string[]
  /** What the policy says on the next refresh; tests replace it. */
  readonly policy: { recheck: Recheck }
  /** The token as a proxy's verifier sees it: our issuer, this proxy's origin as audience, the denylist. */
  verify(token: string): ReturnType<typeof verifyAccessToken>
  close(): void
}

/** One node: its own grants, key ring and BrowserLogin over `store` and `bus` (several nodes may share a Redis behind them). */
export async function startLoginNode(store: Store, bus: EventBus, clock: Clock): Promise<LoginNode> {
  const config = loadConfig({
    PUBLIC_URL: ISSUER,
    DATA_DIR: ':memory:',
    LOG_LEVEL: 'silent',
    OAUTH_ACCESS_TOKEN_LIFETIME: `${ACCESS_TTL_SEC}s`,
    OAUTH_REFRESH_TOKEN_LIFETIME: `${REFRESH_TTL_SEC}s`,
  })
  const logLines: string[] = []
  const logger = createLogger('debug', (line) => logLines.push(line))
  const keyRing = createKeyRing(store, clock, { retireAfterSec: ACCESS_TTL_SEC })
  await keyRing.ensureActive()
  const policy: { recheck: Recheck } = { recheck: async (grant) => grant.scopes }
  const grants = createGrants({
    store,
    clock,
    keyRing,
    logger,
    recheck: (grant) => policy.recheck(grant),
    accessTokenLifetimeSec: ACCESS_TTL_SEC,
    refreshTokenLifetimeSec: REFRESH_TTL_SEC,
    onAccessTokenRevoked: (jti) => bus.publish({ type: 'token_revoked', jti }),
  })
  const events: AppEvent[] = []
  const unsubscribe = bus.subscribe((event) => {
    events.push(event)
  })
  const login = composeBrowserLogin({ config, store, bus, clock, logger, grants })
  return {
    login,
    grants,
    keyRing,
    store,
    bus,
    events,
    logLines,
    policy,
    verify: (token) => verifyAccessToken(keyRing, clock, token, { issuers: [ISSUER], audience: ORIGIN, isRevoked: grants.isRevoked }),
    close() {
      unsubscribe()
      login.close()
    },
  }
}

/** A browser on ORIGIN: a cookie jar that keeps what our answers set, as a browser would. */
export class TestBrowser {
  readonly jar = new Map<string, string>()

  request(target: string, method = 'GET', origin = ORIGIN): BrowserRequest {
    const cookies = this.jar.size === 0 ? null : [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ')
    return { origin, resource: origin, proxyHostname: origin === ORIGIN ? PROXY : new URL(origin).hostname, method, target, cookies }
  }

  /** Applies the answer's Set-Cookie lines (Max-Age=0 deletes). */
  absorb(answer: GateAnswer): GateAnswer {
    for (const [name, value] of answer.headers) {
      if (name !== 'set-cookie') continue
      const [pair, ...attributes] = value.split(';').map((part) => part.trim())
      const equals = pair!.indexOf('=')
      const cookieName = pair!.slice(0, equals)
      if (attributes.includes('Max-Age=0')) this.jar.delete(cookieName)
      else this.jar.set(cookieName, pair!.slice(equals + 1))
    }
    return answer
  }
}

export const header = (answer: GateAnswer, name: string): string | undefined => answer.headers.find(([n]) => n === name)?.[1]
export const headers = (answer: GateAnswer, name: string): string[] => answer.headers.filter(([n]) => n === name).map(([, value]) => value)

/**
 * What /authorize, consent, GitHub and /callback do for the browser, checked the way the authorization
 * server checks them: returns the target of the authorization response at the proxy's callback.
 */
export async function authorizeAt(
  node: LoginNode,
  location: string,
  options: { user?: OAuthUser; scopes?: Scope[]; codeChallenge?: string; iss?: string | null } = {},
): Promise<string> {
  const url = new URL(location)
  expect(url.origin + url.pathname).toBe(`${ISSUER}/authorize`)
  const query = url.searchParams
  expect(query.get('response_type')).toBe('code')
  expect(query.get('code_challenge_method')).toBe('S256')
  const redirectUri = query.get('redirect_uri')!
  const code = await node.grants.issueAuthorizationCode({
    issuer: ISSUER,
    resource: query.get('resource')!,
    clientId: query.get('client_id')!,
    user: options.user ?? ALICE,
    scopes: options.scopes ?? ['user'],
    redirectUri,
    codeChallenge: options.codeChallenge ?? query.get('code_challenge')!,
  })
  const back = new URL(redirectUri)
  back.searchParams.set('code', code)
  back.searchParams.set('state', query.get('state')!)
  if (options.iss !== null) back.searchParams.set('iss', options.iss ?? ISSUER)
  return back.pathname + back.search
}

/** The authorization server's error response (RFC 6749 §4.1.2.1) for the sign-in at `location`. */
export function errorResponseFor(location: string, error: string): string {
  const query = new URL(location).searchParams
  const back = new URL(query.get('redirect_uri')!)
  back.searchParams.set('error', error)
  back.searchParams.set('error_description', 'the GitHub user bob is not allowed to use this resource')
  back.searchParams.set('state', query.get('state')!)
  back.searchParams.set('iss', ISSUER)
  return back.pathname + back.search
}

/** Signs `browser` in at `target` end to end; returns the callback's answer. */
export async function signIn(node: LoginNode, browser: TestBrowser, target = '/'): Promise<GateAnswer> {
  const started = browser.absorb(await node.login.signIn(browser.request(target)))
  return browser.absorb(await node.login.callback(browser.request(await authorizeAt(node, header(started, 'location')!))))
}

/** sessionToken, awaited when it had to go to the store. */
export async function sessionTokenOf(node: LoginNode, browser: TestBrowser): Promise<string | null> {
  return await node.login.sessionToken(browser.request('/'))
}

/** Every key and value in the store, as one text. */
export async function rawStore(store: Store): Promise<string> {
  const parts: string[] = []
  for (const key of await store.list('')) parts.push(key, (await store.get(key))?.value ?? '')
  return parts.join('\n')
}
