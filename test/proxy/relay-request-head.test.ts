/**
 * The relay's request-head parser (RFC 9112 §2–§6, RFC 9110 §7): it takes only the plain case — an
 * HTTP/1.1 origin-form request with one valid Host, no Upgrade, and body framing that cannot be read two
 * ways — and calls everything else "unsupported" so the full server answers it. For what it takes, these
 * tests prove what reaches the backend: the client's own field lines, byte for byte and in order, without
 * Host, hop-by-hop fields (RFC 9110 §7.6.1), identity and forwarding fields, or the proxy's own headers;
 * and exactly where the head ends, so the body and any pipelined request (RFC 9112 §9.3.2) are untouched.
 */
import { describe, expect, test } from 'bun:test'
import { MAX_RELAY_HEAD_BYTES, parseRequestHead, type RequestHeadResult } from '../../src/proxy/relay/request-head.ts'

const NO_DROPS: ReadonlySet<string> = new Set()
const bytes = (text: string) => Buffer.from(text, 'latin1')
/** A GET head with these field lines, ending in the empty line. */
const request = (...fieldLines: string[]) => `GET /path?q=1 HTTP/1.1\r\n${fieldLines.map((line) => `${line}\r\n`).join('')}\r\n`
const parse = (text: string, dropNames = NO_DROPS) => parseRequestHead(bytes(text), dropNames)
const statusOf = (text: string, dropNames = NO_DROPS) => parse(text, dropNames).status

function complete(result: RequestHeadResult) {
  if (result.status !== 'complete') throw new Error(`expected complete, got ${JSON.stringify(result)}`)
  return result.head
}
const headOf = (text: string, dropNames = NO_DROPS) => complete(parse(text, dropNames))
const keptOf = (text: string, dropNames = NO_DROPS) => headOf(text, dropNames).keptFields

/** A complete head of exactly `length` bytes (the empty line included), padded in one X-Pad field. */
function headOfLength(length: number): string {
  const bare = request('Host: pad.test', 'X-Pad: ')
  if (length < bare.length) throw new Error(`a head cannot be shorter than ${bare.length} bytes`)
  return request('Host: pad.test', `X-Pad: ${'a'.repeat(length - bare.length)}`)
}

describe('incomplete: the head ends at the first empty line (RFC 9112 §2.1)', () => {
  test('every strict prefix of a complete head is incomplete, byte by byte; the whole is complete', () => {
    const raw = request('Host: a.test', 'Accept: */*')
    for (let n = 0; n < raw.length; n++) expect(statusOf(raw.slice(0, n))).toBe('incomplete')
    expect(statusOf(raw)).toBe('complete')
  })

  test('a head whose field lines have all arrived but not the empty line is still incomplete', () => {
    expect(statusOf('GET / HTTP/1.1\r\nHost: a.test\r\n')).toBe('incomplete')
    expect(statusOf('GET / HTTP/1.1\r\nHost: a.test\r\n\r')).toBe('incomplete')
  })
})

