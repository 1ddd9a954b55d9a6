/**
 * @module The request heads the relay forwards itself, parsed from a client's bytes (RFC 9112). Only the
 * plain case is taken: an HTTP/1.1 origin-form request with one Host, no Upgrade, and body framing that
 * cannot be read two ways. Everything else — HTTP/1.0, absolute-form, upgrades, doubtful or malformed
 * heads — is "unsupported" and goes to the proxy instance's full HTTP server, which either serves it
 * (WebSocket, HTTP/1.0) or refuses it with a 400. So this parser never has to produce an error itself,
 * and it never lets through anything the full server would refuse.
 *
 * It runs once per request on the hot path, so it checks the whole head with one regular expression,
 * then looks only at the field lines whose names can matter, and keeps the others as the client sent
 * them, in one string, for the backend.
 */
import { SPOOFABLE_EXACT_NAMES, spoofableFamilyOf } from '../../lib/index.ts'
import { FORWARDING, HOP_BY_HOP } from '../headers.ts'
import { isIP } from 'node:net'
import { normalizeHost } from '../host.ts'

/** How the request body is delimited (RFC 9112 §6.3 items 3–7 for requests). */
export type RequestFraming = { readonly kind: 'none' } | { readonly kind: 'length'; readonly bytes: number } | { readonly kind: 'chunked' }

export interface RequestHead {
  readonly method: string
  /** origin-form: absolute path and query. */
  readonly target: string
  /** The Host field as sent (port included) and its lower-cased host part. */
  readonly host: string
  readonly hostname: string
  readonly framing: RequestFraming
  /** Connection: close was asked for (RFC 9112 §9.6). */
  readonly wantsClose: boolean
  readonly accept: string | null
  /** For the auth step: the credentials and the Origin as sent (their lines stay in keptFields until the step says otherwise). */
  readonly authorization: string | null
  readonly cookie: string | null
  readonly origin: string | null
  /** The Referer as sent (its line goes on): the auth step's same-origin check of a sign-out may need it. */
  readonly referer: string | null
  /** The client's X-Request-Id when it is a usable one (its line then goes on); an unusable one is dropped. */
  readonly requestId: string | null
  readonly userAgent: string | null
  /** It carries Access-Control-Request-Method: with OPTIONS and an Origin, a CORS preflight (Fetch §4.8). */
  readonly isPreflight: boolean
  /**
   * The field lines that go to the backend unchanged, each ending in CRLF: all but Host, hop-by-hop
   * fields (with those named in Connection, RFC 9110 §7.6.1), identity, client-address, path-override
   * and forwarding fields, and the fields the proxy sets itself.
   */
  readonly keptFields: string
  /**
   * The client-address fields (lib/spoofable-headers.ts) spelled with "-", as sent, each ending in CRLF:
   * held back from keptFields because the proxy may trust some of them (`trusted_request_headers`),
   * which only the decision, made after this parse, can say. '' when there are none (almost always).
   */
  readonly clientAddressFields: string
  /** X-Forwarded-For and Forwarded as sent, for a client that is a trusted load balancer. */
  readonly priorForwardedFor: string | null
  readonly priorForwarded: string | null
  /** Bytes of the head (from where it started) up to and including the empty line; the body (or the next request) follows. */
  readonly headLength: number
}

export type RequestHeadResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'unsupported' }
  | { readonly status: 'complete'; readonly head: RequestHead }

/** Larger heads go to the full server, which answers 431. */
export const MAX_RELAY_HEAD_BYTES = 16 * 1024

const INCOMPLETE: RequestHeadResult = Object.freeze({ status: 'incomplete' })
const UNSUPPORTED: RequestHeadResult = Object.freeze({ status: 'unsupported' })
const HEAD_END = Buffer.from('\r\n\r\n')
const NO_BODY: RequestFraming = Object.freeze({ kind: 'none' })

/**
 * RFC 9112 §3 and §5: method SP origin-form SP "HTTP/1.1", then field lines `name ":" value`, where a
 * name is a token (no whitespace before the colon) and a value is VCHAR, obs-text, SP and HTAB. A bare
 * CR or LF, obs-fold, a NUL or any other control character fails the match.
 */
