/** @module Generators of HTTP/1.1 request heads for the fuzz suites: well-formed ones, and the vocabulary to break them with. */
import fc from 'fast-check'
import { latin1 } from './fuzz.ts'

/** RFC 9110 §5.6.2 tchar. */
const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
export const tokenArb = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 })
/** A field value: VCHAR and SP/HTAB inside, obs-text now and then (RFC 9110 §5.5). */
const valueArb = fc.string({ unit: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) }, fc.constantFrom(0x20, 0x09), fc.integer({ min: 0x80, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength: 30 })
const pathArb = fc.string({ unit: fc.constantFrom(...'abcXYZ019-._~%2e/?=&;:@!$\'()*+,'.split('')), maxLength: 30 }).map((path) => `/${path}`)
/** RFC 9110 §7.2 uri-host [":" port]: names, IP literals real and not, ports in range and beyond it. */
const hostArb = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: fc.mixedCase(fc.domain()) },
      fc.ipV4(),
      fc.ipV6().map((address) => `[${address}]`),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.'.split('')), maxLength: 12 }).map((text) => `[${text}]`),
      fc.constantFrom('.', '..', 'a..b', '~', '_', 'localhost.', '[::1]', '[::ffff:127.0.0.1]'),
    ),
    fc.option(fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 65536, max: 99999 }))),
  )
  .map(([name, port]) => (port === null ? name : `${name}:${port}`))

/** Field names the parsers read, drop or refuse, in the spellings clients use. */
export const SPECIAL_FIELDS = [
  'Content-Length', 'Transfer-Encoding', 'Connection', 'Upgrade', 'Host', 'Authorization', 'Cookie', 'Origin', 'Accept',
  'X-Request-Id', 'X-Forwarded-For', 'Forwarded', 'X-Forwarded-Host', 'X-Real-IP', 'X-Auth-User', 'Keep-Alive', 'TE',
  'Trailer', 'Proxy-Connection', 'Access-Control-Request-Method', 'User-Agent', 'content_length', 'X_Forwarded_For',
]
const fieldArb = fc.tuple(fc.oneof(fc.constantFrom(...SPECIAL_FIELDS), tokenArb), valueArb, fc.constantFrom('', ' ', '  ', '\t'))

export interface GeneratedRequest {
  readonly text: string
  /** The Host value as sent. */
  readonly host: string
}

/**
 * A well-formed HTTP/1.1 origin-form request head (CRLF line ends, one Host, token names, valid values),
 * whose other fields are any mix of the special ones and random tokens. Either parser may still refuse
 * it (two Content-Lengths, an Upgrade, …): well-formed is not the same as relayed.
 */
export const requestArb: fc.Arbitrary<GeneratedRequest> = fc
  .record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'), tokenArb),
    target: pathArb,
    host: hostArb,
    hostAt: fc.nat(),
    fields: fc.array(fieldArb, { maxLength: 8 }),
  })
  .map(({ method, target, host, hostAt, fields }) => {
    const lines = fields.filter(([name]) => name.toLowerCase() !== 'host').map(([name, value, ows]) => `${name}:${ows}${value.trim()}`)
    lines.splice(hostAt % (lines.length + 1), 0, `Host: ${host}`)
    return { text: `${method} ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, host }
  })

/** Pieces of request heads that parsers treat specially, for word soup. */
export const REQUEST_WORDS = [
  'GET ', 'POST ', ' HTTP/1.1', ' HTTP/1.0', 'HTTP/2.0', '\r\n', '\r\n\r\n', '\n', '\r', ' ', '\t', ':', ': ', '/', 'http://', 'https://',
  '@', '[', ']', '::1', '0', '99999', '65535', 'chunked', 'chunked, gzip', 'close', 'keep-alive', 'upgrade', 'websocket',
  '\0', '\x7f', '\xff', '..', '%2e', '\\', '?', '#', ...SPECIAL_FIELDS.map((name) => `${name}: `),
]

export const requestBytesArb = requestArb.map((request) => latin1(request.text))
