/**
 * The relay's response-head parser (RFC 9112 §4–§6, RFC 9110 §6.6.1, §7.6.1): it refuses what the raw
 * forwarder's parser refuses (each refusal is a 502), and passes a backend's head on byte for byte
 * (`lines === null`) only when nothing in it has to change. Otherwise the head the client gets is HTTP/1.1,
 * without hop-by-hop fields or fields the proxy sets, with a Date, and with its framing stated exactly
 * once — the framing the relay itself counts the body by, since the body bytes go out unchanged. These
 * tests read the rewritten head back with the strict parser of http1-response.ts to check that.
 */
import { describe, expect, test } from 'bun:test'
import { parseResponseHead, type BodyFraming } from '../../src/proxy/http1-response.ts'
import { MAX_RELAY_RESPONSE_HEAD_BYTES, parseResponseHeadForRelay, type ResponseHeadResult, type ResponseHeaderRules } from '../../src/proxy/relay/response-head.ts'

const NO_RULES: ResponseHeaderRules = { setNames: new Set(), setLines: '', entries: [] }
const SECURITY_RULES: ResponseHeaderRules = {
  setNames: new Set(['x-frame-options', 'strict-transport-security']),
  setLines: 'x-frame-options: DENY\r\nstrict-transport-security: max-age=63072000\r\n',
  entries: [
    ['x-frame-options', 'DENY'],
    ['strict-transport-security', 'max-age=63072000'],
  ],
}
/** A fixed backend Date, so heads that keep it compare exactly. */
const DATE = 'Date: Sun, 06 Nov 1994 08:49:37 GMT'
/** RFC 9110 §5.6.7 IMF-fixdate. */
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$/

const bytes = (text: string) => Buffer.from(text, 'latin1')
/** A response head: the status line, these field lines, the empty line. */
const response = (statusLine: string, ...fieldLines: string[]) => `${statusLine}\r\n${fieldLines.map((line) => `${line}\r\n`).join('')}\r\n`
const parse = (raw: string, method = 'GET', rules = NO_RULES) => parseResponseHeadForRelay(bytes(raw), method, rules)

function complete(result: ResponseHeadResult) {
  if (result.status !== 'complete') throw new Error(`expected complete, got ${JSON.stringify(result)}`)
  return result.head
}
const headOf = (raw: string, method = 'GET', rules = NO_RULES) => complete(parse(raw, method, rules))
const linesOf = (raw: string, method = 'GET', rules = NO_RULES) => headOf(raw, method, rules).lines
const reasonOf = (raw: string) => {
  const result = parse(raw)
  return result.status === 'invalid' ? result.reason : result.status
}
/** The head the client gets: `lines` and the empty line the relay ends it with. */
const clientHead = (lines: string) => `${lines}\r\n`
/** What the relay writes before that empty line: its `lines`, or the backend's own head when they are null. */
const sentLines = (raw: string, head: { readonly lines: string | null; readonly headLength: number }) => head.lines ?? raw.slice(0, head.headLength - 2)
/** A complete head of exactly `length` bytes (the empty line included), padded in one X-Pad field. */
function headOfLength(length: number): string {
  const bare = response('HTTP/1.1 200 OK', DATE, 'Content-Length: 0', 'X-Pad: ')
  return response('HTTP/1.1 200 OK', DATE, 'Content-Length: 0', `X-Pad: ${'a'.repeat(length - bare.length)}`)
}

describe('incomplete', () => {
  test('every strict prefix of a complete head is incomplete, byte by byte; the whole is complete', () => {
    const raw = response('HTTP/1.1 200 OK', DATE, 'Content-Length: 2')
    for (let n = 0; n < raw.length; n++) expect(parse(raw.slice(0, n)).status).toBe('incomplete')
    expect(parse(raw).status).toBe('complete')
  })
})

