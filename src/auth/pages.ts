/**
 * @module The few pages browser sign-in shows itself: the sign-out confirmation, signed out, access
 * denied, a sign-in that cannot be finished. Every text is HTML-escaped (host names and paths come from
 * requests); pages are never cached, load nothing, run no script, and send no Referer (a callback URL
 * carries a code and a state) — but for the sign-out confirmation, whose form must reach its own origin
 * with an Origin header (see signOutConfirmPage).
 */
import type { GateAnswer } from './browser.ts'

/** Our own answers, pages and redirects alike: not stored by any cache (RFC 9111 §5.2.2.5). */
export const NO_STORE: readonly (readonly [string, string])[] = [
  ['cache-control', 'no-store'],
  ['referrer-policy', 'no-referrer'],
]

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}

interface PageContent {
  readonly title: string
  readonly message: string
  /** A way on: where to and what the link says. */
  readonly link?: { readonly href: string; readonly text: string }
  /** A button that POSTs an empty form to `action`, a path on the page's own origin. */
  readonly form?: { readonly action: string; readonly button: string }
}

/** Nothing but the page's own inline style; nothing can be injected into it that runs, and it cannot be framed (clickjacking). */
const csp = (formAction: "'none'" | "'self'") => `default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action ${formAction}; frame-ancestors 'none'`

export function page(status: number, content: PageContent, extraHeaders: readonly (readonly [string, string])[] = []): GateAnswer {
  const link = content.link ? `\n<p><a href="${escapeHtml(content.link.href)}">${escapeHtml(content.link.text)}</a></p>` : ''
  const form = content.form ? `\n<form method="post" action="${escapeHtml(content.form.action)}"><button type="submit">${escapeHtml(content.form.button)}</button></form>` : ''
  const body = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(content.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.4rem}</style></head>
<body>
<h1>${escapeHtml(content.title)}</h1>
<p>${escapeHtml(content.message)}</p>${form}${link}
</body>
</html>
`
  return {
    status,
    headers: [
      ['content-type', 'text/html; charset=utf-8'],
      ['content-security-policy', csp(content.form ? "'self'" : "'none'")],
      ['x-content-type-options', 'nosniff'],
      ['x-frame-options', 'DENY'],
      ['cache-control', 'no-store'],
      // With no-referrer a browser sends its form's POST with "Origin: null" (Fetch: the request's
      // referrer policy), which the same-origin check must refuse; same-origin keeps the real Origin
      // (and a Referer) for our own origin and still sends nothing to any other.
      ['referrer-policy', content.form ? 'same-origin' : 'no-referrer'],
      ...extraHeaders,
    ],
    body,
  }
}

/** The host as the user knows it: the origin without its scheme. */
const hostOf = (origin: string) => origin.replace(/^[a-z]+:\/\//, '')

/**
 * GET /_oauth/logout: a sign-out is a POST, so that a link or an <img src> on another site cannot sign
 * anybody out (logout CSRF); the button sends it, from this very origin. `action` is the path the page
 * was asked at.
 */
export function signOutConfirmPage(origin: string, action: string): GateAnswer {
  return page(200, { title: 'Sign out', message: `Sign out of ${hostOf(origin)}?`, form: { action, button: 'Sign out' }, link: { href: `${origin}/`, text: 'Stay signed in' } })
}

export function signedOutPage(origin: string, extraHeaders: readonly (readonly [string, string])[]): GateAnswer {
  return page(200, { title: 'Signed out', message: `You are signed out of ${hostOf(origin)}.`, link: { href: `${origin}/`, text: 'Sign in again' } }, extraHeaders)
}

/** The authorization server said access_denied: the allowlist refused this account, or the user declined. A page, never another redirect (no loop). */
export function accessDeniedPage(origin: string): GateAnswer {
  const host = hostOf(origin)
  return page(403, {
    title: 'Access denied',
    message: `Your GitHub account is not allowed on ${host}, or the sign-in was not approved. To use another account, sign out of GitHub first, then try again.`,
    link: { href: `${origin}/`, text: 'Try again' },
  })
}

/** A callback whose state this browser did not start, already used, or too old. */
export function signInExpiredPage(origin: string): GateAnswer {
  return page(400, {
    title: 'Sign-in expired',
    message: 'This sign-in was not started in this browser, was already used, or has expired.',
    link: { href: `${origin}/`, text: 'Sign in again' },
  })
}

/** The authorization server answered with an error, or the code could not be exchanged. */
export function signInFailedPage(origin: string, status: number, returnPath: string): GateAnswer {
  return page(status, {
    title: 'Sign-in failed',
    message: `Signing in to ${hostOf(origin)} could not be completed. Please try again in a moment.`,
    link: { href: `${origin}${returnPath}`, text: 'Try again' },
  })
}

export function methodNotAllowed(allow: string): GateAnswer {
  return page(405, { title: 'Method not allowed', message: `This address answers ${allow} only.` }, [['allow', allow]])
}
