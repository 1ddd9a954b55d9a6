/**
 * @module A backend's response head as the relay passes it on (RFC 9112): checked as strictly as the
 * raw-socket forwarder's parser (same framing rules, from http1-response.ts), then re-written for the
 * client only where it must be: hop-by-hop fields dropped (RFC 9110 §7.6.1), the proxy's response
 * headers set, a Date added if missing (RFC 9110 §6.6.1), the framing stated exactly once, because the
 * body bytes are passed on as they are. A head that needs none of that is passed on byte for byte.
 *
 * It runs once per response on the hot path: one regular expression checks the whole head, and only
 * field lines whose names can matter are looked at.
 */
import { framingOf, type BodyFraming } from '../http1-response.ts'
import { HOP_BY_HOP } from '../headers.ts'
import { hasBareLf, valueOf } from './request-head.ts'

export interface RelayResponseHead {
  readonly status: number
  readonly framing: BodyFraming
  /** The backend asked to close its connection, or its framing ends with the connection: not reusable. */
  readonly backendCloses: boolean
  /** Bytes of the backend's head (from where it started), including the empty line. */
  readonly headLength: number
  /**
   * The status line and fields as they go to the client, without the final empty line; null when the
   * backend's head goes out exactly as it came.
   */
  readonly lines: string | null
}

export type ResponseHeadResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'invalid'; readonly reason: string }
  | { readonly status: 'complete'; readonly head: RelayResponseHead }

/** Headers the proxy sets on every response of a site, lower-cased names with their values. */
export interface ResponseHeaderRules {
  readonly setNames: ReadonlySet<string>
  /** Ready-made "name: value\r\n" lines for those headers. */
  readonly setLines: string
  /** The same as [name, value] pairs, for the hand-over server's Response headers. */
  readonly entries: readonly (readonly [string, string])[]
}

export const MAX_RELAY_RESPONSE_HEAD_BYTES = 64 * 1024

const INCOMPLETE: ResponseHeadResult = Object.freeze({ status: 'incomplete' })
const invalid = (reason: string): ResponseHeadResult => ({ status: 'invalid', reason })
const HEAD_END = Buffer.from('\r\n\r\n')

/**
 * RFC 9112 §4 status-line (the reason phrase, and in practice the SP before it, optional) and §5 field
 * lines. Bare CR or LF, obs-fold (a proxy MUST reject or unfold it, §5.2), NUL and other controls fail.
 */
const RESPONSE_HEAD = /^HTTP\/1\.[01] [1-5][0-9]{2}(?: [\t\x20-\x7e\x80-\xff]*)?(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t\x20-\x7e\x80-\xff]*)*$/

