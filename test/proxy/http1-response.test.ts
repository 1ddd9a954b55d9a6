/**
 * The raw forwarder's response parser (RFC 9112): heads, framing, and the chunked decoder, fed hostile
 * input one byte at a time and all at once. Every refusal here becomes a 502 for the client.
 */
import { describe, expect, test } from 'bun:test'
import {
  createBodyDecoder,
  Http1ProtocolError,
  MAX_CHUNK_LINE_BYTES,
  MAX_RESPONSE_HEAD_BYTES,
  MAX_TRAILER_BYTES,
  parseResponseHead,
  type BodyFraming,
  type HeadParseResult,
} from '../../src/proxy/http1-response.ts'

const bytes = (text: string) => Buffer.from(text, 'latin1')
const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString('latin1')

function complete(result: HeadParseResult) {
  if (result.status !== 'complete') throw new Error(`expected complete, got ${JSON.stringify(result)}`)
  return result
}
const head = (raw: string, method = 'GET') => complete(parseResponseHead(bytes(raw), method)).head
const reasonOf = (raw: string, method = 'GET') => {
  const result = parseResponseHead(bytes(raw), method)
  return result.status === 'invalid' ? result.reason : result.status
}

/** Decodes `body` under `framing`, fed in pieces of `step` bytes; then signals the close. */
function decode(framing: BodyFraming, body: string, step = Infinity, isClosed = true) {
  const decoder = createBodyDecoder(framing)
  const out: Uint8Array[] = []
  const raw = bytes(body)
  for (let i = 0; i < raw.length; i += Math.min(step, raw.length)) out.push(...decoder.push(raw.subarray(i, i + Math.min(step, raw.length))))
  if (isClosed) decoder.end()
  return { content: text(out), isComplete: decoder.isComplete }
}
const chunked: BodyFraming = { kind: 'chunked' }

