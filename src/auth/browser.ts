/**
 * @module What the edge's auth step asks of browser sign-in (redirect mode): the shapes only. The
 * edge decides when a browser must sign in, which path is the callback and what a session admits;
 * the implementation (browser-login.ts) runs the code + PKCE flow against our own authorization
 * server and keeps sessions in the store.
 */

/** An answer the auth step gives itself: both data-plane paths render it the same way. */
export interface GateAnswer {
  readonly status: number
  /** Lower-case names; may repeat (Set-Cookie). content-type is among them when there is a body. */
  readonly headers: readonly (readonly [string, string])[]
  readonly body: string
}

/** The reserved paths of a redirect-mode proxy (traefik-forward-auth and others use the same prefix). */
export const BROWSER_CALLBACK_PATH = '/_oauth/callback'
export const BROWSER_LOGOUT_PATH = '/_oauth/logout'

/** The session cookie. `__Host-` (RFC 6265bis §4.1.3.2): Secure, Path=/, no Domain, so no sibling host can set or read it. */
export const SESSION_COOKIE = '__Host-ohp-session'
/** The sign-in cookie: state and the PKCE verifier's handle, for the few minutes a sign-in takes. */
export const LOGIN_COOKIE = '__Host-ohp-login'

export interface BrowserRequest {
  /** The origin the browser used: https://app.example.com, or with its port when not the default. */
  readonly origin: string
  /** The resource identifier tokens for this proxy are issued for (the origin). */
  readonly resource: string
  /** The proxy as stored (may be a wildcard, *.example.com): its first-party client is `proxy:<proxyHostname>`. */
  readonly proxyHostname: string
  readonly method: string
  /** Path and query as the browser asked for it. */
  readonly target: string
  /** The Cookie header as sent, or null. */
  readonly cookies: string | null
}

export interface BrowserLogin {
  /**
   * The access token of the request's session, or null (no session cookie, unknown, ended or expired
   * beyond refresh). Synchronous while the session's token is known and fresh; refreshes a token that
   * is about to expire (the refresh re-checks the allowlists).
   */
  sessionToken(request: BrowserRequest): string | null | Promise<string | null>
  /** A browser without a session: 302 to the authorization server's /authorize (code + PKCE S256, state), back to the URL it asked for. */
  signIn(request: BrowserRequest): Promise<GateAnswer>
  /** GET /_oauth/callback?code&state (or ?error): the code exchanged, a session cookie set, 302 back to the original URL; a clear 403 page when access was denied. */
  callback(request: BrowserRequest): Promise<GateAnswer>
  /**
   * /_oauth/logout. GET (or HEAD): a page asking to confirm, whose button POSTs here; it ends nothing,
   * so a cross-site <img src> or link cannot sign anybody out. POST: ends the session (its tokens
   * revoked), clears the cookie, and says so; the caller has checked that the POST is same-origin
   * (the edge's auth step for a proxy, the web UI its own CSRF check). Anything else: 405.
   */
  signOut(request: BrowserRequest): Promise<GateAnswer>
  /** The Cookie header for the backend: ours removed (null when nothing is left). */
  backendCookies(cookies: string): string | null
}
