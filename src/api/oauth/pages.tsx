/** @jsxImportSource hono/jsx */
// The pragma above keeps JSX on hono/jsx even when Bun runs without this project's tsconfig (cwd elsewhere).
/**
 * @module The authorization server's HTML pages: consent and errors. Server-rendered with hono/jsx,
 * which escapes every interpolated value, so a client_name or a redirect_uri is shown as text and can
 * never become markup. No script, no external resource, no framing (RFC 9700 §4.7 clickjacking).
 */
import type { Child } from 'hono/jsx'
import type { ConsentView, PageOutcome, Scope } from '../../oauth/index.ts'

/** Nothing loads but the page's own inline style; forms post only back here; nobody may frame it. */
/**
 * No form-action: browsers apply it to the redirects that follow a form post too (CSP Level 3 form-action; Chromium
 * blocks them), and the consent form's answer is a 303 to GitHub or to the client's redirect_uri, so
 * `form-action 'self'` made consent impossible in a real browser. The page runs no script and escapes
 * everything it shows, so no other form can appear on it.
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"

export const CONSENT_PATH = '/authorize/consent'

const SCOPE_TEXT: Record<Scope, string> = {
  admin: 'admin: manage this server (read and change its configuration)',
  user: 'user: read this server\'s configuration',
  mcp: 'mcp: use the MCP servers and sites behind this proxy',
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}code{background:#eef1f4;padding:0 .25rem;border-radius:3px;word-break:break-all}
.warn{background:#fff4d6;border-left:4px solid #d49b00;padding:.5rem .75rem}
form{display:flex;gap:1rem;margin-top:1.5rem}button{font-size:1rem;padding:.5rem 1.25rem;cursor:pointer}`

function Layout(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* same-origin, not no-referrer: under no-referrer a browser's form POST carries "Origin: null" (Fetch §3.1), and the consent POST's Origin check refuses it. */}
        <meta name="referrer" content="same-origin" />
        <title>{props.title}</title>
        <style>{STYLE}</style>
      </head>
      <body>{props.children}</body>
    </html>
  )
}

function ConsentPage({ view }: { view: ConsentView }) {
  const name = view.clientName ?? 'An unnamed application'
  // A proxy's own browser client is the proxy itself: the user is told which site they sign in to.
  const heading = view.proxy === null ? <>Authorize <strong>{name}</strong>?</> : <>Sign in to <strong>{view.proxy}</strong>?</>
  return (
    <Layout title={view.proxy === null ? `Authorize ${name}` : `Sign in to ${view.proxy}`}>
      <h1>{heading}</h1>
      {view.proxy === null ? (
        <p>
          Application id <code>{view.clientId}</code> asks to act as you, with your GitHub identity, at <code>{view.resource}</code>.
        </p>
      ) : (
        <p>
          The site <code>{view.proxy}</code>, protected by this server, asks for your GitHub identity to let you in at <code>{view.resource}</code>.
        </p>
      )}
      <p>It asks for:</p>
      <ul>
        {view.scopes === null ? (
          <li>whichever of admin, user and mcp your GitHub account is granted here</li>
        ) : (
          view.scopes.map((scope) => <li>{SCOPE_TEXT[scope]}</li>)
        )}
      </ul>
      <p>
        After you sign in with GitHub you will be sent to <strong>{view.redirectTarget}</strong> (<code>{view.redirectUri}</code>).
      </p>
      {view.isLoopbackRedirect ? <p class="warn">That address is a program on your own computer. Approve only if you just started it.</p> : null}
      {view.clientName === null ? <p class="warn">This application did not give a name. Approve only if you know where this request came from.</p> : null}
      <form method="post" action={CONSENT_PATH}>
        <input type="hidden" name="ticket" value={view.ticket} />
        <button type="submit" name="decision" value="approve">
          Approve
        </button>
        <button type="submit" name="decision" value="deny">
          Deny
        </button>
      </form>
    </Layout>
  )
}

function ErrorPage({ outcome }: { outcome: Pick<PageOutcome, 'title' | 'message'> }) {
  return (
    <Layout title={outcome.title}>
      <h1>{outcome.title}</h1>
      <p>{outcome.message}</p>
    </Layout>
  )
}

async function htmlResponse(element: ReturnType<typeof Layout>, status: number, headers: Headers): Promise<Response> {
  headers.set('Content-Type', 'text/html; charset=utf-8')
  headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  headers.set('X-Frame-Options', 'DENY')
  headers.set('X-Content-Type-Options', 'nosniff')
  // Nothing of these URLs (a consent page's carries the authorization request) goes to another site.
  headers.set('Referrer-Policy', 'same-origin')
  // The consent page carries a CSRF ticket, error pages echo request values: neither may be cached.
  headers.set('Cache-Control', 'no-store')
  return new Response(`<!doctype html>${await element.toString()}`, { status, headers })
}

export const renderConsentPage = (view: ConsentView, headers: Headers) => htmlResponse(<ConsentPage view={view} />, 200, headers)

export const renderErrorPage = (outcome: Pick<PageOutcome, 'status' | 'title' | 'message'>, headers: Headers) =>
  htmlResponse(<ErrorPage outcome={outcome} />, outcome.status, headers)