describe('unsupported: the full server answers these (serves them, or refuses them with 400)', () => {
  test.each([
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a.test\r\n\r\n'],
    ['the HTTP/2 connection preface (RFC 9113 §3.4)', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['a lower-case version (RFC 9112 §2.3: HTTP-name is case-sensitive)', 'GET / http/1.1\r\nHost: a.test\r\n\r\n'],
    ['absolute-form (RFC 9112 §3.2.2)', 'GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n'],
    ['asterisk-form (RFC 9112 §3.2.4)', 'OPTIONS * HTTP/1.1\r\nHost: a.test\r\n\r\n'],
    ['authority-form, as CONNECT sends it (RFC 9112 §3.2.3)', 'CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n'],
    ['two spaces after the method', 'GET  / HTTP/1.1\r\nHost: a.test\r\n\r\n'],
    ['a request-target with a space in it', 'GET /a b HTTP/1.1\r\nHost: a.test\r\n\r\n'],
    ['an Upgrade to WebSocket (RFC 9110 §7.8)', request('Host: a.test', 'Connection: Upgrade', 'Upgrade: websocket')],
    ['an Upgrade to h2c, lower-case, without Connection', request('Host: a.test', 'upgrade: h2c')],
    ['two identical Host fields (RFC 9112 §3.2)', request('Host: a.test', 'Host: a.test')],
    ['two Host fields spelled differently', request('Host: a.test', 'HOST: b.test')],
    ['no Host field (RFC 9112 §3.2)', request('Accept: */*')],
    ['no field lines at all', 'GET / HTTP/1.1\r\n\r\n'],
    ['Content-Length and Transfer-Encoding together (RFC 9112 §6.3 item 3)', request('Host: a.test', 'Content-Length: 5', 'Transfer-Encoding: chunked')],
    ['Transfer-Encoding and Content-Length together, the other way round', request('Host: a.test', 'Transfer-Encoding: chunked', 'Content-Length: 5')],
    ['Transfer-Encoding: gzip, chunked', request('Host: a.test', 'Transfer-Encoding: gzip, chunked')],
    ['Transfer-Encoding: chunked, chunked', request('Host: a.test', 'Transfer-Encoding: chunked, chunked')],
    ['Transfer-Encoding: identity', request('Host: a.test', 'Transfer-Encoding: identity')],
    ['Transfer-Encoding: xchunked', request('Host: a.test', 'Transfer-Encoding: xchunked')],
    ['an empty Transfer-Encoding', request('Host: a.test', 'Transfer-Encoding:')],
    ['two Transfer-Encoding: chunked lines', request('Host: a.test', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked')],
    ['two identical Content-Length fields (RFC 9110 §8.6)', request('Host: a.test', 'Content-Length: 5', 'Content-Length: 5')],
    ['two different Content-Length fields', request('Host: a.test', 'Content-Length: 5', 'content-length: 6')],
    ['a Content-Length list', request('Host: a.test', 'Content-Length: 5, 5')],
    ['a negative Content-Length', request('Host: a.test', 'Content-Length: -1')],
    ['a signed Content-Length', request('Host: a.test', 'Content-Length: +5')],
    ['a hexadecimal Content-Length', request('Host: a.test', 'Content-Length: 0x10')],
    ['an exponent Content-Length', request('Host: a.test', 'Content-Length: 1e3')],
    ['an empty Content-Length', request('Host: a.test', 'Content-Length:')],
    ['a Content-Length with a space inside', request('Host: a.test', 'Content-Length: 1 2')],
    ['a 16-digit Content-Length', request('Host: a.test', `Content-Length: ${'9'.repeat(16)}`)],
    ['obs-fold with a space (RFC 9112 §5.2)', request('Host: a.test', 'X-A: b', ' folded')],
    ['obs-fold with a tab', request('Host: a.test', 'X-A: b', '\tfolded')],
    ['whitespace between a field name and its colon (RFC 9112 §5.1)', request('Host : a.test')],
    ['a tab between a field name and its colon', request('Host: a.test', 'X-A\t: b')],
    ['a field line without a colon', request('Host: a.test', 'no colon here')],
    ['an empty field name', request('Host: a.test', ': value')],
    ['a NUL in a field value', request('Host: a.test', 'X-A: b\x00c')],
    ['a NUL in the request-target', 'GET /a\x00b HTTP/1.1\r\nHost: a.test\r\n\r\n'],
    ['a DEL in a field value', request('Host: a.test', 'X-A: b\x7fc')],
    ['an ESC in a field value', request('Host: a.test', 'X-A: b\x1bc')],
    ['a bare CR in a field value (RFC 9112 §2.2)', request('Host: a.test', 'X-A: b\rc')],
    ['a bare LF between two field lines', 'GET / HTTP/1.1\r\nHost: a.test\nX-A: b\r\n\r\n'],
    ['a bare LF after the request line', 'GET / HTTP/1.1\nHost: a.test\r\n\r\n'],
    ['an empty line before the request line (RFC 9112 §2.2)', `\r\n${request('Host: a.test')}`],
  ])('%s', (_name, raw) => {
    expect(statusOf(raw)).toBe('unsupported')
  })

  test.each([
    ['an empty Host', 'Host:'],
    ['a blank Host', 'Host:   '],
    ['a Host with a space inside', 'Host: a b'],
    ['userinfo in Host (RFC 9110 §4.2.4)', 'Host: user@a.test'],
    ['a path in Host', 'Host: a.test/x'],
    ['a non-numeric port', 'Host: a.test:http'],
    ['a six-digit port', 'Host: a.test:123456'],
    ['an unclosed IPv6 literal', 'Host: [::1'],
    ['an IPv6 literal without brackets and a port', 'Host: ::1:80'],
    ['a comma-separated Host list', 'Host: a.test,b.test'],
    ['a quoted Host', 'Host: "a.test"'],
  ])('an invalid Host value (RFC 9110 §7.2): %s', (_name, hostLine) => {
    expect(statusOf(request(hostLine))).toBe('unsupported')
  })

  test('bare LFs ending every line: the head is handed on, not waited for forever (RFC 9112 §2.2)', () => {
    // No CRLFCRLF ever comes from such a client; the edge before the relay accepts this head, so waiting
    // for more would leave the client without an answer until the connection times out.
    expect(statusOf('GET / HTTP/1.1\nHost: a.test\n\n')).toBe('unsupported')
    expect(statusOf('GET / HTTP/1.1\r\nHost: a.test\r\n\n')).toBe('unsupported')
  })
})

describe('the size limit: larger heads go to the full server, which answers 431', () => {
  test(`a head of exactly MAX_RELAY_HEAD_BYTES (${MAX_RELAY_HEAD_BYTES}) bytes, empty line included, is relayed`, () => {
    const raw = headOfLength(MAX_RELAY_HEAD_BYTES)
    expect(raw.length).toBe(MAX_RELAY_HEAD_BYTES)
    expect(headOf(raw).headLength).toBe(MAX_RELAY_HEAD_BYTES)
  })

  test('a larger head is unsupported, whole or while its first bytes are still arriving', () => {
    const raw = headOfLength(MAX_RELAY_HEAD_BYTES + 100)
    expect(statusOf(raw)).toBe('unsupported')
    expect(statusOf(raw.slice(0, MAX_RELAY_HEAD_BYTES))).toBe('unsupported')
    // A prefix one byte short of the limit may still end as a head that fits; at the limit without its end, it cannot.
    expect(statusOf(raw.slice(0, MAX_RELAY_HEAD_BYTES - 1))).toBe('incomplete')
  })

  test('at the limit, the verdict does not depend on how the bytes were split into reads', () => {
    // A head the parser relays when it arrives whole must not be refused when only part of it has come.
    for (let length = MAX_RELAY_HEAD_BYTES - 2; length <= MAX_RELAY_HEAD_BYTES + 6; length++) {
      const raw = headOfLength(length)
      if (statusOf(raw) !== 'complete') continue
      for (let prefix = length - 8; prefix < length; prefix++) {
        expect({ length, prefix, status: statusOf(raw.slice(0, prefix)) }).toEqual({ length, prefix, status: 'incomplete' })
      }
    }
  })
})

describe('request line and Host (RFC 9112 §3, RFC 9110 §7.2)', () => {
  test('method and origin-form target as sent, query included', () => {
    const head = headOf('DELETE /a/b?c=d&e=%20 HTTP/1.1\r\nHost: a.test\r\n\r\n')
    expect(head.method).toBe('DELETE')
    expect(head.target).toBe('/a/b?c=d&e=%20')
  })

  test.each([
    ['a.test', 'a.test', 'a.test'],
    ['Example.COM:8443', 'Example.COM:8443', 'example.com'],
    ['  spaced.test \t', 'spaced.test', 'spaced.test'],
    ['127.0.0.1:80', '127.0.0.1:80', '127.0.0.1'],
    ['[::1]:8443', '[::1]:8443', '[::1]'],
    ['[2001:DB8::1]', '[2001:DB8::1]', '[2001:db8::1]'],
    ['[::ffff:192.0.2.1]:80', '[::ffff:192.0.2.1]:80', '[::ffff:192.0.2.1]'],
    ['Example.com.', 'Example.com.', 'example.com'],
    ['example.com.:8080', 'example.com.:8080', 'example.com'],
  ])('Host %j: host %j (as sent, without OWS), hostname %j (lower-cased, no port, no trailing dot)', (value, host, hostname) => {
    const head = headOf(request(`hOsT:${value}`))
    expect(head.host).toBe(host)
    expect(head.hostname).toBe(hostname)
  })
})

describe('body framing (RFC 9112 §6.3 items 3–7)', () => {
  test.each([
    ['no framing field', [], { kind: 'none' }],
    ['Content-Length: 0', ['Content-Length: 0'], { kind: 'none' }],
    ['Content-Length: 42, with OWS around it', ['content-length: \t42 '], { kind: 'length', bytes: 42 }],
    ['a 15-digit Content-Length', [`Content-Length: ${'9'.repeat(15)}`], { kind: 'length', bytes: 999_999_999_999_999 }],
    ['Transfer-Encoding: chunked', ['Transfer-Encoding: chunked'], { kind: 'chunked' }],
    ['Transfer-Encoding: Chunked (coding names are case-insensitive, §7)', ['transfer-encoding:  Chunked '], { kind: 'chunked' }],
  ])('%s', (_name, fields, framing) => {
    expect(headOf(request('Host: a.test', ...fields)).framing).toEqual(framing as ReturnType<typeof headOf>['framing'])
  })
})

describe('Connection: close and Accept', () => {
  test.each([
    [[], false],
    [['Connection: keep-alive'], false],
    [['Connection: keep-alive, Close'], true],
    [['Connection: CLOSE'], true],
    [['Connection: keep-alive', 'connection: close'], true],
    [['Connection: closed'], false],
    [['Connection: X-Close'], false],
  ])('RFC 9112 §9.6: %j → wantsClose %p', (fields, wantsClose) => {
    expect(headOf(request('Host: a.test', ...fields)).wantsClose).toBe(wantsClose)
  })

  test('Accept: null without one; OWS trimmed; several lines joined with ", " (RFC 9110 §5.3)', () => {
    expect(headOf(request('Host: a.test')).accept).toBeNull()
    expect(headOf(request('Host: a.test', 'Accept:  text/html \t')).accept).toBe('text/html')
    expect(headOf(request('Accept: text/html', 'Host: a.test', 'ACCEPT: application/json;q=0.9')).accept).toBe('text/html, application/json;q=0.9')
  })
})

describe('keptFields: what the backend gets of the client’s field lines', () => {
  /** One of each field the relay must not pass on, between fields it must. */
  const client = [
    'Host: Example.test',
    'User-Agent: t/1',
    'connection: keep-alive, X-Private',
    'accept: text/html',
    'X-Private: 1',
    'Keep-Alive: timeout=5',
    'TE: trailers',
    'Trailer: X-T',
    'Proxy-Connection: keep-alive',
    'Proxy-Authorization: Basic eDp5',
    'X-Auth-User: admin',
    'X_Auth_User: admin',
    'Remote-User: admin',
    'X-Forwarded-User: admin',
    'X-Forwarded-Email: admin@a.test',
    'X-Forwarded-Groups: admins',
    'X-Forwarded-For: 192.0.2.1',
    'X-Forwarded-Proto: https',
    'X-Forwarded-Host: evil.test',
    'X-Forwarded-Port: 1',
    'Forwarded: for=192.0.2.1',
    'X-Real-IP: 192.0.2.1',
    'X-Proxy-Set: from the client',
    'Cookie: a=1; b=2',
    'Content-Length: 3',
    'ACCEPT: application/json',
    'x-KEEP:  Mixed Case Value ',
  ]
  const kept = ['User-Agent: t/1', 'accept: text/html', 'Cookie: a=1; b=2', 'Content-Length: 3', 'ACCEPT: application/json', 'x-KEEP:  Mixed Case Value ']

  test('exactly the other lines, in order, spelled as sent, each ending in CRLF (proxy-set names dropped)', () => {
    expect(keptOf(request(...client), new Set(['x-proxy-set']))).toBe(kept.map((line) => `${line}\r\n`).join(''))
  })

  test('the same without proxy-set names: only X-Proxy-Set comes back, in its place', () => {
    const withProxySet = [...kept.slice(0, 2), 'X-Proxy-Set: from the client', ...kept.slice(2)]
    expect(keptOf(request(...client))).toBe(withProxySet.map((line) => `${line}\r\n`).join(''))
  })

  test.each([
    ['Host', 'Host: a.test'],
    ['Connection (RFC 9110 §7.6.1)', 'Connection: keep-alive'],
    ['Keep-Alive', 'Keep-Alive: timeout=5'],
    ['TE', 'TE: trailers'],
    ['Trailer', 'Trailer: X-T'],
    ['Proxy-Connection', 'Proxy-Connection: keep-alive'],
    ['Proxy-Authorization', 'Proxy-Authorization: Basic eDp5'],
    ['Transfer-Encoding', 'Transfer-Encoding: chunked'],
    ['X-Auth-User', 'X-Auth-User: admin'],
    ['X_Auth_User (folded to X-Auth-User by WSGI and PHP)', 'X_Auth_User: admin'],
    ['x-auth-request-email', 'x-auth-request-email: admin@a.test'],
    ['Remote-User', 'Remote-User: admin'],
    ['REMOTE_USER', 'REMOTE_USER: admin'],
    ['X-Forwarded-User', 'X-Forwarded-User: admin'],
    ['X-Forwarded-Email', 'X-Forwarded-Email: admin@a.test'],
    ['X-Forwarded-Groups', 'X-Forwarded-Groups: admins'],
    ['X-Forwarded-Preferred-Username', 'X-Forwarded-Preferred-Username: admin'],
    ['X-Forwarded-Access-Token', 'X-Forwarded-Access-Token: t'],
    ['X-Internal-Anything', 'X-Internal-Anything: 1'],
    ['X-Forwarded-For', 'X-Forwarded-For: 192.0.2.1'],
    ['X-Forwarded-Proto', 'X-Forwarded-Proto: https'],
    ['X-Forwarded-Host', 'X-Forwarded-Host: evil.test'],
    ['X-Forwarded-Port', 'X-Forwarded-Port: 1'],
    ['Forwarded (RFC 7239)', 'Forwarded: for=192.0.2.1'],
    ['X-Real-IP', 'x-real-ip: 192.0.2.1'],
  ])('%s is left out, whether it comes first, between or last', (_name, line) => {
    const host = line.startsWith('Host:') ? [] : ['Host: a.test']
    expect(keptOf(request(line, ...host, 'A: 1', 'B: 2'))).toBe('A: 1\r\nB: 2\r\n')
    expect(keptOf(request(...host, 'A: 1', line, 'B: 2'))).toBe('A: 1\r\nB: 2\r\n')
    expect(keptOf(request(...host, 'A: 1', 'B: 2', line))).toBe('A: 1\r\nB: 2\r\n')
  })

  test('RFC 9110 §7.6.1: fields named in Connection are left out, matched without case, from every Connection line', () => {
    const raw = request('Host: a.test', 'Connection: X-Private', 'x-private: 1', 'A: 1', 'X-PRIVATE: 2', 'connection: x-other , close', 'X-Other: 3', 'X-Privately: 4')
    expect(keptOf(raw)).toBe('A: 1\r\nX-Privately: 4\r\n')
  })

  test('proxy-set names are matched ignoring the client’s case; others with the same prefix stay', () => {
    const drop = new Set(['x-proxy-set', 'x-frame-options'])
    expect(keptOf(request('Host: a.test', 'X-PROXY-SET: 1', 'x-proxy-settings: 2', 'X-Frame-Options: DENY'), drop)).toBe('x-proxy-settings: 2\r\n')
  })

  test('Content-Length is kept as sent: the body goes to the backend as the client framed it', () => {
    expect(keptOf(request('Host: a.test', 'content-LENGTH:  7 '))).toBe('content-LENGTH:  7 \r\n')
  })

  test('a Content-Length named in Connection still frames the body the relay passes on (RFC 9112 §6.3)', () => {
    // Dropping it as a Connection option while the relay still sends 5 body bytes would make the backend
    // read them as the start of the next request.
    for (const option of ['Content-Length', 'content-length', 'keep-alive, Content-Length']) {
      const result = parse(`${request('Host: a.test', `Connection: ${option}`, 'Content-Length: 5')}hello`)
      if (result.status === 'unsupported') continue // the full server may take it instead
      expect({ option, keptFields: complete(result).keptFields }).toEqual({ option, keptFields: 'Content-Length: 5\r\n' })
    }
  })

  test('nothing is kept when every field is dropped; empty values are kept', () => {
    expect(keptOf(request('Host: a.test', 'Connection: close'))).toBe('')
    expect(keptOf(request('Host: a.test', 'X-Empty:', 'X-Blank: '))).toBe('X-Empty:\r\nX-Blank: \r\n')
  })

  test('obs-text (0x80–0xFF) survives as the same Latin-1 characters, and so the same bytes (RFC 9110 §5.5)', () => {
    const line = 'X-Name: caf\xe9 \xa0\xff\x80\xa0'
    const head = headOf(request('Host: a.test', line, 'Accept: \xa0text/html\xa0 '))
    expect(head.keptFields).toBe(`${line}\r\nAccept: \xa0text/html\xa0 \r\n`)
    expect(Buffer.from(head.keptFields, 'latin1').subarray(0, line.length)).toEqual(bytes(line))
    // OWS is only SP and HTAB (RFC 9110 §5.6.3): a no-break space 0xA0 is part of the value.
    expect(head.accept).toBe('\xa0text/html\xa0')
  })
})

describe('forwarding fields as the client sent them (RFC 7239)', () => {
  test('null without them; several lines joined with ", " in order', () => {
    expect(headOf(request('Host: a.test'))).toMatchObject({ priorForwardedFor: null, priorForwarded: null })
    const head = headOf(request('X-Forwarded-For: 192.0.2.1', 'Host: a.test', 'Forwarded: for=192.0.2.1', 'x-forwarded-for:  198.51.100.2, 203.0.113.3 ', 'FORWARDED: for="[2001:db8::1]"'))
    expect(head.priorForwardedFor).toBe('192.0.2.1, 198.51.100.2, 203.0.113.3')
    expect(head.priorForwarded).toBe('for=192.0.2.1, for="[2001:db8::1]"')
    expect(head.keptFields).toBe('')
  })
})

describe('headLength: where the body or the next request starts (RFC 9112 §6, §9.3.2)', () => {
  test('counts the bytes up to and including the empty line; the body after it is untouched', () => {
    const headText = request('Host: a.test', 'Content-Length: 5')
    const raw = bytes(`${headText}hello`)
    const head = complete(parseRequestHead(raw, NO_DROPS))
    expect(head.headLength).toBe(headText.length)
    expect(raw.subarray(head.headLength).toString('latin1')).toBe('hello')
  })

  test('a pipelined request after the head is neither parsed nor counted', () => {
    const first = request('Host: a.test')
    const second = request('Host: b.test', 'Upgrade: websocket')
    const head = headOf(`${first}${second}`)
    expect(head).toMatchObject({ host: 'a.test', headLength: first.length, keptFields: '' })
    expect(headOf(`${first}${second.slice(0, 10)}`).headLength).toBe(first.length)
  })

  test('the input buffer is not changed', () => {
    const raw = bytes(request('Host: a.test', 'Connection: X-A', 'X-A: 1', 'B: 2'))
    const copy = Buffer.from(raw)
    parseRequestHead(raw, new Set(['b']))
    expect(raw).toEqual(copy)
  })
})
