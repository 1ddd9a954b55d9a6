/**
 * @module The auth step of the one decision per request: what decide() said a request must prove,
 * checked against its credentials. The relay and the hand-over server both call it and render what
 * it answers the same way. A request with a token the node has verified before costs a map lookup
 * and stays synchronous; only a first sight of a token (or of a session) returns a promise.
 *
 * Modes (original §4.11, made to work): forward answers 401/403 with a Bearer challenge (RFC 6750
 * §3, RFC 9728 §5.1); redirect sends a browser without a session to sign in; passthrough lets
 * anonymous requests through without identity.
 */
import { isSameOriginRequest, LOGIN_COOKIE, SESSION_COOKIE, type BrowserLogin, type BrowserRequest, type GateAnswer, type TokenVerifier, type VerifyOutcome } from '../../auth/index.ts'
import type { Logger } from '../../lib/index.ts'
import { scopesSatisfy, type AccessTokenClaims, type VerifyFailure } from '../../oauth/index.ts'
import type { Scheme } from '../handler.ts'
import { challengeAnswer, forbiddenAnswer, metadataAnswer, resourceIdentifier, unavailableAnswer } from './challenge.ts'
import { identityOf, type IdentityHeaders } from './identity.ts'
import type { AuthStep, SiteAuth } from './requirement.ts'

/** What the auth step reads of a request; both paths fill it from their own view of the head. */
export interface GateRequest {
  readonly scheme: Scheme
  /** The Host header as sent (port included) and its normalised host name. */
  readonly host: string
  readonly hostname: string
  readonly method: string
  readonly target: string
  readonly authorization: string | null
  readonly cookies: string | null
  readonly origin: string | null
  /** The Referer as sent: the same-origin check of a sign-out falls back to it when there is no Origin. */
  readonly referer: string | null
  readonly accept: string | null
  /** A CORS preflight (Fetch §4.8): OPTIONS with Origin and Access-Control-Request-Method. */
  readonly isPreflight: boolean
}

export type GateOutcome =
  | {
      readonly kind: 'pass'
      /** Set by us after verification; empty for an anonymous or unchecked request. */
      readonly identity: IdentityHeaders
      /** The verified user's login and the token's client, for the request log; null when anonymous. */
      readonly user: string | null
      readonly clientId: string | null
      /** Whether the client's Authorization goes on to the backend (auth_pass_authorization, or a proxy in front of the API). */
      readonly keepsAuthorization: boolean
      /** The Cookie header for the backend when ours had to be taken out of it; undefined leaves it as sent. */
      readonly cookies?: string | null
    }
  | { readonly kind: 'answer'; readonly answer: GateAnswer }

export interface AuthGateDeps {
  readonly verifier: TokenVerifier<AccessTokenClaims, VerifyFailure>
  /** Null when redirect mode cannot sign anybody in (then it behaves as forward). */
  readonly browserLogin: BrowserLogin | null
  /** The authorization server's issuer, advertised in the metadata (RFC 9728 §2 authorization_servers). */
  readonly authorizationServer: () => string
  readonly logger: Logger
}

export interface AuthGate {
  check(step: AuthStep, auth: SiteAuth, proxyHostname: string, request: GateRequest): GateOutcome | Promise<GateOutcome>
  /**
   * A request no step applies to: our cookies still stop here (the proxy may have had redirect mode on,
   * and the names are ours on every proxy). Null when there is nothing to take out, the common case.
   */
  unprotected(cookies: string | null): (GateOutcome & { kind: 'pass' }) | null
}

/** RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** The b64token of a Bearer credential, or null; the common spelling ("Bearer " and the token) without a capturing match. */
function bearerToken(authorization: string): string | null {
  if (authorization.startsWith('Bearer ') && authorization.charCodeAt(7) !== 0x20) {
    const token = authorization.slice(7)
    if (B64TOKEN.test(token)) return token
  }
  return BEARER.exec(authorization)?.[1] ?? null
}

