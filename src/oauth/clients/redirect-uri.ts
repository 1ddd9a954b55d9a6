/**
 * @module Redirect URIs: which ones a client may register (RFC 8252 §7, OAuth 2.1 §2.3 / §8.4,
 * RFC 9700 §2.1) and the one comparison /authorize uses (exact string, loopback port aside).
 *
 * Registration demands the URI already be in normalised form (what the WHATWG URL parser prints),
 * so the string we compare is the string a browser navigates to: no parser differential between
 * this check, the consent page's displayed host and the browser can turn a registered value into
 * a different destination.
 *
 * On `localhost`: RFC 8252 §8.3 calls it NOT RECOMMENDED because the name is resolved on the user's
 * machine and a hosts file, resolver or firewall quirk may send it off the loopback interface (or
 * to the wrong family), where a literal 127.0.0.1 / [::1] cannot. We accept it all the same, and
 * give it the same any-port rule as the literals: real MCP clients register it (the MCP Inspector's
 * `http://localhost:6274/oauth/callback`, CLIs with `http://localhost:<port>/callback`), the MCP
 * authorization spec names "localhost or HTTPS", and current browsers resolve `localhost` to
 * loopback themselves. `localhost` never matches `127.0.0.1` or the reverse.
 */

export const MAX_REDIRECT_URI_LENGTH = 2000

export type RedirectUriKind = 'https' | 'loopback' | 'private-use'

export type RedirectUriCheck = { readonly ok: true; readonly kind: RedirectUriKind } | { readonly ok: false; readonly reason: string }

/** Hosts for which plain http is allowed (RFC 8252 §7.3, §8.3). URL.hostname keeps IPv6 brackets. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost'])

/** Schemes a browser executes or reads locally; named so the refusal says why. */
const DANGEROUS_SCHEMES: ReadonlySet<string> = new Set(['javascript', 'vbscript', 'data', 'file', 'blob', 'filesystem', 'about'])

/** RFC 3986 §3.1 scheme syntax. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/
/**
 * RFC 8252 §7.1 asks for a reverse domain name (com.example.app), and §8.4 lets a server refuse other
 * schemes. Real MCP clients register single-word schemes (cursor://anysphere.cursor-mcp/..., vscode://...),
 * so those are accepted too; what is refused are schemes that already mean something else.
 */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(?:\.[a-z0-9+-]+)*$/
const NETWORK_SCHEMES: ReadonlySet<string> = new Set(['ftp', 'ws', 'wss', 'mailto', 'tel', 'sms', 'news', 'nntp', 'ldap', 'gopher', 'telnet', 'ssh', 'sftp', 'irc', 'urn', 'view-source', 'intent'])

/** Printable US-ASCII only: no whitespace, controls or non-ASCII that parsers strip or re-encode. */
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/

const fail = (reason: string): RedirectUriCheck => ({ ok: false, reason })

export function validateRedirectUri(raw: string): RedirectUriCheck {
  if (raw.length === 0) return fail('must not be empty')
  if (raw.length > MAX_REDIRECT_URI_LENGTH) return fail(`must be at most ${MAX_REDIRECT_URI_LENGTH} characters`)
  if (!PRINTABLE_ASCII.test(raw)) return fail('must be printable ASCII without whitespace')
  // RFC 6749 §3.1.2: the redirection endpoint URI MUST NOT include a fragment component.
  if (raw.includes('#')) return fail('must not include a fragment (RFC 6749 §3.1.2)')
  // OAuth 2.1 §2.3.1: redirect URIs are compared exactly, so a pattern can never be honoured.
  if (raw.includes('*')) return fail('must not contain wildcards; redirect URIs are matched exactly (OAuth 2.1 §2.3.1)')
  if (raw.includes('\\')) return fail('must not contain a backslash')
  const scheme = SCHEME.exec(raw)?.[1]
  if (scheme === undefined) return fail('must be an absolute URI')
  if (DANGEROUS_SCHEMES.has(scheme.toLowerCase())) return fail(`the ${scheme.toLowerCase()}: scheme is not allowed`)

  const url = URL.parse(raw)
  if (url === null) return fail('is not a valid URI')
  if (!isNormalised(raw, url)) return fail(`must be in normalised form (lower-case scheme and host, no dot segments or default port): ${url.href}`)
  if (url.username !== '' || url.password !== '') return fail('must not contain userinfo')

  switch (url.protocol) {
    case 'https:':
      return { ok: true, kind: 'https' }
    case 'http:':
      // RFC 8252 §8.3 / RFC 9700 §2.6: plain http only for the loopback interface.
      if (LOOPBACK_HOSTS.has(url.hostname)) return { ok: true, kind: 'loopback' }
      return fail('http is allowed only for loopback redirects (127.0.0.1, [::1] or localhost); use https (RFC 8252 §8.3)')
  }
  // RFC 8252 §7.1 / §8.4: a private-use scheme the app controls, not one that names a network protocol.
  if (!PRIVATE_USE_SCHEME.test(scheme) || NETWORK_SCHEMES.has(scheme)) {
    return fail(`${scheme}: is not a private-use scheme; use https, a loopback http URI, or an app scheme such as com.example.app (RFC 8252 §7.1)`)
  }
  if (raw.length === scheme.length + 1) return fail('a private-use redirect URI needs a path after the scheme')
  return { ok: true, kind: 'private-use' }
}

/**
 * Whether raw is what the URL parser would print. The one tolerated difference is the "/" the parser
 * adds to an empty http(s) path (`https://app.example` is registered as typed).
 */
function isNormalised(raw: string, url: URL): boolean {
  if (url.href === raw) return true
  return url.pathname === '/' && url.search === '' && url.href === `${raw}/`
}

/** The scheme and authority of an http loopback redirect, port captured; the lookahead stops `127.0.0.1.evil.com` and `@` tricks. */
const LOOPBACK_AUTHORITY = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::([1-9][0-9]{0,4}))?(?=[/?]|$)/

/** The URI with its loopback port removed, or null when it is not an http loopback URI with a valid port. */
function withoutLoopbackPort(uri: string): string | null {
  const match = LOOPBACK_AUTHORITY.exec(uri)
  if (match === null) return null
  if (match[2] !== undefined && Number(match[2]) > 65_535) return null
  return `http://${match[1]}${uri.slice(match[0].length)}`
}

/**
 * Whether a requested redirect_uri matches a registered one. OAuth 2.1 §4.1.1 / RFC 9700 §2.1:
 * simple string comparison (RFC 3986 §6.2.1), no case folding, no percent-decoding, no trailing-slash
 * or query leniency. RFC 8252 §7.3: for a loopback redirect the port alone may differ, because
 * native apps bind whatever ephemeral port is free when the request is made.
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true
  const registeredBase = withoutLoopbackPort(registered)
  return registeredBase !== null && registeredBase === withoutLoopbackPort(requested)
}

/** Whether a redirect URI is an http loopback one (the consent page may warn about these). */
export function isLoopbackRedirectUri(uri: string): boolean {
  return withoutLoopbackPort(uri) !== null
}
