/** @module Finds the end of an HTTP/1.x request head and its routing host (Host or absolute-form target), RFC 9112. */
import { isIP } from 'node:net'

export type HeadResult =
  /** Feed more bytes: call again with the whole buffer received so far. */
  | { readonly status: 'incomplete' }
  /** Malformed request head: answer 400 and close. */
  | { readonly status: 'invalid'; readonly reason: string }
  /** No end of head within maxBytes: answer 431 and close. */
  | { readonly status: 'too_large' }
  /**
   * `host` is lower-cased without port (an IPv6 literal keeps its brackets: "[::1]"); null when the request has
   * no Host (or an empty one) and no absolute-form target. `headLength` counts bytes up to and including the
   * empty line that ends the head.
   */
  | { readonly status: 'complete'; readonly host: string | null; readonly headLength: number }

const DEFAULT_MAX_BYTES = 16_384
const LF = 0x0a
const CR = 0x0d
const SP = 0x20
const HTAB = 0x09
const COLON = 0x3a
const MAX_PORT = 65_535

const INCOMPLETE: HeadResult = Object.freeze({ status: 'incomplete' })
const TOO_LARGE: HeadResult = Object.freeze({ status: 'too_large' })
const invalid = (reason: string): HeadResult => ({ status: 'invalid', reason })

/** RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
const IS_TCHAR = byteClass("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
/** RFC 3986 §2.3 unreserved; stricter than reg-name on purpose: pct-encoded and sub-delims never name a routable host. */
const IS_HOST_CHAR = byteClass('-._~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ')
const IS_IPV6_CHAR = byteClass(':.0123456789abcdefABCDEF')

/**
 * Reads the request head from the start of an HTTP/1.x connection without consuming it.
 *
 * Stateless: pass every byte received so far. Only the request-line and the Host field are interpreted; the
 * rest of the head is checked just enough to refuse messages that other parsers could read differently
 * (obs-fold, bare CR, NUL, whitespace before a colon, duplicate Host). Scans bytes with native `indexOf`
 * and decodes only the host. Never throws.
 */
