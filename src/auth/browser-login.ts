/**
 * @module Browser sign-in for redirect-mode proxies (BrowserLogin): the proxy is a first-party OAuth
 * client of our own authorization server (`proxy:<hostname>`, public, code + PKCE S256). A browser
 * without a session is sent to /authorize; the authorization server sends it back to the proxy's own
 * /_oauth/callback, which exchanges the code and sets the session cookie itself, so the proxy and the
 * authorization server can live on unrelated sites. Everything that needs the authorization server
 * (the code exchange, refresh, revocation) is injected by the composition root.
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-2.1 (PKCE and state for browser clients)
 */
import type { EventBus } from '../events/index.ts'
import type { Clock, Logger } from '../lib/index.ts'
import type { Store } from '../store/index.ts'
import { BROWSER_CALLBACK_PATH, LOGIN_COOKIE, SESSION_COOKIE, type BrowserLogin, type BrowserRequest, type GateAnswer } from './browser.ts'
import { createBrowserSessions, type BrowserSessionsOptions, type SignedInTokens, type TokenOutcome } from './browser-sessions.ts'
import { createSignIns, SIGN_IN_TTL_SEC, type PendingSignIn } from './browser-sign-ins.ts'
import { clearedHostCookie, cookieValues, hostCookie, withoutCookies } from './cookies.ts'
import { accessDeniedPage, methodNotAllowed, NO_STORE, signedOutPage, signInExpiredPage, signInFailedPage, signOutConfirmPage } from './pages.ts'
import { s256Challenge } from './pkce.ts'
import { returnPathOf, returnUrl } from './return-path.ts'
import { isSecretId, newSecretId } from './secret-id.ts'

/** A proxy's first-party client at our authorization server; the client finder knows it by this name. */
export const PROXY_CLIENT_PREFIX = 'proxy:'
export const proxyClientId = (proxyHostname: string) => `${PROXY_CLIENT_PREFIX}${proxyHostname}`

/**
 * Which first-party client a BrowserLogin signs in as, where that client takes the code back and which
 * cookies hold its sign-ins and sessions. Redirect-mode proxies use PROXY_BROWSER_CLIENT; the web UI
 * has its own (src/ui), so its session can never be taken for a proxy's, even on one host.
 */
export interface BrowserClient {
  clientIdOf(request: BrowserRequest): string
  /** A path on the request's origin. */
  readonly callbackPath: string
  readonly sessionCookie: string
  readonly loginCookie: string
}

export const PROXY_BROWSER_CLIENT: BrowserClient = {
  clientIdOf: (request) => proxyClientId(request.proxyHostname),
  callbackPath: BROWSER_CALLBACK_PATH,
  sessionCookie: SESSION_COOKIE,
  loginCookie: LOGIN_COOKIE,
}

export interface CodeExchange {
  readonly code: string
  readonly codeVerifier: string
  readonly redirectUri: string
  readonly clientId: string
}

export interface BrowserLoginDeps {
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  /** The authorization server's issuer: the `iss` every authorization response must carry (RFC 9207 §2.4). */
  readonly issuer: string
  /** Its authorization endpoint, an absolute URL. */
  readonly authorizationEndpoint: string
  /** How long a session lives: the refresh token's lifetime (also the cookie's Max-Age). */
  readonly sessionTtlSec: number
  /** grant_type=authorization_code for a proxy's client (RFC 6749 §4.1.3, RFC 7636 §4.5). */
  readonly exchangeCode: (input: CodeExchange) => Promise<TokenOutcome<SignedInTokens>>
  readonly refresh: BrowserSessionsOptions['refresh']
  readonly revoke: BrowserSessionsOptions['revoke']
  readonly sessionCache?: { readonly maxEntries?: number; readonly maxAgeMs?: number }
  /** Absent: a redirect-mode proxy's (PROXY_BROWSER_CLIENT). */
  readonly client?: BrowserClient
}

export interface BrowserLoginService extends BrowserLogin {
  /** Stops listening for `session_ended` and drops the session cache. */
  close(): void
}

/** RFC 6749 §3.1: request and response parameters must not be included more than once. */
function single(query: URLSearchParams, name: string): string | undefined | 'repeated' {
  const all = query.getAll(name)
  return all.length > 1 ? 'repeated' : all[0]
}

const pathOf = (target: string) => (target.includes('?') ? target.slice(0, target.indexOf('?')) : target)
const queryOf = (target: string) => new URLSearchParams(target.includes('?') ? target.slice(target.indexOf('?') + 1) : '')

function redirect(location: string, cookies: readonly string[]): GateAnswer {
  return { status: 302, headers: [['location', location], ...cookies.map((cookie) => ['set-cookie', cookie] as const), ...NO_STORE], body: '' }
}

/** RFC 6749 §4.1.2.1 error codes that mean "try again later", not "this request was wrong". */
const TRANSIENT_ERRORS = new Set(['server_error', 'temporarily_unavailable'])

