/**
 * @module The web UI's sign-in and session, following the OAuth browser-based-apps guidance (a
 * backend for the frontend): the UI signs in through our own authorization server as its first-party
 * client (code + PKCE, the same BrowserLogin machinery as redirect-mode proxies), and the API keeps
 * the tokens; the page holds only an HttpOnly `__Host-` cookie that no script can read.
 *
 * That cookie then authenticates API calls like the user's Bearer token would. Writes need more, as a
 * cookie rides along on requests other sites make: an `Origin` naming this very host, and the
 * session's CSRF token in `X-CSRF-Token`, which a page can only learn by reading GET /ui/auth/session,
 * and no other site's page can read that (same-origin policy, no CORS here).
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-browser-based-apps (§6.1, BFF)
 */
import type { Context, Hono } from 'hono'
import { cookieValues, type BrowserClient, type BrowserLoginService, type BrowserRequest, type GateAnswer } from '../auth/index.ts'
import { ApiError, type SessionCredential, type VerifyApiToken } from '../api/index.ts'
import { encodeBase64url, secretsEqual } from '../lib/index.ts'
import { UI_CALLBACK_PATH, UI_CLIENT_ID } from '../oauth/index.ts'

/** The UI's own cookies: never a redirect-mode proxy's, so one host can serve both without mixing them. */
export const UI_SESSION_COOKIE = '__Host-ohp-ui'
export const UI_LOGIN_COOKIE = '__Host-ohp-ui-login'
export const CSRF_HEADER = 'x-csrf-token'

export const UI_BROWSER_CLIENT: BrowserClient = {
  clientIdOf: () => UI_CLIENT_ID,
  callbackPath: UI_CALLBACK_PATH,
  sessionCookie: UI_SESSION_COOKIE,
  loginCookie: UI_LOGIN_COOKIE,
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const CSRF_PURPOSE = 'oauth-https-proxy web UI CSRF v1:'

/** Derived from the session id, one-way: knowing it reveals nothing of the cookie, and it changes with every sign-in. */
export function csrfTokenOf(sessionId: string): string {
  return encodeBase64url(new Bun.CryptoHasher('sha256').update(CSRF_PURPOSE + sessionId).digest())
}

export interface UiSessionDeps {
  /** The UI's BrowserLogin (UI_BROWSER_CLIENT), built by the composition root. */
  readonly login: BrowserLoginService
  /** The origin the browser used, when the API answers there as an issuer (the UI's redirect rule); else null. */
  originOf(request: Request): Promise<string | null>
  /** The API's resource: the UI's tokens are for it alone. */
  readonly apiResource: string
  readonly verifyToken: VerifyApiToken
}

export interface UiSession {
  /** For the API's routes: the session cookie as a credential, writes CSRF-checked. */
  readonly credential: SessionCredential
  mount(app: Hono): void
}

function toResponse(answer: GateAnswer): Response {
  const headers = new Headers()
  for (const [name, value] of answer.headers) headers.append(name, value)
  return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers })
}

/** A write from another site: its Origin (or Sec-Fetch-Site) gives it away; a forged one lacks the token. */
function crossSiteWrite(c: Context, sessionId: string): string | null {
  const origin = c.req.header('origin')
  if (!origin) return 'no Origin header'
  if (URL.parse(origin)?.host !== c.req.header('host')) return 'Origin is another site'
  const site = c.req.header('sec-fetch-site')
  if (site !== undefined && site !== 'same-origin') return `Sec-Fetch-Site is ${site}`
  if (!secretsEqual(c.req.header(CSRF_HEADER) ?? '', csrfTokenOf(sessionId))) return 'no valid X-CSRF-Token'
  return null
}

export function createUiSession(deps: UiSessionDeps): UiSession {
  const { login } = deps

  async function browserRequest(c: Context, target: string, cookies = c.req.header('cookie') ?? null): Promise<BrowserRequest | null> {
    const origin = await deps.originOf(c.req.raw)
    return origin === null ? null : { origin, resource: deps.apiResource, proxyHostname: UI_CLIENT_ID, method: c.req.method, target, cookies }
  }

  /** The session this request's cookie names that still has a token, with that token. */
  async function currentSession(c: Context): Promise<{ readonly id: string; readonly token: string } | null> {
    for (const id of cookieValues(c.req.header('cookie') ?? null, UI_SESSION_COOKIE)) {
      const request = await browserRequest(c, '/ui/', `${UI_SESSION_COOKIE}=${id}`)
      const token = request && (await login.sessionToken(request))
      if (token) return { id, token }
    }
    return null
  }

  /** The same, when its token still verifies: a revoked one (its cache entry not yet expired) is no session. */
  async function verifiedSession(c: Context) {
    const session = await currentSession(c)
    const verified = session && (await deps.verifyToken(session.token))
    return session && verified?.ok ? { ...session, claims: verified.claims } : null
  }

  const refuseWrite = (why: string) => new ApiError(403, 'access_denied', `a write through the web UI's session needs a same-origin request with its X-CSRF-Token (${why})`)

  const notOnThisHost = (c: Context) => c.text('The web UI signs in only on an address the API answers as (PUBLIC_URL, its own loopback address, or a proxy in front of it).', 404)

  return {
    async credential(c) {
      if (cookieValues(c.req.header('cookie') ?? null, UI_SESSION_COOKIE).length === 0) return null
      const session = await currentSession(c)
      if (!session) return null
      if (!SAFE_METHODS.has(c.req.method)) {
        const why = crossSiteWrite(c, session.id)
        if (why !== null) throw refuseWrite(why)
      }
      return session.token
    },

    mount(app) {
      app.get('/ui/auth/login', async (c) => {
        // Back to the page the user was on, only ever a page of the UI (return-path.ts then checks it is a plain path).
        const query = c.req.query('return') ?? '/ui/'
        const back = query.startsWith('/ui/') ? query : '/ui/'
        // Signed in already: nothing to do. A sign-in would end this session first, and another site can
        // send a browser here with a link (a top-level GET carries the Lax cookie).
        if (await verifiedSession(c)) return c.redirect(back, 302)
        const request = await browserRequest(c, back)
        return request ? toResponse(await login.signIn(request)) : notOnThisHost(c)
      })
      app.get(UI_CALLBACK_PATH, async (c) => {
        const request = await browserRequest(c, `${UI_CALLBACK_PATH}${new URL(c.req.url).search}`)
        return request ? toResponse(await login.callback(request)) : notOnThisHost(c)
      })
      app.post('/ui/auth/logout', async (c) => {
        const session = await currentSession(c)
        const why = session && crossSiteWrite(c, session.id)
        if (why) throw refuseWrite(why)
        const request = await browserRequest(c, '/ui/')
        return request ? toResponse(await login.signOut(request)) : notOnThisHost(c)
      })
      // What the page may know: who is signed in, with which scopes, and the CSRF token for its writes.
      app.get('/ui/auth/session', async (c) => {
        c.header('Cache-Control', 'no-store')
        const session = await verifiedSession(c)
        if (!session) return c.json({ signed_in: false })
        return c.json({ signed_in: true, username: session.claims.username, scopes: session.claims.scopes, csrf_token: csrfTokenOf(session.id) })
      })
    },
  }
}