describe('invalid: the client gets a 502 (RFC 9112 §6.3 item 5)', () => {
  test.each([
    ['HTTP/2 200 OK\r\n\r\n', 'malformed response head'],
    ['HTTP/1.2 200 OK\r\n\r\n', 'malformed response head'],
    ['http/1.1 200 OK\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 20 OK\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 2000 OK\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1  200 OK\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200OK\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 600 High\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 099 Low\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 000 Zero\r\n\r\n', 'malformed response head'],
    ['\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\x00\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\r\nA: b\x00c\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\r\nA: b\x7fc\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\nA: b\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\r\nA: b\rX\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\r\nA: b\r\n\tfolded\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\r\nA : b\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\r\nno colon\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\r\n: empty name\r\n\r\n', 'malformed response head'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'invalid Content-Length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n', 'invalid Content-Length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'invalid Content-Length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n', 'invalid Content-Length'],
    ['HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'Transfer-Encoding in an HTTP/1.0 response'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 'unsupported transfer coding "gzip, chunked"'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n', 'unsupported transfer coding "chunked, identity"'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\n', 'unsupported transfer coding "identity"'],
  ])('RFC 9112 §2.2, §4, §5, §6.1, §6.3: refuses %j', (raw, reason) => {
    expect(reasonOf(raw)).toBe(reason)
  })

  test('a head of bare LFs is refused at once, not waited on until the backend times out (RFC 9112 §2.2)', () => {
    // The raw forwarder's parser says "bare LF in the response head" for these; no CRLFCRLF will ever come.
    expect(parse('HTTP/1.1 200 OK\nContent-Length: 0\n\n').status).toBe('invalid')
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n').status).toBe('invalid')
  })

  test('a head larger than 64 KiB is refused, whole or while still arriving', () => {
    const raw = headOfLength(MAX_RELAY_RESPONSE_HEAD_BYTES + 100)
    expect(reasonOf(raw)).toBe('response head larger than 64 KiB')
    expect(reasonOf(raw.slice(0, MAX_RELAY_RESPONSE_HEAD_BYTES + 1))).toBe('response head larger than 64 KiB')
    expect(reasonOf(raw.slice(0, MAX_RELAY_RESPONSE_HEAD_BYTES - 1))).toBe('incomplete')
    expect(headOf(headOfLength(MAX_RELAY_RESPONSE_HEAD_BYTES)).headLength).toBe(MAX_RELAY_RESPONSE_HEAD_BYTES)
  })

  test('at the limit, the verdict does not depend on how the bytes were split into reads', () => {
    // A head relayed when it arrives whole must not become a 502 when only part of it has come.
    for (let length = MAX_RELAY_RESPONSE_HEAD_BYTES - 2; length <= MAX_RELAY_RESPONSE_HEAD_BYTES + 6; length++) {
      const raw = headOfLength(length)
      if (parse(raw).status !== 'complete') continue
      for (let prefix = length - 8; prefix < length; prefix++) {
        expect({ length, prefix, status: parse(raw.slice(0, prefix)).status }).toEqual({ length, prefix, status: 'incomplete' })
      }
    }
  })
})

describe('framing (RFC 9112 §6.3) and headLength', () => {
  test.each([
    ['HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { kind: 'none' }],
    ['HEAD', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 100 Continue\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { kind: 'length', bytes: 0 }],
    ['POST', 'HTTP/1.1 201 Created\r\ncontent-length: 42, 42\r\nContent-Length: 42\r\n\r\n', { kind: 'length', bytes: 42 }],
    ['GET', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n', { kind: 'chunked' }],
    ['GET', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', { kind: 'chunked' }],
    ['GET', 'HTTP/1.1 200 OK\r\n\r\n', { kind: 'close' }],
    ['GET', 'HTTP/1.0 200 OK\r\n\r\n', { kind: 'close' }],
  ])('%s %j → %j', (method, raw, framing) => {
    expect(headOf(raw, method).framing).toEqual(framing as BodyFraming)
  })

  test('status is the code; headLength counts the bytes up to and including the empty line', () => {
    const raw = response('HTTP/1.1 404 Not Found', DATE, 'Content-Length: 4')
    const head = headOf(`${raw}nopeHTTP/1.1 200 OK\r\n`)
    expect(head.status).toBe(404)
    expect(head.headLength).toBe(raw.length)
  })
})

describe('backendCloses: the backend connection cannot be reused (RFC 9112 §9.3, §9.6)', () => {
  test.each([
    ['HTTP/1.1 with Content-Length', response('HTTP/1.1 200 OK', 'Content-Length: 2'), false],
    ['HTTP/1.1 chunked', response('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'), false],
    ['HTTP/1.1 204', response('HTTP/1.1 204 No Content'), false],
    ['HTTP/1.1 read to close', response('HTTP/1.1 200 OK'), true],
    ['HTTP/1.1 with Connection: close', response('HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 2'), true],
    ['HTTP/1.1 with Connection: keep-alive, Close', response('HTTP/1.1 200 OK', 'connection: keep-alive, Close', 'Content-Length: 2'), true],
    ['HTTP/1.1 with close on a second Connection line', response('HTTP/1.1 200 OK', 'Connection: keep-alive', 'Connection: close', 'Content-Length: 2'), true],
    ['HTTP/1.0 with Content-Length, no keep-alive', response('HTTP/1.0 200 OK', 'Content-Length: 2'), true],
    ['HTTP/1.0 with Content-Length and Connection: keep-alive', response('HTTP/1.0 200 OK', 'Connection: Keep-Alive', 'Content-Length: 2'), false],
    ['HTTP/1.0 with keep-alive but read to close', response('HTTP/1.0 200 OK', 'Connection: keep-alive'), true],
  ])('%s → %p', (_name, raw, backendCloses) => {
    expect(headOf(raw).backendCloses).toBe(backendCloses)
  })
})

describe('lines === null: the backend’s head goes out byte for byte', () => {
  test('HTTP/1.1 with a Date, no hop-by-hop field, no proxy-set field and no rules', () => {
    expect(linesOf(response('HTTP/1.1 200 OK', 'Content-Type: text/plain', DATE, 'Content-Length: 2', 'X-Odd: caf\xe9'))).toBeNull()
    expect(linesOf(response('HTTP/1.1 304 Not Modified', DATE, 'ETag: "x"'))).toBeNull()
    expect(linesOf(response('HTTP/1.1 200 OK', 'date: Sun, 06 Nov 1994 08:49:37 GMT'))).toBeNull()
  })

  test.each([
    ['HTTP/1.0', response('HTTP/1.0 200 OK', DATE, 'Connection: keep-alive', 'Content-Length: 2'), NO_RULES],
    ['HTTP/1.0 without any hop-by-hop field', response('HTTP/1.0 200 OK', DATE, 'Content-Length: 2'), NO_RULES],
    ['no Date', response('HTTP/1.1 200 OK', 'Content-Length: 2'), NO_RULES],
    ['Connection', response('HTTP/1.1 200 OK', DATE, 'Connection: keep-alive', 'Content-Length: 2'), NO_RULES],
    ['Keep-Alive', response('HTTP/1.1 200 OK', DATE, 'Keep-Alive: timeout=5', 'Content-Length: 2'), NO_RULES],
    ['Proxy-Connection', response('HTTP/1.1 200 OK', DATE, 'Proxy-Connection: keep-alive', 'Content-Length: 2'), NO_RULES],
    ['Proxy-Authenticate', response('HTTP/1.1 407 Proxy Authentication Required', DATE, 'Proxy-Authenticate: Basic', 'Content-Length: 2'), NO_RULES],
    ['Trailer', response('HTTP/1.1 200 OK', DATE, 'Trailer: X-T', 'Content-Length: 2'), NO_RULES],
    ['Upgrade', response('HTTP/1.1 200 OK', DATE, 'Upgrade: h2c', 'Content-Length: 2'), NO_RULES],
    ['TE', response('HTTP/1.1 200 OK', DATE, 'TE: trailers', 'Content-Length: 2'), NO_RULES],
    ['Transfer-Encoding: chunked', response('HTTP/1.1 200 OK', DATE, 'Transfer-Encoding: chunked'), NO_RULES],
    ['chunked with Content-Length', response('HTTP/1.1 200 OK', DATE, 'Content-Length: 3', 'Transfer-Encoding: chunked'), NO_RULES],
    ['a field the rules set', response('HTTP/1.1 200 OK', DATE, 'X-Frame-Options: SAMEORIGIN', 'Content-Length: 2'), SECURITY_RULES],
    ['rules that add fields', response('HTTP/1.1 200 OK', DATE, 'Content-Length: 2'), SECURITY_RULES],
  ])('rewritten when the backend sent %s', (_name, raw, rules) => {
    expect(linesOf(raw, 'GET', rules)).not.toBeNull()
  })
})

describe('lines: the head the client gets when it must change', () => {
  test('the status line, the kept fields as sent and in order, then the additions, every line ending in CRLF', () => {
    const raw = response('HTTP/1.1 200 OK', 'Content-Type: text/plain', DATE, 'Connection: keep-alive', 'X-Frame-Options: SAMEORIGIN', 'Set-Cookie: a=1', 'Content-Length: 2', 'Set-Cookie: b=2')
    expect(linesOf(raw, 'GET', SECURITY_RULES)).toBe(
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' +
        `${DATE}\r\nSet-Cookie: a=1\r\nContent-Length: 2\r\nSet-Cookie: b=2\r\n` +
        'x-frame-options: DENY\r\nstrict-transport-security: max-age=63072000\r\n',
    )
  })

  test('HTTP/1.0 is rewritten to HTTP/1.1 with the same code and reason (RFC 9110 §6.2)', () => {
    expect(linesOf(response('HTTP/1.0 203 Non-Authoritative Information', DATE, 'Connection: keep-alive', 'Content-Length: 2'))).toBe(
      `HTTP/1.1 203 Non-Authoritative Information\r\n${DATE}\r\nContent-Length: 2\r\n`,
    )
    expect(linesOf(response('HTTP/1.0 404', DATE))).toBe(`HTTP/1.1 404\r\n${DATE}\r\n`)
    expect(linesOf(response('HTTP/1.0 200 \xc7a va', DATE))).toBe(`HTTP/1.1 200 \xc7a va\r\n${DATE}\r\n`)
  })

  test('RFC 9110 §7.6.1: Connection, Keep-Alive and the fields named in Connection are dropped, from any line and case', () => {
    const raw = response('HTTP/1.1 200 OK', DATE, 'Connection: X-Private', 'x-private: 1', 'A: 1', 'Keep-Alive: timeout=5', 'connection: X-OTHER, close', 'X-Other: 2', 'X-Privately: 3', 'Content-Length: 2')
    expect(linesOf(raw)).toBe(`HTTP/1.1 200 OK\r\n${DATE}\r\nA: 1\r\nX-Privately: 3\r\nContent-Length: 2\r\n`)
  })

  test('every hop-by-hop field is dropped, first, between or last', () => {
    const hopByHop = ['Connection: keep-alive', 'Keep-Alive: timeout=5', 'Proxy-Connection: keep-alive', 'TE: trailers', 'Trailer: X-T', 'Upgrade: h2c', 'Proxy-Authenticate: Basic', 'Proxy-Authorization: Basic eDp5']
    for (const line of hopByHop) {
      for (const fields of [[line, DATE, 'A: 1'], [DATE, line, 'A: 1'], [DATE, 'A: 1', line]]) {
        expect({ line, lines: linesOf(response('HTTP/1.1 200 OK', ...fields)) }).toEqual({ line, lines: `HTTP/1.1 200 OK\r\n${DATE}\r\nA: 1\r\n` })
      }
    }
  })

  test('a field the rules set replaces the backend’s, whatever its case (one value only)', () => {
    const raw = response('HTTP/1.1 200 OK', 'x-FRAME-options: SAMEORIGIN', DATE, 'Strict-Transport-Security: max-age=0', 'X-Frame-Options: ALLOW-FROM x', 'Content-Length: 0')
    const lines = linesOf(raw, 'GET', SECURITY_RULES)!
    expect(lines).toBe(`HTTP/1.1 200 OK\r\n${DATE}\r\nContent-Length: 0\r\n${SECURITY_RULES.setLines}`)
  })

  test('chunked: Transfer-Encoding stated once as "chunked" at the end; a Content-Length is removed (RFC 9112 §6.3 item 3)', () => {
    const raw = response('HTTP/1.1 200 OK', DATE, 'Content-Length: 3', 'Transfer-Encoding: Chunked', 'X-A: 1', 'content-length: 3')
    expect(linesOf(raw)).toBe(`HTTP/1.1 200 OK\r\n${DATE}\r\nX-A: 1\r\ntransfer-encoding: chunked\r\n`)
  })

  test('a Content-Length dropped twice (chunked, and set by the rules) is left out once, the rest kept', () => {
    const rules = { setNames: new Set(['content-length']), setLines: 'x-set: 1\r\n', entries: [] }
    const raw = response('HTTP/1.1 200 OK', DATE, 'A: 1', 'Content-Length: 3', 'Transfer-Encoding: chunked', 'B: 2')
    expect(linesOf(raw, 'GET', rules)).toBe(`HTTP/1.1 200 OK\r\n${DATE}\r\nA: 1\r\nB: 2\r\ntransfer-encoding: chunked\r\nx-set: 1\r\n`)
  })

  test('RFC 9110 §6.6.1: a Date is added when missing, as an IMF-fixdate (§5.6.7) of the current second', () => {
    const before = Math.floor(Date.now() / 1000) * 1000
    const lines = linesOf(response('HTTP/1.1 200 OK', 'Content-Length: 2'), 'GET', SECURITY_RULES)!
    const after = Date.now()
    const match = /^HTTP\/1\.1 200 OK\r\nContent-Length: 2\r\ndate: ([^\r\n]*)\r\n(.*)$/s.exec(lines)
    expect(match).not.toBeNull()
    const [, date, rest] = match!
    expect(date).toMatch(IMF_FIXDATE)
    expect(Date.parse(date!)).toBeGreaterThanOrEqual(before)
    expect(Date.parse(date!)).toBeLessThanOrEqual(after)
    expect(rest).toBe(SECURITY_RULES.setLines)
  })

  test('the added Date, with chunked framing, comes after transfer-encoding and before the rules', () => {
    const lines = linesOf(response('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'), 'GET', SECURITY_RULES)!
    const fields = lines.split('\r\n').slice(1, -1)
    expect(fields.map((field) => field.slice(0, field.indexOf(':')))).toEqual(['transfer-encoding', 'date', 'x-frame-options', 'strict-transport-security'])
    expect(fields[1]!.slice('date: '.length)).toMatch(IMF_FIXDATE)
  })

  test('obs-text in kept fields goes out as the same Latin-1 characters', () => {
    expect(linesOf(response('HTTP/1.1 200 OK', 'X-Name: caf\xe9\xa0', 'Connection: close', DATE))).toBe(`HTTP/1.1 200 OK\r\nX-Name: caf\xe9\xa0\r\n${DATE}\r\n`)
  })
})

describe('the rewritten head frames the body as the relay counts it (RFC 9112 §6.3)', () => {
  /** Reads `lines` back with the raw forwarder's strict parser, as a client would. */
  const asClientSees = (lines: string, method: string) => {
    const result = parseResponseHead(bytes(clientHead(lines)), method)
    if (result.status !== 'complete') throw new Error(`the client could not read ${JSON.stringify(lines)}: ${JSON.stringify(result)}`)
    return result
  }

  test.each([
    ['GET', response('HTTP/1.1 200 OK', 'Content-Length: 2')],
    ['GET', response('HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 2')],
    ['GET', response('HTTP/1.0 200 OK', 'Connection: keep-alive', 'Content-Length: 2')],
    ['GET', response('HTTP/1.0 200 OK')],
    ['GET', response('HTTP/1.1 200 OK', 'Keep-Alive: timeout=5')],
    ['GET', response('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked')],
    ['GET', response('HTTP/1.1 200 OK', 'Content-Length: 3', 'Transfer-Encoding: chunked', 'Content-Length: 3')],
    ['GET', response('HTTP/1.1 200 OK', 'Connection: X-A', 'X-A: 1', 'Content-Length: 2')],
    ['GET', response('HTTP/1.1 204 No Content', 'Connection: keep-alive')],
    ['GET', response('HTTP/1.1 103 Early Hints', 'Link: </a.css>; rel=preload')],
    ['HEAD', response('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked')],
  ])('%s %j', (method, raw) => {
    const relayed = headOf(raw, method, SECURITY_RULES)
    const seen = asClientSees(sentLines(raw, relayed), method)
    expect(seen.head.framing).toEqual(relayed.framing)
    expect(seen.head.minorVersion).toBe(1)
    expect(seen.head.status).toBe(relayed.status)
    expect(seen.head.headers.get('x-frame-options')).toBe('DENY')
    expect(seen.head.headers.get('date')).toMatch(IMF_FIXDATE)
    for (const name of ['connection', 'keep-alive', 'x-a']) expect(seen.head.headers.has(name)).toBe(false)
    // The head ends where the relay ends it, and the client reads no field twice.
    expect(seen.headLength).toBe(clientHead(sentLines(raw, relayed)).length)
  })

  test('a Content-Length named in Connection still frames the body the relay passes on', () => {
    // Without it the client would read to the close, and take the next response on a kept-alive connection as body.
    const raw = response('HTTP/1.1 200 OK', DATE, 'Connection: Content-Length', 'Content-Length: 5')
    const relayed = headOf(raw)
    expect(relayed.framing).toEqual({ kind: 'length', bytes: 5 })
    expect(asClientSees(sentLines(raw, relayed), 'GET').head.framing).toEqual(relayed.framing)
  })
})