export function createAuthGate(deps: AuthGateDeps): AuthGate {
  const { verifier, browserLogin } = deps

  const check = (step: AuthStep, auth: SiteAuth, proxyHostname: string, request: GateRequest): GateOutcome | Promise<GateOutcome> => {
    const origin = originOf(request)
    switch (step.kind) {
      case 'metadata':
        return answer(metadataAnswer(auth, origin, deps.authorizationServer(), request.method))
      case 'callback':
      case 'logout': {
        if (!browserLogin) return answer(forbiddenAnswer('browser sign-in is not available on this server', 'not_available', request.accept))
        // Logout CSRF: only a page of this very origin may sign its user out (a GET only asks to confirm).
        if (step.kind === 'logout' && request.method === 'POST' && !isSameOriginRequest(origin, request.origin, request.referer)) {
          return answer(forbiddenAnswer('signing out needs a request from this site (its Origin or Referer); use the Sign out button', 'invalid_origin', request.accept))
        }
        const browser = browserRequest(auth, origin, proxyHostname, request)
        return (step.kind === 'callback' ? browserLogin.callback(browser) : browserLogin.signOut(browser)).then(answer)
      }
      case 'open':
        return passing(EMPTY_IDENTITY, auth, request)
      case 'check':
        break
    }

    // MCP transport (DNS rebinding): a page on another origin must not drive a local server through a browser.
    const isOriginAllowed = request.origin === null || request.origin === origin || auth.allowedOrigins.has(request.origin)
    if (auth.checksOrigin && !isOriginAllowed) {
      return answer(forbiddenAnswer(`requests from ${sanitized(request.origin!)} are not allowed here`, 'invalid_origin', request.accept))
    }
    // Fetch §4.8: a browser sends the preflight without credentials, so checking it would stop every
    // cross-origin client; it carries no data and the backend answers it with its own CORS policy.
    if (request.isPreflight && request.method === 'OPTIONS' && request.origin !== null) return passing(EMPTY_IDENTITY, auth, request)
    const fail = (error: 'invalid_request' | 'invalid_token' | null, description: string) =>
      answer(challengeAnswer({ auth, origin, error, description, scopes: step.scopes }))

    let token: string | null = null
    let isSessionToken = false
    if (request.authorization !== null) {
      token = bearerToken(request.authorization)
      // RFC 6750 §3.1: a Bearer credential that is not one is a malformed request; another scheme (Basic) is no bearer token at all.
      if (token === null && /^bearer(\s|$)/i.test(request.authorization)) return fail('invalid_request', 'the Authorization header is not a valid Bearer credential')
    }
    const audience = resourceIdentifier(auth, origin)
    const decide = (outcome: VerifyOutcome<AccessTokenClaims, VerifyFailure | 'revoked'>): GateOutcome => {
      if (!outcome.ok) {
        if (step.mode === 'passthrough') return passing(EMPTY_IDENTITY, auth, request)
        if (isSessionToken && isBrowser(request)) return signInLater
        return fail('invalid_token', 'the access token is invalid, expired or not for this resource')
      }
      const { claims } = outcome
      const missing = step.scopes.filter((scope) => !scopesSatisfy(claims.scopes, scope))
      if (missing.length > 0) return answer(challengeAnswer({ auth, origin, error: 'insufficient_scope', description: `this request needs the ${step.scopes.join(' and ')} scope`, scopes: step.scopes }))
      const login = claims.username.toLowerCase()
      if (step.users.some((users) => !users.has(login))) return answer(forbiddenAnswer(`${sanitized(claims.username)} may not use this resource`, 'access_denied', request.accept))
      return passing(identityOf(claims), auth, request, claims)
    }
    // A marker: the browser's session token failed, so it signs in again (resolved below, asynchronously).
    const signInLater: GateOutcome = { kind: 'answer', answer: SIGN_IN_MARKER }
    const finish = (outcome: GateOutcome): GateOutcome | Promise<GateOutcome> =>
      outcome === signInLater ? browserLogin!.signIn(browserRequest(auth, origin, proxyHostname, request)).then(answer) : outcome

    const verifyToken = (candidate: string): GateOutcome | Promise<GateOutcome> => {
      const cached = verifier.verifyCached(candidate, audience)
      if (cached) return finish(decide(cached))
      return verifier.verify(candidate, audience).then(
        (outcome) => finish(decide(outcome)),
        (error: unknown) => {
          deps.logger.warn('token check failed', { proxy: proxyHostname, detail: String(error) })
          return answer(unavailableAnswer())
        },
      )
    }
    if (token !== null) return verifyToken(token)

    const usesSession = step.mode !== 'forward' && browserLogin !== null && request.cookies !== null && request.cookies.includes(SESSION_COOKIE)
    const noToken = (): GateOutcome | Promise<GateOutcome> => {
      if (step.mode === 'passthrough') return passing(EMPTY_IDENTITY, auth, request)
      if (step.mode === 'redirect' && browserLogin && isBrowser(request)) return browserLogin.signIn(browserRequest(auth, origin, proxyHostname, request)).then(answer)
      return fail(null, 'an access token is required')
    }
    if (!usesSession) return noToken()
    const fromSession = (sessionToken: string | null) => {
      if (sessionToken === null) return noToken()
      isSessionToken = true
      return verifyToken(sessionToken)
    }
    const session = browserLogin!.sessionToken(browserRequest(auth, origin, proxyHostname, request))
    return typeof session === 'string' || session === null ? fromSession(session) : session.then(fromSession, () => answer(unavailableAnswer()))
  }

  const passing = (identity: IdentityHeaders, auth: SiteAuth, request: GateRequest, claims: AccessTokenClaims | null = null): GateOutcome => {
    const hasOurCookies = browserLogin !== null && request.cookies !== null && (request.cookies.includes(SESSION_COOKIE) || request.cookies.includes(LOGIN_COOKIE))
    return {
      kind: 'pass',
      identity,
      user: claims === null ? null : claims.username,
      clientId: claims === null ? null : claims.clientId,
      keepsAuthorization: auth.passAuthorization,
      ...(hasOurCookies ? { cookies: browserLogin!.backendCookies(request.cookies!) } : {}),
    }
  }

  const unprotected = (cookies: string | null): (GateOutcome & { kind: 'pass' }) | null => {
    if (browserLogin === null || cookies === null || !cookies.includes(OUR_COOKIE_PREFIX)) return null
    return { kind: 'pass', identity: EMPTY_IDENTITY, user: null, clientId: null, keepsAuthorization: true, cookies: browserLogin.backendCookies(cookies) }
  }

  return { check, unprotected }
}

