/**
 * @module The authorization endpoint (OAuth 2.1 §3.1, §4.1) and its browser-facing companions: GET
 * /authorize, the consent form's POST /authorize/consent and GitHub's return to GET /callback. HTTP
 * only: cookies, forms, pages and redirects; the decisions are the oauth module's flow. Served on
 * issuer hosts only, and never with CORS (RFC 9700 §2.6: the endpoint is navigated to, not fetched).
 *
 * The browser cookie binds consent tickets and GitHub login states to one browser (MCP security best
 * practices). On https issuers it is `__Host-oauth-browser`: Secure, Path=/, no Domain, so no sibling
 * host or plain-http page can set or shadow it. A loopback http issuer (development) cannot set a
 * Secure cookie, and browsers refuse `__Host-` without Secure, so there it is the plain
 * `oauth-browser`, still HttpOnly and SameSite=Lax.
 */
import type { Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { randomToken } from '../../lib/index.ts'
import { AS_ENDPOINT_PATHS, createAuthorizationFlow, type AuthorizeDeps, type AuthorizeOutcome, type ConsentDecision } from '../../oauth/index.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'
import { ApiError } from '../errors.ts'
import { readFormBody } from './form-body.ts'
import { CONSENT_PATH, renderConsentPage, renderErrorPage } from './pages.tsx'

const TAG = 'oauth'
const BROWSER_COOKIE_SECURE = '__Host-oauth-browser'
const BROWSER_COOKIE_PLAIN = 'oauth-browser'
const BROWSER_ID = /^[A-Za-z0-9_-]{43}$/
/** As long as a remembered consent, so the memory is not lost with the cookie. */
const BROWSER_COOKIE_MAX_AGE_SEC = 30 * 86_400
const MAX_CONSENT_FORM_BYTES = 4 * 1024

const HTML = { description: 'an HTML page (escaped; strict CSP; never framed)' }
const NOT_AN_ISSUER = { 404: { description: 'this host is not an issuer of this server' } } as const

export function authorizeRoutes(deps: AuthorizeDeps): RouteSpec[] {
  const flow = createAuthorizationFlow(deps)

  const cookieNameFor = (issuer: string) => (issuer.startsWith('https://') ? BROWSER_COOKIE_SECURE : BROWSER_COOKIE_PLAIN)

  function browserIdOf(c: Context, issuer: string): string | null {
    const value = getCookie(c, cookieNameFor(issuer))
    return value !== undefined && BROWSER_ID.test(value) ? value : null
  }

  /** The browser's id, issuing a new cookie when it has none (first visit, or cleared cookies). */
  function ensureBrowserId(c: Context, issuer: string): string {
    const existing = browserIdOf(c, issuer)
    if (existing) return existing
    const id = randomToken(32)
    const secure = issuer.startsWith('https://')
    setCookie(c, cookieNameFor(issuer), id, { path: '/', secure, httpOnly: true, sameSite: 'Lax', maxAge: BROWSER_COOKIE_MAX_AGE_SEC })
    return id
  }

  /** Every AS endpoint answers only on issuer hosts. */
  async function issuerOf(c: Context): Promise<string | Response> {
    const issuer = await deps.resolveIssuer(c.req.raw)
    return issuer ?? renderErrorPage({ status: 404, title: 'Not found', message: 'There is no authorization server at this address.' }, new Headers())
  }

  /** GET answers redirect with 302; the consent POST with 303, so the browser follows with a GET (OAuth 2.1 §7.5.2). */
  async function render(c: Context, outcome: AuthorizeOutcome, redirectStatus: 302 | 303): Promise<Response> {
    // Carries the Set-Cookie a handler may have added to the context.
    const headers = new Headers(c.res.headers)
    headers.delete('content-type')
    switch (outcome.kind) {
      case 'page': return renderErrorPage(outcome, headers)
      case 'consent': return renderConsentPage(outcome.view, headers)
      case 'redirect':
        headers.set('Location', outcome.location)
        headers.set('Cache-Control', 'no-store')
        headers.set('Referrer-Policy', 'no-referrer')
        return new Response(null, { status: redirectStatus, headers })
    }
  }

  const queryOf = (c: Context) => new URL(c.req.url).searchParams

  return [
    defineRoute({
      method: 'get',
      path: AS_ENDPOINT_PATHS.authorization,
      scope: 'public',
      tag: TAG,
      summary: 'Authorization endpoint (OAuth 2.1 §4.1.1): code + PKCE S256; shows a consent page, then logs in with GitHub',
      responses: { 200: { description: 'the consent page' }, 302: { description: 'to GitHub, or an error to the redirect_uri (with iss, RFC 9207)' }, 400: HTML, ...NOT_AN_ISSUER },
      async handler(c) {
        const issuer = await issuerOf(c)
        if (issuer instanceof Response) return issuer
        const browserId = ensureBrowserId(c, issuer)
        return render(c, await flow.authorize(queryOf(c), issuer, browserId), 302)
      },
    }),
    defineRoute({
      method: 'post',
      path: CONSENT_PATH,
      scope: 'public',
      tag: TAG,
      summary: 'The consent form: approve (then GitHub) or deny (access_denied to the client); CSRF-checked',
      responses: { 303: { description: 'to GitHub, or access_denied to the redirect_uri' }, 400: HTML, 403: { description: 'a consent form not issued to this browser (CSRF)' }, ...NOT_AN_ISSUER },
      async handler(c) {
        const issuer = await issuerOf(c)
        if (issuer instanceof Response) return issuer
        // Defence in depth beside the ticket: a browser's own form post carries our origin (or none, from older browsers).
        const origin = c.req.header('origin')
        if (origin !== undefined && origin !== new URL(issuer).origin) {
          return render(c, { kind: 'page', status: 403, title: 'Consent not accepted', message: 'The consent form was posted from another site.' }, 303)
        }
        let ticket: string | undefined
        let decision: string | undefined
        try {
          const form = await readFormBody(c, { maxBytes: MAX_CONSENT_FORM_BYTES })
          ticket = form.get('ticket')
          decision = form.get('decision')
        } catch (error) {
          if (!(error instanceof ApiError)) throw error
        }
        if (ticket === undefined || (decision !== 'approve' && decision !== 'deny')) {
          return render(c, { kind: 'page', status: 400, title: 'Invalid request', message: 'The consent form was incomplete.' }, 303)
        }
        return render(c, await flow.decide(ticket, decision as ConsentDecision, issuer, browserIdOf(c, issuer)), 303)
      },
    }),
    defineRoute({
      method: 'get',
      path: deps.callbackPath,
      scope: 'public',
      tag: TAG,
      summary: 'GitHub login callback: checks the single-use state against this browser, then redirects to the client with code, state and iss',
      responses: { 302: { description: 'the authorization response, or an error, to the client\'s redirect_uri' }, 400: HTML, ...NOT_AN_ISSUER },
      async handler(c) {
        const issuer = await issuerOf(c)
        if (issuer instanceof Response) return issuer
        return render(c, await flow.callback(queryOf(c), issuer, browserIdOf(c, issuer)), 302)
      },
    }),
  ]
}