export function readRequestHead(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_BYTES): HeadResult {
  const view = bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes
  const needMore = bytes.length >= maxBytes ? TOO_LARGE : INCOMPLETE

  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line (CRLF) received prior to the request-line.
  let start = 0
  while (start < view.length && (view[start] === LF || view[start] === CR)) {
    if (view[start] === CR && start + 1 < view.length && view[start + 1] !== LF) return invalid('bare CR before the request-line')
    start++
  }

  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version. Refuse non-HTTP early (e.g. TLS).
  const methodEnd = scanClass(view, start, IS_TCHAR)
  if (methodEnd === view.length) return needMore
  if (methodEnd === start || view[methodEnd] !== SP) return invalid('request-line does not start with a method token')
  const lineEnd = view.indexOf(LF, methodEnd)
  if (lineEnd === -1) return needMore
  const target = parseRequestLine(view, methodEnd + 1, lineEnd > 0 && view[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd)
  if (!Array.isArray(target)) return target

  let hostStart = -1
  let hostEnd = -1
  let headLength = -1
  for (let pos = lineEnd + 1; headLength < 0; ) {
    const next = view.indexOf(LF, pos)
    if (next === -1) return needMore
    const contentEnd = next > pos && view[next - 1] === CR ? next - 1 : next
    if (contentEnd === pos) {
      headLength = next + 1
      break
    }
    // RFC 9112 §5.2: a server MAY reject obs-fold with 400; §2.2: likewise whitespace before the first field.
    if (view[pos] === SP || view[pos] === HTAB) return invalid('obsolete line folding (obs-fold) is not accepted')
    const nameEnd = scanClass(view, pos, IS_TCHAR)
    // RFC 9112 §5.1: a server MUST reject (400) whitespace between a field name and the colon.
    if (nameEnd === pos || view[nameEnd] !== COLON) return invalid('malformed header field line')
    if (nameEnd - pos === 4 && isHostFieldName(view, pos)) {
      // RFC 9112 §3.2: a server MUST respond 400 to a request with more than one Host header field line.
      if (hostStart >= 0) return invalid('more than one Host header field')
      hostStart = nameEnd + 1
      hostEnd = contentEnd
      while (hostStart < hostEnd && (view[hostStart] === SP || view[hostStart] === HTAB)) hostStart++ // OWS
      while (hostEnd > hostStart && (view[hostEnd - 1] === SP || view[hostEnd - 1] === HTAB)) hostEnd--
    }
    pos = next + 1
  }

  const head = view.subarray(0, headLength)
  // RFC 9110 §5.5: a field value containing NUL MUST be rejected or replaced; rejecting is simplest.
  if (head.indexOf(0) !== -1) return invalid('NUL byte in the request head')
  // RFC 9112 §2.2: a recipient of a bare CR MUST consider that element invalid (or replace it with SP).
  for (let cr = head.indexOf(CR); cr !== -1; cr = head.indexOf(CR, cr + 1)) {
    if (head[cr + 1] !== LF) return invalid('bare CR in the request head')
  }

  let host: string | null = null
  if (hostStart >= 0 && hostEnd > hostStart) {
    // RFC 9112 §3.2: a Host field with an invalid value gets 400, even when the target is absolute-form.
    host = parseHost(view, hostStart, hostEnd)
    if (host === null) return invalid('invalid Host header field value')
  }
  const [targetStart, targetEnd] = target
  const authorityStart = absoluteFormAuthorityStart(view, targetStart, targetEnd)
  if (authorityStart >= 0) {
    let authorityEnd = authorityStart
    while (authorityEnd < targetEnd && view[authorityEnd] !== 0x2f && view[authorityEnd] !== 0x3f && view[authorityEnd] !== 0x23) {
      authorityEnd++ // up to "/", "?" or "#"
    }
    // RFC 9110 §4.2.4: userinfo in an http(s) URI is deprecated and a recipient SHOULD treat it as an error.
    if (view.subarray(authorityStart, authorityEnd).indexOf(0x40) !== -1) return invalid('userinfo in the request-target')
    // RFC 9110 §4.2.1: a URI with an empty host MUST be rejected as invalid.
    // RFC 9112 §3.2.2: the server MUST ignore Host and use the absolute-form target's authority instead.
    const authority = authorityEnd > authorityStart ? parseHost(view, authorityStart, authorityEnd) : null
    if (authority === null) return invalid('invalid authority in the absolute-form request-target')
    // §3.2 has a client send a Host identical to the authority. The hand-over server (Bun.serve) routes
    // by Host alone, so a request naming two different hosts would be read two ways: refuse it.
    if (host !== null && host !== authority) return invalid('the absolute-form authority and the Host header name different hosts')
    host = authority
  }
  return { status: 'complete', host, headLength }
}

/** Validates "request-target SP HTTP-version" in [start, end); returns the target's byte range. */
function parseRequestLine(view: Uint8Array, start: number, end: number): [number, number] | HeadResult {
  let targetEnd = start
  // Loose request-target check: any visible US-ASCII, no whitespace or control bytes.
  while (targetEnd < end && (view[targetEnd] ?? 0) > SP && (view[targetEnd] ?? 0) < 0x7f) targetEnd++
  if (targetEnd === start || view[targetEnd] !== SP) return invalid('malformed request-target')
  // RFC 9112 §2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT; only 1.x is spoken here.
  const version = targetEnd + 1
  const isHttp1 =
    end - version === 8 &&
    view[version] === 0x48 && view[version + 1] === 0x54 && view[version + 2] === 0x54 && view[version + 3] === 0x50 &&
    view[version + 4] === 0x2f && view[version + 5] === 0x31 && view[version + 6] === 0x2e &&
    (view[version + 7] ?? 0) >= 0x30 && (view[version + 7] ?? 0) <= 0x39
  if (!isHttp1) return invalid('request-line does not end with HTTP/1.x')
  return [start, targetEnd]
}

/** If the target is absolute-form with scheme http or https (case-insensitive), the offset of its authority. */
function absoluteFormAuthorityStart(view: Uint8Array, start: number, end: number): number {
  const lower = (i: number) => (view[i] ?? 0) | 0x20
  if (end - start < 7 || lower(start) !== 0x68 || lower(start + 1) !== 0x74 || lower(start + 2) !== 0x74 || lower(start + 3) !== 0x70) {
    return -1
  }
  let i = start + 4
  if (lower(i) === 0x73) i++ // "s"
  return view[i] === COLON && view[i + 1] === 0x2f && view[i + 2] === 0x2f ? i + 3 : -1
}

/**
 * RFC 9110 §7.2: Host = uri-host [ ":" port ]. Returns the lower-cased host without port, or null when invalid.
 * Accepts DNS-style names (one trailing dot dropped), IPv4 dotted quads (as names) and [IPv6] literals.
 */
function parseHost(view: Uint8Array, start: number, end: number): string | null {
  let host = ''
  let i = start
  if (view[i] === 0x5b) {
    // RFC 3986 §3.2.2: IP-literal = "[" IPv6address "]" (IPvFuture and zone IDs are refused).
    i++
    while (i < end && IS_IPV6_CHAR[view[i] ?? 0] === 1) host += String.fromCharCode(toLowerAscii(view[i++] ?? 0))
    if (view[i] !== 0x5d || i >= end || isIP(host) !== 6) return null
    host = `[${host}]`
    i++
  } else {
    while (i < end && IS_HOST_CHAR[view[i] ?? 0] === 1) host += String.fromCharCode(toLowerAscii(view[i++] ?? 0))
    if (host.endsWith('.')) host = host.slice(0, -1)
    if (host.length === 0) return null
  }
  if (i === end) return host
  // RFC 3986 §3.2.3: port = *DIGIT; here at most 65535.
  if (view[i] !== COLON || end - i - 1 > 5) return null
  let port = 0
  for (i++; i < end; i++) {
    const code = view[i] ?? 0
    if (code < 0x30 || code > 0x39) return null
    port = port * 10 + (code - 0x30)
  }
  return port <= MAX_PORT ? host : null
}

function isHostFieldName(view: Uint8Array, at: number): boolean {
  return ((view[at] ?? 0) | 0x20) === 0x68 && ((view[at + 1] ?? 0) | 0x20) === 0x6f &&
    ((view[at + 2] ?? 0) | 0x20) === 0x73 && ((view[at + 3] ?? 0) | 0x20) === 0x74
}

function toLowerAscii(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code
}

function scanClass(view: Uint8Array, from: number, table: Uint8Array): number {
  let i = from
  while (i < view.length && table[view[i] ?? 0] === 1) i++
  return i
}

function byteClass(chars: string): Uint8Array {
  const table = new Uint8Array(256)
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1
  return table
}