/** Reads the head starting at `from` (after a 1xx head, the next one starts where it ended). */
export function parseResponseHeadForRelay(bytes: Buffer, requestMethod: string, rules: ResponseHeaderRules, from = 0): ResponseHeadResult {
  const end = bytes.indexOf(HEAD_END, from)
  if (end === -1) {
    if (bytes.length - from >= MAX_RELAY_RESPONSE_HEAD_BYTES) return invalid('response head larger than 64 KiB')
    return hasBareLf(bytes, from) ? invalid('bare LF in the response head') : INCOMPLETE
  }
  if (end + HEAD_END.length - from > MAX_RELAY_RESPONSE_HEAD_BYTES) return invalid('response head larger than 64 KiB')
  const text = bytes.toString('latin1', from, end)
  if (!RESPONSE_HEAD.test(text)) return invalid('malformed response head')
  const minorVersion = text.charCodeAt(7) === 0x30 ? 0 : 1
  const status = Number(text.slice(9, 12))
  const statusLineEnd = text.indexOf('\r\n')

  const contentLengths: string[] = []
  const transferCodings: string[] = []
  let connection: string | null = null
  let hasDate = false
  /** [start, end) ranges of lines to leave out, each with the CRLF before it. */
  let dropped: number[] | null = null
  let contentLengthLines: number[] | null = null
  for (let lineStart = statusLineEnd + 2; lineStart > 1 && lineStart < text.length; ) {
    const next = text.indexOf('\r\n', lineStart)
    const lineEnd = next === -1 ? text.length : next
    const nameLength = text.indexOf(':', lineStart) - lineStart
    if (MAYBE_SPECIAL[nameLength] === 1 || rules.setNames.size > 0) {
      const name = text.slice(lineStart, lineStart + nameLength).toLowerCase()
      const colon = lineStart + nameLength
      if (name === 'content-length') {
        const value = valueOf(text, colon, lineEnd)
        if (value.includes(',')) contentLengths.push(...value.split(','))
        else contentLengths.push(value)
        ;(contentLengthLines ??= []).push(lineStart - 2, lineEnd)
      } else if (name === 'transfer-encoding') transferCodings.push(...valueOf(text, colon, lineEnd).split(','))
      else if (name === 'connection') connection = connection === null ? valueOf(text, colon, lineEnd) : `${connection},${valueOf(text, colon, lineEnd)}`
      else if (name === 'date') hasDate = true
      // The proxy sends the request's id itself: a backend's echo would make two.
      if (HOP_BY_HOP.has(name) || rules.setNames.has(name) || name === 'x-request-id') (dropped ??= []).push(lineStart - 2, lineEnd)
    }
    lineStart = next === -1 ? text.length : next + 2
  }
  const framing = framingFor(requestMethod, status, minorVersion, contentLengths, transferCodings)
  if (typeof framing === 'string') return invalid(framing)

  const tokens = connection === null ? NO_TOKENS : connection.toLowerCase().split(',').map((token) => token.trim())
  // HTTP/1.0 closes unless it says keep-alive (RFC 9112 §9.3).
  const backendCloses = framing.kind === 'close' || tokens.includes('close') || (minorVersion === 0 && !tokens.includes('keep-alive'))
  // §6.3 item 3: with chunked framing, a Content-Length is wrong and MUST be removed.
  if (framing.kind === 'chunked' && contentLengthLines) (dropped ??= []).push(...contentLengthLines)
  if (tokens.length > 0) {
    // RFC 9110 §7.6.1: the fields named in Connection are hop-by-hop too.
    // Framing fields stay whatever Connection says: the relay frames the body by them.
    const named = tokens.filter((token) => token && token !== 'close' && token !== 'keep-alive' && token !== 'content-length' && token !== 'transfer-encoding')
    if (named.length > 0) (dropped ??= []).push(...linesNamed(text, statusLineEnd, new Set(named)))
  }

  const added = `${framing.kind === 'chunked' ? 'transfer-encoding: chunked\r\n' : ''}${hasDate ? '' : `date: ${httpDate()}\r\n`}${rules.setLines}`
  const isUnchanged = minorVersion === 1 && dropped === null && added === ''
  let lines: string | null = null
  if (!isUnchanged) {
    const statusLine = minorVersion === 1 ? text.slice(0, statusLineEnd) : `HTTP/1.1${text.slice(8, statusLineEnd)}`
    lines = `${statusLine}${withoutRanges(text, statusLineEnd, dropped)}\r\n${added}`
  }
  return { status: 'complete', head: { status, framing, backendCloses, headLength: end + 4 - from, lines } }
}

/** The common case — one plain Content-Length on a response that may have a body — without framingOf's arrays. */
function framingFor(method: string, status: number, minorVersion: 0 | 1, contentLengths: string[], transferCodings: string[]): BodyFraming | string {
  if (contentLengths.length === 1 && transferCodings.length === 0 && method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304) {
    const value = contentLengths[0]!.trim()
    if (DIGITS.test(value)) return { kind: 'length', bytes: Number(value) }
  }
  return framingOf(method, status, minorVersion, contentLengths, transferCodings)
}

const DIGITS = /^[0-9]{1,15}$/

/** Name lengths of the fields read or dropped here. */
const MAYBE_SPECIAL = (() => {
  const table = new Uint8Array(64)
  for (const name of ['content-length', 'transfer-encoding', 'connection', 'date', 'x-request-id', ...HOP_BY_HOP]) table[name.length] = 1
  return table
})()
const NO_TOKENS: readonly string[] = Object.freeze([])

/** The text from `from` on, without the [start, end) ranges in `ranges` (unordered pairs). */
function withoutRanges(text: string, from: number, ranges: number[] | null): string {
  if (!ranges) return text.slice(from)
  const pairs: [number, number][] = []
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!])
  pairs.sort((a, b) => a[0] - b[0])
  let out = ''
  let at = from
  for (const [start, end] of pairs) {
    if (start < at) continue // the same line dropped for two reasons
    out += text.slice(at, start)
    at = end
  }
  return out + text.slice(at)
}

/** Ranges (with their CRLF before) of the field lines whose lower-cased names are in `names`. */
function linesNamed(text: string, from: number, names: ReadonlySet<string>): number[] {
  const ranges: number[] = []
  for (let lineStart = from + 2; lineStart > 1 && lineStart < text.length; ) {
    const next = text.indexOf('\r\n', lineStart)
    const lineEnd = next === -1 ? text.length : next
    if (names.has(text.slice(lineStart, text.indexOf(':', lineStart)).toLowerCase())) ranges.push(lineStart - 2, lineEnd)
    lineStart = next === -1 ? text.length : next + 2
  }
  return ranges
}

let dateSecond = 0
let dateText = ''

/** RFC 9110 §5.6.7 IMF-fixdate, formatted once per second. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000)
  if (second !== dateSecond) {
    dateSecond = second
    dateText = new Date(second * 1000).toUTCString()
  }
  return dateText
}