describe('response head (RFC 9112 §4, §5)', () => {
  test('parses status, reason, headers; headLength points at the body', () => {
    const raw = 'HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\nhello'
    const result = complete(parseResponseHead(bytes(raw), 'POST'))
    expect(result.head).toMatchObject({ minorVersion: 1, status: 201, statusText: 'Created', framing: { kind: 'length', bytes: 5 } })
    expect(result.head.headers.get('content-type')).toBe('text/plain')
    expect(result.head.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(raw.slice(result.headLength)).toBe('hello')
  })

  test('§4: a missing reason phrase (with or without its SP) is accepted; OWS around values is trimmed', () => {
    expect(head('HTTP/1.1 200\r\nX-A:  v \t\r\n\r\n').statusText).toBe('')
    expect(head('HTTP/1.1 200 \r\n\r\n').statusText).toBe('')
    expect(head('HTTP/1.1 200\r\nX-A:  v \t\r\n\r\n').headers.get('x-a')).toBe('v')
  })

  test('obs-text in values survives byte for byte (Latin-1)', () => {
    expect(head('HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\n\r\n').headers.get('x-name')).toBe('caf\xe9')
  })

  test('every strict prefix is incomplete, byte by byte', () => {
    const raw = bytes('HTTP/1.1 200 OK\r\nA: b\r\n\r\n')
    for (let n = 0; n < raw.length; n++) expect(parseResponseHead(raw.subarray(0, n), 'GET').status).toBe('incomplete')
    expect(parseResponseHead(raw, 'GET').status).toBe('complete')
  })

  test.each([
    ['HTTP/2 200 OK\r\n\r\n', 'malformed status line'],
    ['HTTP/1.2 200 OK\r\n\r\n', 'malformed status line'],
    ['http/1.1 200 OK\r\n\r\n', 'malformed status line'],
    ['HTTP/1.1 20 OK\r\n\r\n', 'malformed status line'],
    ['HTTP/1.1 2000 OK\r\n\r\n', 'malformed status line'],
    ['HTTP/1.1  200 OK\r\n\r\n', 'malformed status line'],
    ['HTTP/1.1 099 Low\r\n\r\n', 'status code 99 is outside 100-599'],
    ['HTTP/1.1 600 High\r\n\r\n', 'status code 600 is outside 100-599'],
    ['HTTP/1.1 200 OK\x00\r\n\r\n', 'malformed status line'],
    ['\r\n\r\n', 'malformed status line'],
    ['HTTP/1.1 200 OK\nA: b\r\n\r\n', 'bare LF in the response head'],
    ['HTTP/1.1 200 OK\r\nA: b\rX\r\n\r\n', 'bare CR in the response head'],
    ['HTTP/1.1 200 OK\n\n', 'bare LF in the response head'],
    ['HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n', 'obsolete line folding'],
    ['HTTP/1.1 200 OK\r\n\tA: b\r\n\r\n', 'obsolete line folding'],
    ['HTTP/1.1 200 OK\r\nA : b\r\n\r\n', 'malformed header field name'],
    ['HTTP/1.1 200 OK\r\nno colon\r\n\r\n', 'malformed header field name'],
    ['HTTP/1.1 200 OK\r\n: empty name\r\n\r\n', 'malformed header field name'],
    ['HTTP/1.1 200 OK\r\nA(b): c\r\n\r\n', 'malformed header field name'],
    ['HTTP/1.1 200 OK\r\nA: b\x00c\r\n\r\n', 'control character in the A field value'],
    ['HTTP/1.1 200 OK\r\nA: b\x7fc\r\n\r\n', 'control character in the A field value'],
    ['HTTP/1.1 200 OK\r\nA: b\x1bc\r\n\r\n', 'control character in the A field value'],
  ])('RFC 9112 §2.2, §4, §5: refuses %j', (raw, reason) => {
    expect(reasonOf(raw)).toBe(reason)
  })

  test('a head larger than 64 KiB is refused, not buffered', () => {
    const filler = `HTTP/1.1 200 OK\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(2000)}`
    expect(filler.length).toBeGreaterThan(MAX_RESPONSE_HEAD_BYTES)
    expect(reasonOf(filler)).toBe('response head larger than 64 KiB')
    expect(reasonOf(filler.slice(0, MAX_RESPONSE_HEAD_BYTES - 1))).toBe('incomplete')
  })
})

describe('framing (RFC 9112 §6.3)', () => {
  test.each([
    ['HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 100 Continue\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { kind: 'length', bytes: 0 }],
    ['GET', 'HTTP/1.1 200 OK\r\nContent-Length: 42, 42\r\nContent-Length: 42\r\n\r\n', { kind: 'length', bytes: 42 }],
    ['GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n', { kind: 'chunked' }],
    ['GET', 'HTTP/1.1 200 OK\r\n\r\n', { kind: 'close' }],
    ['GET', 'HTTP/1.0 200 OK\r\n\r\n', { kind: 'close' }],
  ])('%s %j → %j', (method, raw, framing) => {
    expect(head(raw, method).framing).toEqual(framing as BodyFraming)
  })

  test('§6.3 item 3: Transfer-Encoding wins over Content-Length, which is removed before forwarding', () => {
    const parsed = head('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n')
    expect(parsed.framing).toEqual({ kind: 'chunked' })
    expect(parsed.headers.has('content-length')).toBe(false)
  })

  test.each([
    ['Content-Length: 1, 2', 'invalid Content-Length'],
    ['Content-Length: 1\r\nContent-Length: 2', 'invalid Content-Length'],
    ['Content-Length: -1', 'invalid Content-Length'],
    ['Content-Length: +5', 'invalid Content-Length'],
    ['Content-Length: 0x10', 'invalid Content-Length'],
    ['Content-Length: 1e3', 'invalid Content-Length'],
    ['Content-Length: ', 'invalid Content-Length'],
    ['Content-Length: 1 2', 'invalid Content-Length'],
    ['Content-Length: 9999999999999999', 'invalid Content-Length'],
    ['Transfer-Encoding: gzip, chunked', 'unsupported transfer coding "gzip, chunked"'],
    ['Transfer-Encoding: chunked, chunked', 'unsupported transfer coding "chunked, chunked"'],
    ['Transfer-Encoding: chunked\r\nTransfer-Encoding: identity', 'unsupported transfer coding "chunked, identity"'],
    ['Transfer-Encoding: xchunked', 'unsupported transfer coding "xchunked"'],
    ['Transfer-Encoding: ', 'unsupported transfer coding ""'],
  ])('§6.3 item 5: refuses %j', (field, reason) => {
    expect(reasonOf(`HTTP/1.1 200 OK\r\n${field}\r\n\r\n`)).toBe(reason)
  })

  test('§6.1: Transfer-Encoding in an HTTP/1.0 response is faulty framing', () => {
    expect(reasonOf('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')).toBe('Transfer-Encoding in an HTTP/1.0 response')
  })
})

describe('Content-Length and read-to-close bodies', () => {
  test('Content-Length: stops at the declared length and ignores what follows', () => {
    expect(decode({ kind: 'length', bytes: 5 }, 'helloEXTRA', 3)).toEqual({ content: 'hello', isComplete: true })
    expect(decode({ kind: 'length', bytes: 0 }, 'x')).toEqual({ content: '', isComplete: true })
  })

  test('§8: a close before Content-Length bytes arrived is an incomplete message', () => {
    expect(() => decode({ kind: 'length', bytes: 6 }, 'hello')).toThrow(new Http1ProtocolError('connection closed 1 bytes before the end of the body'))
  })

  test('read-to-close: everything until the close, which completes it', () => {
    expect(decode({ kind: 'close' }, 'a\r\n0\r\n\r\nb', 2)).toEqual({ content: 'a\r\n0\r\n\r\nb', isComplete: true })
    expect(decode({ kind: 'close' }, 'abc', 1, false).isComplete).toBe(false)
  })

  test('decoded chunks are copies: the runtime may reuse the buffer it delivered', () => {
    const decoder = createBodyDecoder({ kind: 'length', bytes: 3 })
    const input = bytes('abc')
    const [chunk] = decoder.push(input)
    input.fill(0)
    expect(text([chunk!])).toBe('abc')
  })
})

describe('chunked (RFC 9112 §7.1)', () => {
  const valid = '5\r\nhello\r\n1;name=value;flag\r\n \r\nA \t;ext\r\n0123456789\r\n0\r\nTrailer-A: 1\r\nTrailer-B: 2\r\n\r\n'

  test.each([1, 2, 3, 7, Infinity])('decodes with extensions and trailers, fed %p bytes at a time', (step) => {
    expect(decode(chunked, valid, step)).toEqual({ content: 'hello 0123456789', isComplete: true })
  })

  test('upper- and lower-case hex, leading zeros; bytes after the last chunk are ignored', () => {
    expect(decode(chunked, '0000a\r\n0123456789\r\nF\r\nabcdefghijklmno\r\n0\r\n\r\nGET / HTTP/1.1\r\n')).toEqual({ content: '0123456789abcdefghijklmno', isComplete: true })
  })

  test('chunk data may contain CRLF and "0\\r\\n\\r\\n" (only the size counts)', () => {
    expect(decode(chunked, '7\r\n0\r\n\r\nab\r\n0\r\n\r\n').content).toBe('0\r\n\r\nab')
  })

  test.each([
    ['non-hex size', 'g\r\nx\r\n0\r\n\r\n', 'malformed chunk-size line'],
    ['empty size', '\r\nx\r\n0\r\n\r\n', 'malformed chunk-size line'],
    ['negative size', '-1\r\nx\r\n0\r\n\r\n', 'malformed chunk-size line'],
    ['0x prefix', '0x5\r\nhello\r\n0\r\n\r\n', 'malformed chunk-size line'],
    ['leading space', ' 5\r\nhello\r\n0\r\n\r\n', 'malformed chunk-size line'],
    ['size with garbage after it', '5 x\r\nhello\r\n0\r\n\r\n', 'malformed chunk-size line'],
    ['overflowing size', 'fffffffffffffffff\r\n', 'chunk size too large'],
    ['2^52 + 1 hex digits', '10000000000000\r\n', 'chunk size too large'],
    ['bare LF after the size', '5\nhello\r\n0\r\n\r\n', 'bare LF in a chunk-size line'],
    ['bare CR after the size', '5\rhello\r\n0\r\n\r\n', 'bare CR in a chunk-size line'],
    ['data longer than its size', '3\r\nhello\r\n0\r\n\r\n', 'chunk data not followed by CRLF'],
    ['LF only after data', '5\r\nhello\n0\r\n\r\n', 'chunk data not followed by CRLF'],
    ['CR only after data', '5\r\nhello\r0\r\n\r\n', 'chunk data not followed by CRLF'],
    ['control character in an extension', '5;a=\x00\r\nhello\r\n0\r\n\r\n', 'malformed chunk-size line'],
    ['trailer without a colon', '0\r\nnot a field\r\n\r\n', 'malformed trailer field'],
    ['folded trailer', '0\r\nA: b\r\n c\r\n\r\n', 'malformed trailer field'],
    ['bare LF ending the trailers', '0\r\n\n', 'bare LF in a trailer line'],
  ])('refuses %s', (_name, body, reason) => {
    expect(() => decode(chunked, body)).toThrow(new Http1ProtocolError(reason))
    expect(() => decode(chunked, body, 1)).toThrow(new Http1ProtocolError(reason))
  })

  test('an extension flood is cut off at the line limit, not buffered', () => {
    const flood = `1;${'a'.repeat(MAX_CHUNK_LINE_BYTES)}`
    expect(() => decode(chunked, flood, 512, false)).toThrow(new Http1ProtocolError(`chunk-size line longer than ${MAX_CHUNK_LINE_BYTES} bytes`))
  })

  test('a trailer flood is cut off at the trailer limit', () => {
    const flood = `0\r\n${'X-T: v\r\n'.repeat(MAX_TRAILER_BYTES / 8 + 1)}`
    expect(() => decode(chunked, flood, 1000, false)).toThrow(new Http1ProtocolError(`trailer section longer than ${MAX_TRAILER_BYTES} bytes`))
  })

  test.each([
    ['in a size line', '5'],
    ['inside chunk data', '5\r\nhel'],
    ['before the CRLF after data', '5\r\nhello'],
    ['before the last chunk', '5\r\nhello\r\n'],
    ['inside the trailers', '0\r\nA: b\r\n'],
  ])('a close %s is an incomplete message', (_where, body) => {
    expect(() => decode(chunked, body)).toThrow(new Http1ProtocolError('connection closed before the last chunk'))
  })

  test('a large body in 64 KiB chunks decodes to the same bytes', () => {
    const piece = 'x'.repeat(65_536)
    const body = `${'10000\r\n'}${piece}\r\n`.repeat(48) + '0\r\n\r\n'
    const decoded = decode(chunked, body, 16_384)
    expect(decoded.isComplete).toBe(true)
    expect(decoded.content.length).toBe(48 * 65_536)
  })
})