const REQUEST_HEAD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \/[\x21-\x7e]* HTTP\/1\.1(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*)*$/
/** RFC 9110 §7.2 uri-host [":" port], restricted to names and IP literals that can name a proxy. */
const HOST_VALUE = /^([A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/

/**
 * What HOST_VALUE's shape cannot say, as the lenient reader checks it (http-head.ts parseHost): a port
 * of at most 65535, an IP literal that is an IPv6 address (RFC 3986 §3.2.2), a name that is more than
 * one dot. Anything else goes to the full server, which answers 400 (RFC 9112 §3.2): found by the fuzz
 * suite (test/fuzz/request-head.test.ts), where the relay routed `Host: a.aa:65536` that the hand-over
 * path refuses.
 */
function isHostInRange(host: string): boolean {
  const literalEnd = host.charCodeAt(0) === 0x5b /* [ */ ? host.indexOf(']') : -1
  if (literalEnd !== -1 && isIP(host.slice(1, literalEnd)) !== 6) return false
  const colon = host.indexOf(':', literalEnd + 1)
  if (colon !== -1 && host.length - colon - 1 === 5 && Number(host.slice(colon + 1)) > 65_535) return false
  const nameEnd = colon === -1 ? host.length : colon
  return literalEnd !== -1 || !(nameEnd === 1 && host.charCodeAt(0) === 0x2e /* . */)
}
const CONTENT_LENGTH = /^[0-9]{1,15}$/
/** A request id a client (or a load balancer) may choose: short, and nothing a log line or a header could misread. */
export const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * Reads the head starting at `from`. `dropNames` are lower-case field names the proxy sets itself (its custom headers): the client's are
 * left out. Names of any other length than these, the framing, hop-by-hop, forwarding and spoofable
 * fields (lib/spoofable-headers.ts), that do not start with "x" or "r", are never even lower-cased.
 */
export function parseRequestHead(bytes: Buffer, dropNames: ReadonlySet<string>, from = 0): RequestHeadResult {
  const end = bytes.indexOf(HEAD_END, from)
  // The whole head, blank line included, must fit; a bare LF (RFC 9112 §2.2) may never be followed by CRLFCRLF.
  if (end === -1) return bytes.length - from >= MAX_RELAY_HEAD_BYTES || hasBareLf(bytes, from) ? UNSUPPORTED : INCOMPLETE
  if (end + HEAD_END.length - from > MAX_RELAY_HEAD_BYTES) return UNSUPPORTED
  const text = bytes.toString('latin1', from, end)
  if (!REQUEST_HEAD.test(text)) return UNSUPPORTED
  const methodEnd = text.indexOf(' ')
  const targetEnd = text.indexOf(' ', methodEnd + 1)
  const requestLineEnd = text.indexOf('\r\n', targetEnd)
  if (needsNormalising(text, methodEnd + 1, targetEnd)) return UNSUPPORTED

  let host: string | null = null
  let contentLength: string | null = null
  let transferEncoding: string | null = null
  let connection: string | null = null
  let accept: string | null = null
  let authorization: string | null = null
  let cookie: string | null = null
  let origin: string | null = null
  let referer: string | null = null
  let requestId: string | null = null
  let userAgent: string | null = null
  let isPreflight = false
  let priorForwardedFor: string | null = null
  let priorForwarded: string | null = null
  let kept = ''
  let clientAddressFields = ''
  let keptFrom = requestLineEnd + 2 // start of the run of lines kept so far
  for (let lineStart = keptFrom; lineStart > 1 && lineStart < text.length; ) {
    const next = text.indexOf('\r\n', lineStart)
    const lineEnd = next === -1 ? text.length : next
    const colon = text.indexOf(':', lineStart)
    const first = text.charCodeAt(lineStart) | 0x20
    const nameLength = colon - lineStart
    // Cheap pre-check: only these can be fields the relay reads or drops.
    if (MAYBE_SPECIAL[nameLength] === 1 || first === 0x78 /* x */ || first === 0x72 /* r */ || dropNames.size > 0) {
      const name = text.slice(lineStart, colon).toLowerCase()
      let isDropped = true
      if (name === 'host') {
        if (host !== null) return UNSUPPORTED // RFC 9112 §3.2: more than one Host is a 400
        host = valueOf(text, colon, lineEnd)
      } else if (name === 'upgrade') return UNSUPPORTED // WebSocket and h2c belong to the full server
      else if (name === 'content-length') {
        // RFC 9110 §8.6: repeated values that differ are an error; identical ones are merely odd, and refused too.
        if (contentLength !== null) return UNSUPPORTED
        contentLength = valueOf(text, colon, lineEnd)
        isDropped = false
      } else if (name === 'transfer-encoding') {
        if (transferEncoding !== null) return UNSUPPORTED
        transferEncoding = valueOf(text, colon, lineEnd)
      } else if (name === 'connection') connection = connection === null ? valueOf(text, colon, lineEnd) : `${connection},${valueOf(text, colon, lineEnd)}`
      else if (name === 'accept') {
        accept = accept === null ? valueOf(text, colon, lineEnd) : `${accept}, ${valueOf(text, colon, lineEnd)}`
        isDropped = false
      } else if (name === 'authorization') {
        // Two credentials could be read two ways (which one did the auth step check?): the full server answers 400.
        if (authorization !== null) return UNSUPPORTED
        authorization = valueOf(text, colon, lineEnd)
        isDropped = false
      } else if (name === 'cookie') {
        // RFC 9113 §8.2.3's rule for HTTP/1.1 too: several Cookie lines are one list joined by "; ".
        cookie = cookie === null ? valueOf(text, colon, lineEnd) : `${cookie}; ${valueOf(text, colon, lineEnd)}`
        isDropped = false
      } else if (name === 'origin') {
        if (origin !== null) return UNSUPPORTED
        origin = valueOf(text, colon, lineEnd)
        isDropped = false
      } else if (name === 'referer') {
        // Two could be read two ways; the hand-over server reads them as one list, which no URL parses.
        if (referer !== null) return UNSUPPORTED
        referer = valueOf(text, colon, lineEnd)
        isDropped = false
      } else if (name === 'x-request-id') {
        const value = valueOf(text, colon, lineEnd)
        // One usable id goes on as sent; a second, or one that could not be logged or echoed safely, is dropped.
        isDropped = requestId !== null || !REQUEST_ID.test(value)
        if (!isDropped) requestId = value
      } else if (name === 'access-control-request-method') {
        isPreflight = true
        isDropped = false
      } else if (name === 'user-agent') {
        userAgent = valueOf(text, colon, lineEnd)
        isDropped = false
      } else if (name === 'x-forwarded-for') priorForwardedFor = priorForwardedFor === null ? valueOf(text, colon, lineEnd) : `${priorForwardedFor}, ${valueOf(text, colon, lineEnd)}`
      else if (name === 'forwarded') priorForwarded = priorForwarded === null ? valueOf(text, colon, lineEnd) : `${priorForwarded}, ${valueOf(text, colon, lineEnd)}`
      else {
        const hasUnderscore = name.includes('_')
        const folded = hasUnderscore ? name.replaceAll('_', '-') : name
        const family = isDroppedName(folded, dropNames) ? 'dropped' : spoofableFamilyOf(folded)
        isDropped = family !== null
        // Only the "-" spelling can be a CDN's (headers.ts isStrippedRequestHeader); the "_" one is dropped.
        if (family === 'client_address' && !hasUnderscore) clientAddressFields += `${text.slice(lineStart, lineEnd)}\r\n`
      }
      if (isDropped) {
        kept += text.slice(keptFrom, lineStart)
        keptFrom = next === -1 ? text.length : next + 2
      }
    }
    lineStart = next === -1 ? text.length : next + 2
  }
  if (host === null || !HOST_VALUE.test(host) || !isHostInRange(host)) return UNSUPPORTED
  kept += keptFrom < text.length ? `${text.slice(keptFrom)}\r\n` : ''

  let framing: RequestFraming
  if (transferEncoding !== null) {
    // RFC 9112 §6.1: chunked must be the final coding; with Content-Length too, the message is a smuggling
    // attempt (§6.3 item 3 allows treating it as an error). Only exactly "chunked" is relayed.
    if (contentLength !== null || transferEncoding.toLowerCase() !== 'chunked') return UNSUPPORTED
    framing = { kind: 'chunked' }
  } else if (contentLength !== null) {
    if (!CONTENT_LENGTH.test(contentLength)) return UNSUPPORTED
    framing = contentLength === '0' ? NO_BODY : { kind: 'length', bytes: Number(contentLength) }
  } else framing = NO_BODY

  let wantsClose = false
  if (connection !== null) {
    const tokens = connection.toLowerCase().split(',').map((token) => token.trim())
    wantsClose = tokens.includes('close')
    // Naming a framing field or Host in Connection would make the relay drop what it still relies on.
    if (tokens.some((token) => token === 'content-length' || token === 'transfer-encoding' || token === 'host')) return UNSUPPORTED
    // RFC 9110 §7.6.1: the fields named in Connection are hop-by-hop too.
    const named = tokens.filter((token) => token && token !== 'close' && token !== 'keep-alive').map((token) => token.replaceAll('_', '-'))
    if (named.length > 0) {
      const namedSet = new Set(named)
      kept = withoutFields(kept, namedSet)
      if (clientAddressFields !== '') clientAddressFields = withoutFields(clientAddressFields, namedSet)
    }
  }
  return {
    status: 'complete',
    head: {
      method: text.slice(0, methodEnd),
      target: text.slice(methodEnd + 1, targetEnd),
      host,
      hostname: normalizeHost(host),
      framing,
      wantsClose,
      accept,
      authorization,
      cookie,
      origin,
      referer,
      requestId,
      userAgent,
      isPreflight,
      keptFields: kept,
      clientAddressFields,
      priorForwardedFor,
      priorForwarded,
      headLength: end + 4 - from,
    },
  }
}

/** RFC 3986 §3.3: a "." or ".." segment, literally or percent-encoded (§2.3: %2E is "."). */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i

/**
 * A path the hand-over server would resolve before routing (dot segments, RFC 3986 §5.2.4; a
 * backslash, which it reads as "/"): routing and forwarding it unresolved would let `/a/../b` reach a
 * route of /b through /a's, and escape a target's path prefix, so such requests go there. Three
 * indexOf calls on the common path.
 */
function needsNormalising(text: string, targetStart: number, targetEnd: number): boolean {
  const queryAt = text.indexOf('?', targetStart)
  const pathEnd = queryAt === -1 || queryAt > targetEnd ? targetEnd : queryAt
  const backslash = text.indexOf('\\', targetStart)
  if (backslash !== -1 && backslash < pathEnd) return true
  const dot = text.indexOf('/.', targetStart)
  const percent = text.indexOf('%2', targetStart)
  if ((dot === -1 || dot >= pathEnd) && (percent === -1 || percent >= pathEnd)) return false
  return DOT_SEGMENT.test(text.slice(targetStart, pathEnd))
}

/**
 * Fields the backend must not get from the client, besides the spoofable families (checked after
 * these). "_" counts as "-": WSGI, PHP and others fold both into one variable, so X_Forwarded_For,
 * Content_Length or X_Team (for a custom X-Team) would otherwise arrive as the real thing.
 */
function isDroppedName(name: string, dropNames: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || FORWARDING.has(name) || SET_BY_PROXY.has(name) || dropNames.has(name)
}

/** Read above under their own spelling; spelled with "_" they are dropped like the rest. */
const SET_BY_PROXY: ReadonlySet<string> = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade'])

/**
 * Name lengths of the fields parseRequestHead reads or drops, apart from those starting with "x" or "r"
 * (checked by first letter; every prefix of the spoofable families starts so). The client-address
 * names that start otherwise (CF-Connecting-IP, True-Client-IP, Fastly-Client-IP, Client-IP, …) add no
 * length the table did not have, so the common fields cost what they did.
 */
const MAYBE_SPECIAL = (() => {
  const table = new Uint8Array(64)
  const spoofable = SPOOFABLE_EXACT_NAMES.filter((name) => name[0] !== 'x' && name[0] !== 'r')
  const names = ['host', 'upgrade', 'content-length', 'transfer-encoding', 'connection', 'accept', 'authorization', 'cookie', 'origin', 'user-agent', 'access-control-request-method', 'forwarded', ...HOP_BY_HOP, ...FORWARDING, ...spoofable]
  for (const name of names) table[name.length] = 1
  return table
})()

/** The field lines whose names, lower-cased with "_" as "-" (see isDroppedName), are not in `names` (given the same way). */
export function withoutFields(fields: string, names: ReadonlySet<string>): string {
  return fields
    .split('\r\n')
    .filter((line) => line !== '' && !names.has(line.slice(0, line.indexOf(':')).toLowerCase().replaceAll('_', '-')))
    .map((line) => `${line}\r\n`)
    .join('')
}

/** The value of the field line whose colon is at `colon`, without its OWS. */
export function valueOf(text: string, colon: number, lineEnd: number): string {
  return trimOws(text.slice(colon + 1, lineEnd))
}

/** An LF not preceded by CR: only looked for while a head is incomplete. */
export function hasBareLf(bytes: Uint8Array, from = 0): boolean {
  for (let lf = bytes.indexOf(0x0a, from); lf !== -1; lf = bytes.indexOf(0x0a, lf + 1)) if (lf === from || bytes[lf - 1] !== 0x0d) return true
  return false
}

/** RFC 9110 §5.6.3: OWS is SP and HTAB only (String#trim would also eat obs-text 0xA0). */
export function trimOws(value: string): string {
  let start = 0
  let end = value.length
  while (start < end && (value.charCodeAt(start) === 0x20 || value.charCodeAt(start) === 0x09)) start++
  while (end > start && (value.charCodeAt(end - 1) === 0x20 || value.charCodeAt(end - 1) === 0x09)) end--
  return start === 0 && end === value.length ? value : value.slice(start, end)
}