/** What SESSION_COOKIE and LOGIN_COOKIE begin with. */
const OUR_COOKIE_PREFIX = '__Host-ohp-'

const EMPTY_IDENTITY: IdentityHeaders = []
const SIGN_IN_MARKER: GateAnswer = { status: 302, headers: [], body: '' }

function answer(gateAnswer: GateAnswer): GateOutcome {
  return { kind: 'answer', answer: gateAnswer }
}

/**
 * The origin the client used (RFC 6454 §4): the scheme of the listener and the Host it sent, its port
 * left out when it is the scheme's default. Tokens are for exactly this origin.
 */
export function originOf(request: Pick<GateRequest, 'scheme' | 'host' | 'hostname'>): string {
  const portAt = request.host.lastIndexOf(':')
  const port = portAt === -1 || request.host.endsWith(']') ? '' : request.host.slice(portAt + 1)
  const isDefault = port === '' || (request.scheme === 'https' ? port === '443' : port === '80')
  const host = request.hostname.includes(':') && !request.hostname.startsWith('[') ? `[${request.hostname}]` : request.hostname
  return `${request.scheme}://${host}${isDefault ? '' : `:${Number(port)}`}`
}

/** A top-level navigation: only those can follow a sign-in redirect and come back (original §4.11 used the User-Agent too). */
function isBrowser(request: GateRequest): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && request.accept !== null && request.accept.includes('text/html')
}

function browserRequest(auth: SiteAuth, origin: string, proxyHostname: string, request: GateRequest): BrowserRequest {
  return { origin, resource: resourceIdentifier(auth, origin), proxyHostname, method: request.method, target: request.target, cookies: request.cookies }
}

/** Text from a request or a token, made safe for a JSON description or a header: printable ASCII, bounded. */
function sanitized(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, '?').slice(0, 200)
}