export function createBrowserLogin(deps: BrowserLoginDeps): BrowserLoginService {
  const { logger } = deps
  const client = deps.client ?? PROXY_BROWSER_CLIENT
  const { sessionCookie, loginCookie } = client
  const signIns = createSignIns(deps.store, deps.clock)
  const sessions = createBrowserSessions({
    store: deps.store,
    bus: deps.bus,
    clock: deps.clock,
    logger,
    ttlSec: deps.sessionTtlSec,
    refresh: deps.refresh,
    revoke: deps.revoke,
    ...deps.sessionCache,
  })
  const scopeOf = (request: BrowserRequest) => ({ proxy: request.proxyHostname, resource: request.resource })
  const redirectUriOf = (request: BrowserRequest) => `${request.origin}${client.callbackPath}`

  /** The sign-in this callback finishes: its state, with one of this browser's sign-in cookies, on the origin and proxy that started it. */
  async function pendingSignIn(request: BrowserRequest, state: string): Promise<PendingSignIn | null> {
    for (const browserId of cookieValues(request.cookies, loginCookie)) {
      const pending = await signIns.finish(browserId, state)
      if (pending) return pending.origin === request.origin && pending.proxy === request.proxyHostname && pending.resource === request.resource ? pending : null
    }
    return null
  }

  async function finishSignIn(request: BrowserRequest, query: URLSearchParams, pending: PendingSignIn): Promise<GateAnswer> {
    const { origin } = request
    const refuse = (status: number, reason: string) => {
      logger.info('browser sign-in refused', { proxy: request.proxyHostname, reason })
      return signInFailedPage(origin, status, pending.returnPath)
    }
    // RFC 9207 §2.4: our authorization server always sends iss; a response without ours is a mix-up.
    if (single(query, 'iss') !== deps.issuer) return refuse(400, 'iss is not our issuer (RFC 9207)')
    const error = single(query, 'error')
    if (error === 'access_denied') {
      logger.info('browser sign-in denied', { proxy: request.proxyHostname })
      return accessDeniedPage(origin)
    }
    if (error !== undefined) return refuse(error !== 'repeated' && TRANSIENT_ERRORS.has(error) ? 502 : 400, `authorization error ${error === 'repeated' ? 'repeated' : error.slice(0, 64)}`)
    const code = single(query, 'code')
    if (code === undefined || code === 'repeated') return refuse(400, 'no single code in the authorization response')

    const clientId = client.clientIdOf(request)
    const exchanged = await deps.exchangeCode({ code, codeVerifier: pending.codeVerifier, redirectUri: redirectUriOf(request), clientId })
    if (!exchanged.ok) return refuse(400, `code exchange refused: ${exchanged.reason}`)

    // Session fixation: a new id at every sign-in, and the session this browser had before ends.
    for (const previous of cookieValues(request.cookies, sessionCookie)) await sessions.end(previous, 'replaced by a new sign-in')
    const sessionId = await sessions.create({ ...scopeOf(request), clientId }, exchanged.tokens)
    logger.info('browser signed in', { proxy: request.proxyHostname, username: exchanged.tokens.username })
    return redirect(returnUrl(origin, pending.returnPath), [hostCookie(sessionCookie, sessionId, deps.sessionTtlSec)])
  }

  return {
    sessionToken(request) {
      const ids = cookieValues(request.cookies, sessionCookie)
      if (ids.length === 0) return null
      if (ids.length === 1) return sessions.accessToken(ids[0]!, scopeOf(request))
      return (async () => {
        for (const id of ids) {
          const token = await sessions.accessToken(id, scopeOf(request))
          if (token !== null) return token
        }
        return null
      })()
    },

    async signIn(request) {
      // A session cookie here stands for a session that is gone or whose token no longer verifies: end it
      // (its tokens revoked) and clear the cookie, so the browser stops sending it.
      const staleSessions = cookieValues(request.cookies, sessionCookie)
      for (const id of staleSessions) await sessions.end(id, 'its token was refused; signing in again')
      // The cookie binds the sign-in to this browser; one it already has is kept, so tabs signing in at once all finish.
      const browserId = cookieValues(request.cookies, loginCookie).find(isSecretId) ?? newSecretId()
      const returnPath = returnPathOf(request.origin, request.target)
      const { state, codeVerifier } = await signIns.start(browserId, { origin: request.origin, proxy: request.proxyHostname, resource: request.resource, returnPath })
      const authorize = new URL(deps.authorizationEndpoint)
      authorize.searchParams.set('response_type', 'code')
      authorize.searchParams.set('client_id', client.clientIdOf(request))
      authorize.searchParams.set('redirect_uri', redirectUriOf(request))
      authorize.searchParams.set('state', state)
      // OAuth 2.1 §4.1.1, RFC 7636 §4.3: S256 only.
      authorize.searchParams.set('code_challenge', s256Challenge(codeVerifier))
      authorize.searchParams.set('code_challenge_method', 'S256')
      // RFC 8707 §2: the token is for this proxy and nothing else.
      authorize.searchParams.set('resource', request.resource)
      return redirect(authorize.href, [hostCookie(loginCookie, browserId, SIGN_IN_TTL_SEC), ...(staleSessions.length > 0 ? [clearedHostCookie(sessionCookie)] : [])])
    },

    async callback(request) {
      if (request.method !== 'GET') return methodNotAllowed('GET')
      const query = queryOf(request.target)
      const state = single(query, 'state')
      const pending = state === undefined || state === 'repeated' ? null : await pendingSignIn(request, state)
      // Not started in this browser, already used, expired, or another origin's: nothing to finish, and nowhere trusted to send it.
      if (!pending) {
        logger.info('browser sign-in refused', { proxy: request.proxyHostname, reason: 'unknown or used state' })
        return signInExpiredPage(request.origin)
      }
      return finishSignIn(request, query, pending)
    },

    async signOut(request) {
      // A GET changes nothing (RFC 9110 §9.2.1, safe methods): it only asks.
      if (request.method === 'GET' || request.method === 'HEAD') return signOutConfirmPage(request.origin, pathOf(request.target))
      if (request.method !== 'POST') return methodNotAllowed('GET, HEAD, POST')
      for (const id of cookieValues(request.cookies, sessionCookie)) await sessions.end(id, 'signed out')
      return signedOutPage(request.origin, [['set-cookie', clearedHostCookie(sessionCookie)]])
    },

    backendCookies: (cookies) => withoutCookies(cookies, [sessionCookie, loginCookie]),

    close: () => sessions.close(),
  }
}
