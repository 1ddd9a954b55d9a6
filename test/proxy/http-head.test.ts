import { describe, expect, test } from 'bun:test'
import { readRequestHead, type HeadResult } from '../../src/proxy/http-head.ts'

const encode = (text: string) => new TextEncoder().encode(text)
const read = (text: string, maxBytes?: number) => readRequestHead(encode(text), maxBytes)
const hostOf = (text: string) => {
  const result = read(text)
  if (result.status !== 'complete') throw new Error(`expected complete, got ${JSON.stringify(result)}`)
  return result.host
}
const request = (...fieldLines: string[]) => `GET /path?q=1 HTTP/1.1\r\n${fieldLines.map((line) => `${line}\r\n`).join('')}\r\n`

describe('complete heads', () => {
  test('a normal request: host and headLength (body bytes after the head are not counted)', () => {
    const head = request('Host: example.com', 'User-Agent: t', 'Content-Length: 5')
    expect(read(`${head}hello`)).toEqual({ status: 'complete', host: 'example.com', headLength: head.length })
  })

  test('RFC 9112 §2.2: LF-only line endings are accepted', () => {
    const head = 'GET / HTTP/1.1\nHost: lf.test\nAccept: */*\n\n'
    expect(read(`${head}body`)).toEqual({ status: 'complete', host: 'lf.test', headLength: head.length })
    expect(hostOf('GET / HTTP/1.1\r\nHost: mixed.test\n\r\n')).toBe('mixed.test')
  })

  test('RFC 9112 §2.2: empty lines before the request-line are ignored', () => {
    const text = `\r\n\n${request('Host: late.test')}`
    expect(read(text)).toEqual({ status: 'complete', host: 'late.test', headLength: text.length })
  })

  test('missing Host or an empty Host → null; HTTP/1.0 is accepted', () => {
    expect(hostOf('GET / HTTP/1.0\r\n\r\n')).toBeNull()
    expect(hostOf(request('Accept: */*'))).toBeNull()
    expect(hostOf(request('Host:'))).toBeNull()
    expect(hostOf(request('Host:   '))).toBeNull()
  })

  test('field name is case-insensitive; value is trimmed of OWS, lower-cased and stripped of its port', () => {
    expect(hostOf(request('hOsT:\t Example.COM:8443 \t'))).toBe('example.com')
    expect(hostOf(request('HOST: a.test:'))).toBe('a.test') // RFC 3986 §3.2.3: port = *DIGIT may be empty
    expect(hostOf(request('Host: 127.0.0.1:80'))).toBe('127.0.0.1')
    expect(hostOf(request('Host: fqdn.test.'))).toBe('fqdn.test')
    expect(hostOf(request('Host: under_score.test'))).toBe('under_score.test')
  })

  test('IPv6 literals keep their brackets and lose the port', () => {
    expect(hostOf(request('Host: [::1]:8080'))).toBe('[::1]')
    expect(hostOf(request('Host: [2001:DB8::A]'))).toBe('[2001:db8::a]')
    expect(hostOf(request('Host: [::ffff:127.0.0.1]'))).toBe('[::ffff:127.0.0.1]')
  })

  test('RFC 9112 §3.2: an absolute-form target and a Host naming different hosts are refused (the two paths would read them two ways)', () => {
    expect(read('GET http://Target.test:81/x?y HTTP/1.1\r\nHost: other.test\r\n\r\n')).toEqual({
      status: 'invalid',
      reason: 'the absolute-form authority and the Host header name different hosts',
    })
    expect(read('GET http://[::1]:9/ HTTP/1.1\r\nHost: x\r\n\r\n').status).toBe('invalid')
  })

  test('RFC 9112 §3.2.2: an absolute-form target names the host (Host, when sent, must name the same one)', () => {
    expect(hostOf('GET http://Target.test:81/x?y HTTP/1.1\r\nHost: target.TEST:81\r\n\r\n')).toBe('target.test')
    expect(hostOf('GET HTTPS://secure.test HTTP/1.1\r\n\r\n')).toBe('secure.test')
    expect(hostOf('GET http://[::1]:9/ HTTP/1.1\r\nHost: [::1]:9\r\n\r\n')).toBe('[::1]')
    expect(hostOf('GET http://q.test?x=1 HTTP/1.1\r\n\r\n')).toBe('q.test')
    // Origin-form and asterisk-form leave Host in charge; so do other look-alikes.
    expect(hostOf('OPTIONS * HTTP/1.1\r\nHost: star.test\r\n\r\n')).toBe('star.test')
    expect(hostOf('GET /http://evil.test/ HTTP/1.1\r\nHost: good.test\r\n\r\n')).toBe('good.test')
    expect(hostOf('GET httpx://evil.test/ HTTP/1.1\r\nHost: good.test\r\n\r\n')).toBe('good.test')
  })
})

describe('invalid heads (400)', () => {
  const expectInvalid = (text: string, reason?: string) => {
    const result = read(text)
    expect(result.status).toBe('invalid')
    if (reason !== undefined) expect(result).toEqual({ status: 'invalid', reason })
  }

  test('RFC 9112 §3.2: more than one Host field line → invalid (even with the same value or an absolute-form target)', () => {
    expectInvalid(request('Host: a.test', 'host: a.test'), 'more than one Host header field')
    expectInvalid(request('Host: a.test', 'Accept: */*', 'HOST: b.test'), 'more than one Host header field')
    expectInvalid('GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n')
  })

  test('RFC 9112 §5.2: obs-fold (and whitespace before the first field) → invalid', () => {
    expectInvalid(request('Host: a.test', 'X-Long: one', ' two'), 'obsolete line folding (obs-fold) is not accepted')
    expectInvalid(request('Host: a.test', 'X-Long: one', '\ttwo'))
    expectInvalid('GET / HTTP/1.1\r\n Host: a.test\r\n\r\n')
  })

  test('RFC 9112 §5.1: whitespace between field name and colon, or no colon → invalid', () => {
    expectInvalid(request('Host : a.test'), 'malformed header field line')
    expectInvalid(request('Host\t: a.test'))
    expectInvalid(request('no-colon-here'))
    expectInvalid(request(': empty-name'))
  })

  test('RFC 9112 §2.2 / RFC 9110 §5.5: bare CR and NUL → invalid', () => {
    expectInvalid('GET / HTTP/1.1\r\nHost: a.test\rX-Smuggle: 1\r\n\r\n', 'bare CR in the request head')
    expectInvalid('GET / HTTP/1.1\r\nX-A: a\0b\r\nHost: a.test\r\n\r\n', 'NUL byte in the request head')
    expectInvalid('\rGET / HTTP/1.1\r\n\r\n')
    expectInvalid('GET /\r HTTP/1.1\r\n\r\n')
  })

  test('RFC 9112 §3.2 / RFC 9110 §7.2: invalid Host values → invalid', () => {
    for (const value of ['a b.test', 'a.test:80:80', 'a.test:port', 'a.test:65536', 'a.test:000080', ':80', '.', '[::1', '[::1]x', '[v1.x]', '[fe80::1%25eth0]', '[1.2.3.4]', '[::g]', 'user@a.test', 'a%2e.test', 'a,b.test', 'é.test']) {
      expectInvalid(request(`Host: ${value}`), 'invalid Host header field value')
    }
  })

  test('RFC 9110 §4.2.1 / §4.2.4: absolute-form with empty host or userinfo → invalid', () => {
    expectInvalid('GET http:///x HTTP/1.1\r\nHost: a.test\r\n\r\n', 'invalid authority in the absolute-form request-target')
    expectInvalid('GET http://user:pw@a.test/ HTTP/1.1\r\n\r\n', 'userinfo in the request-target')
    expectInvalid('GET http://a.test:99999/ HTTP/1.1\r\n\r\n')
  })

  test('garbage and other protocols → invalid, as early as the first byte where possible', () => {
    expectInvalid('\x16\x03\x01\x02\x00', 'request-line does not start with a method token') // a TLS ClientHello
    expectInvalid('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'request-line does not end with HTTP/1.x') // HTTP/2 preface
    expectInvalid('GET / HTTP/1.1 extra\r\n\r\n')
    expectInvalid('GET /  HTTP/1.1\r\n\r\n')
    expectInvalid('GET\r\n\r\n')
    expectInvalid('GET / HTTP/1.1x\r\n\r\n')
    expectInvalid('GET / http/1.1\r\n\r\n')
    expectInvalid('G(T / HTTP/1.1\r\n\r\n')
    expect(read('\x16').status).toBe('invalid')
    expect(read('GET /x HTTP/1.1\r\n').status).toBe('incomplete')
  })
})

describe('incremental feeding and limits', () => {
  test('split across many feeds: incomplete on every proper prefix, complete at the end', () => {
    const head = request('Host: split.test:8080', 'Accept: text/html', 'Cookie: a=b; c=d')
    const bytes = encode(head)
    for (let i = 0; i < bytes.length; i++) {
      expect(readRequestHead(bytes.subarray(0, i)).status).toBe('incomplete')
    }
    expect(readRequestHead(bytes)).toEqual({ status: 'complete', host: 'split.test', headLength: bytes.length })
  })

  test('more than 16 KiB without the end of head → too_large (431); exactly at the limit → complete', () => {
    const big = `GET / HTTP/1.1\r\nHost: a.test\r\nX-Pad: ${'x'.repeat(17_000)}`
    expect(read(big)).toEqual({ status: 'too_large' })
    expect(read(`${big}\r\n\r\n`)).toEqual({ status: 'too_large' })
    expect(read(`GET /${'a'.repeat(20_000)}`)).toEqual({ status: 'too_large' }) // a long request-line too
    const base = request('Host: a.test', 'X-Pad: ')
    const fitting = request('Host: a.test', `X-Pad: ${'y'.repeat(16_384 - base.length)}`)
    expect(fitting.length).toBe(16_384)
    expect(read(fitting)).toEqual({ status: 'complete', host: 'a.test', headLength: 16_384 })
    expect(read(`${fitting}trailing body`)).toEqual({ status: 'complete', host: 'a.test', headLength: 16_384 })
    expect(read(fitting, 16_383)).toEqual({ status: 'too_large' })
    expect(read(request('Host: a.test'), 10)).toEqual({ status: 'too_large' })
  })

  test('a 16 KiB head fed in 1 KiB steps stays fast (stateless re-scan is linear per call)', () => {
    const text = request('Host: fast.test', ...Array.from({ length: 400 }, (_, i) => `X-Header-${i}: ${'v'.repeat(20)}`))
    const bytes = encode(text)
    const startedMs = performance.now()
    let result: HeadResult = { status: 'incomplete' }
    for (let end = 1024; result.status === 'incomplete'; end = Math.min(end + 1024, bytes.length)) {
      result = readRequestHead(bytes.subarray(0, end))
    }
    expect(result).toEqual({ status: 'complete', host: 'fast.test', headLength: bytes.length })
    expect(performance.now() - startedMs).toBeLessThan(200)
  })
})

describe('real clients', () => {
  /** Captures what a client sends to a plain TCP listener until the head is complete. */
  async function captureHead(send: (port: number) => Promise<unknown>): Promise<HeadResult> {
    let buffer = new Uint8Array(0)
    const { promise, resolve } = Promise.withResolvers<HeadResult>()
    const listener = Bun.listen({
      hostname: '127.0.0.1',
      port: 0,
      socket: {
        data(socket, chunk) {
          const next = new Uint8Array(buffer.length + chunk.length)
          next.set(buffer)
          next.set(chunk, buffer.length)
          buffer = next
          const result = readRequestHead(buffer)
          if (result.status === 'incomplete') return
          resolve(result)
          socket.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n')
        },
      },
    })
    try {
      void send(listener.port).catch(() => {})
      return await promise
    } finally {
      listener.stop(true)
    }
  }

  test('fetch: Host with port is stripped', async () => {
    const result = await captureHead((port) => fetch(`http://127.0.0.1:${port}/x`, { headers: { 'X-Test': '1' } }))
    expect(result).toMatchObject({ status: 'complete', host: '127.0.0.1' })
  })

  test.skipIf(Bun.which('curl') === null)('curl --resolve with an upper-case host', async () => {
    const result = await captureHead(async (port) => {
      const child = Bun.spawn(['curl', '-s', '--max-time', '5', '--resolve', `Web.Test:${port}:127.0.0.1`, `http://Web.Test:${port}/`], { stdout: 'ignore', stderr: 'ignore' })
      await child.exited
    })
    expect(result).toMatchObject({ status: 'complete', host: 'web.test' })
  })
})

describe('hostile input never throws', () => {
  test('random bytes, and random mutations and truncations of a valid head (4000+ cases)', () => {
    let seed = 0x2545f491
    const random = () => {
      seed ^= seed << 13
      seed ^= seed >>> 17
      seed ^= seed << 5
      return (seed >>> 0) / 0x1_0000_0000
    }
    const statuses = new Set(['incomplete', 'invalid', 'too_large', 'complete'])
    const check = (bytes: Uint8Array, maxBytes?: number) => {
      const result = readRequestHead(bytes, maxBytes)
      if (!statuses.has(result.status)) throw new Error(`unexpected status ${result.status}`)
      if (result.status === 'complete') {
        expect(result.headLength).toBeLessThanOrEqual(Math.min(bytes.length, maxBytes ?? 16_384))
        if (result.host !== null) expect(result.host).toMatch(/^([a-z0-9._~-]+|\[[0-9a-f:.]+\])$/)
      }
    }
    const alphabet = encode('GET /Hh:ost \r\n\t[]:.0123456789@\0')
    const base = encode(request('Host: Fuzz.Test:8080', 'Accept: */*'))
    for (let i = 0; i < 1500; i++) {
      const length = Math.floor(random() * 200)
      check(new Uint8Array(length).map(() => Math.floor(random() * 256)))
      check(new Uint8Array(length).map(() => alphabet[Math.floor(random() * alphabet.length)]!))
    }
    for (let i = 0; i < 1000; i++) {
      const mutated = base.slice()
      for (let f = 0; f < 1 + Math.floor(random() * 3); f++) mutated[Math.floor(random() * mutated.length)] = alphabet[Math.floor(random() * alphabet.length)]!
      check(mutated.subarray(0, Math.floor(random() * (mutated.length + 1))))
      check(mutated, Math.floor(random() * 80))
    }
  })
})
