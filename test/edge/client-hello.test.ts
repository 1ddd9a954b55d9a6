import { describe, expect, test } from 'bun:test'
import { connect as tlsConnect } from 'node:tls'
import { readClientHelloSni, type SniResult } from '../../src/edge/client-hello.ts'

// --- capturing real ClientHellos over loopback ----------------------------------------------------------

interface Capture {
  readonly bytes: Uint8Array
  readonly reads: number
}

/** Listens on 127.0.0.1:0, runs `dial(port)`, and returns the bytes received once a ClientHello is complete. */
async function captureClientHello(dial: (port: number) => () => void): Promise<Capture> {
  let buffer = new Uint8Array(0)
  let reads = 0
  const { promise, resolve, reject } = Promise.withResolvers<Capture>()
  const listener = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      data(socket, chunk) {
        reads++
        const next = new Uint8Array(buffer.length + chunk.length)
        next.set(buffer)
        next.set(chunk, buffer.length)
        buffer = next
        const result = readClientHelloSni(buffer)
        if (result.status === 'incomplete') return
        if (result.status === 'invalid') reject(new Error(`captured bytes are invalid: ${result.reason}`))
        resolve({ bytes: buffer, reads })
        socket.end()
      },
    },
  })
  const hangUp = dial(listener.port)
  const timer = setTimeout(() => reject(new Error('no ClientHello within 10 s')), 10_000)
  try {
    return await promise
  } finally {
    clearTimeout(timer)
    hangUp()
    listener.stop(true)
  }
}

function dialNodeTls(options: { servername?: string }): (port: number) => () => void {
  return (port) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options })
    socket.on('error', () => {})
    return () => socket.destroy()
  }
}

function dialProcess(argv: (port: number) => string[]): (port: number) => () => void {
  return (port) => {
    const child = Bun.spawn(argv(port), { stdin: 'pipe', stdout: 'ignore', stderr: 'ignore' })
    return () => child.kill()
  }
}

const hasOpenssl = Bun.which('openssl') !== null
const hasCurl = Bun.which('curl') !== null
const hasNode = Bun.which('node') !== null

function expectComplete(result: SniResult, serverName: string | null): void {
  expect(result).toEqual({ status: 'complete', serverName })
}

// --- building and re-framing handshake messages ---------------------------------------------------------

const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff]
const u24 = (n: number) => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0))

function extension(type: number, data: number[]): number[] {
  return [...u16(type), ...u16(data.length), ...data]
}

function serverNameExtension(...names: string[]): number[] {
  const list = names.flatMap((name) => [0, ...u16(name.length), ...ascii(name)])
  return extension(0, [...u16(list.length), ...list])
}

/** A ClientHello handshake message (header + body); `extensions` null omits the block (TLS 1.2 style). */
function clientHello(extensions: number[][] | null): Uint8Array {
  const body = [3, 3, ...new Array(32).fill(7), 0, ...u16(2), 0x13, 0x01, 1, 0]
  if (extensions !== null) {
    const block = extensions.flat()
    body.push(...u16(block.length), ...block)
  }
  return new Uint8Array([1, ...u24(body.length), ...body])
}

/** Wraps a handshake message into TLS records (RFC 5246 §6.2.1) of at most `fragmentBytes` each. */
function records(handshake: Uint8Array, fragmentBytes = 16_384, contentType = 22): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < handshake.length; i += fragmentBytes) {
    const fragment = handshake.subarray(i, i + fragmentBytes)
    out.push(contentType, 3, 1, ...u16(fragment.length), ...fragment)
  }
  return new Uint8Array(out)
}

/** The handshake message carried by a captured byte stream's records. */
function unwrapHandshake(stream: Uint8Array): Uint8Array {
  const parts: number[] = []
  for (let offset = 0; offset + 5 <= stream.length; ) {
    const length = (stream[offset + 3]! << 8) | stream[offset + 4]!
    parts.push(...stream.subarray(offset + 5, offset + 5 + length))
    offset += 5 + length
  }
  const handshake = new Uint8Array(parts)
  const length = (handshake[1]! << 16) | (handshake[2]! << 8) | handshake[3]!
  return handshake.subarray(0, 4 + length)
}

function feedBytewise(stream: Uint8Array): SniResult {
  for (let i = 1; i < stream.length; i++) {
    const partial = readClientHelloSni(stream.subarray(0, i))
    if (partial.status !== 'incomplete') throw new Error(`expected incomplete at ${i}/${stream.length}, got ${partial.status}`)
  }
  return readClientHelloSni(stream)
}

// --- tests ---------------------------------------------------------------------------------------------

describe('real ClientHellos over loopback', () => {
  test('node:tls with servername → SNI', async () => {
    const { bytes } = await captureClientHello(dialNodeTls({ servername: 'a.example.com' }))
    expectComplete(readClientHelloSni(bytes), 'a.example.com')
  })

  test('node:tls to an IP without servername → no SNI (RFC 6066 §3: literal IPs are not sent)', async () => {
    const { bytes } = await captureClientHello(dialNodeTls({}))
    expectComplete(readClientHelloSni(bytes), null)
  })

  test('node:tls with an upper-case servername → lower-cased', async () => {
    const { bytes } = await captureClientHello(dialNodeTls({ servername: 'MiXeD.Example.COM' }))
    expectComplete(readClientHelloSni(bytes), 'mixed.example.com')
  })

  test.skipIf(!hasNode)('Node.js (OpenSSL) in a child process', async () => {
    const script = `require('tls').connect({host:'127.0.0.1',port:+process.argv[1],servername:'n.test',rejectUnauthorized:false}).on('error',()=>{})`
    const { bytes } = await captureClientHello(dialProcess((port) => ['node', '-e', script, String(port)]))
    expectComplete(readClientHelloSni(bytes), 'n.test')
  })

  test.skipIf(!hasOpenssl)('openssl s_client -servername', async () => {
    const argv = (port: number) => ['openssl', 's_client', '-connect', `127.0.0.1:${port}`, '-servername', 'x.test']
    const { bytes } = await captureClientHello(dialProcess(argv))
    expectComplete(readClientHelloSni(bytes), 'x.test')
  })

  test.skipIf(!hasOpenssl)('openssl s_client -noservername → null', async () => {
    const argv = (port: number) => ['openssl', 's_client', '-connect', `127.0.0.1:${port}`, '-noservername']
    const { bytes } = await captureClientHello(dialProcess(argv))
    expectComplete(readClientHelloSni(bytes), null)
  })

  test.skipIf(!hasOpenssl)('openssl s_client TLS 1.2 only', async () => {
    const argv = (port: number) => ['openssl', 's_client', '-connect', `127.0.0.1:${port}`, '-servername', 'v12.test', '-tls1_2']
    const { bytes } = await captureClientHello(dialProcess(argv))
    expectComplete(readClientHelloSni(bytes), 'v12.test')
  })

  test.skipIf(!hasCurl)('curl --resolve', async () => {
    const argv = (port: number) => ['curl', '-sk', '--max-time', '10', '--resolve', `b.test:${port}:127.0.0.1`, `https://b.test:${port}/`]
    const { bytes } = await captureClientHello(dialProcess(argv))
    expectComplete(readClientHelloSni(bytes), 'b.test')
  })

  test('a captured hello re-wrapped into 50-byte records, fed one byte at a time', async () => {
    const { bytes } = await captureClientHello(dialNodeTls({ servername: 'split.example.com' }))
    const handshake = unwrapHandshake(bytes)
    const stream = records(handshake, 50)
    expect(stream.length).toBeGreaterThan(bytes.length) // really more records than before
    expectComplete(feedBytewise(stream), 'split.example.com')
    expectComplete(feedBytewise(records(handshake, 1)), 'split.example.com')
    expectComplete(feedBytewise(records(handshake, 3)), 'split.example.com') // 4-byte header split across records
  })
})

describe('synthetic ClientHellos', () => {
  test('RFC 5246 §7.4.1.2: no extensions block at all → null', () => {
    expectComplete(readClientHelloSni(records(clientHello(null))), null)
    expectComplete(readClientHelloSni(records(clientHello([]))), null)
  })

  test('server_name among other extensions; unknown name types are skipped', () => {
    const otherType = extension(0, [...u16(7), 9, ...u16(4), 1, 2, 3, 4])
    expectComplete(readClientHelloSni(records(clientHello([extension(43, [2, 3, 4]), serverNameExtension('ok.test')]))), 'ok.test')
    expectComplete(readClientHelloSni(records(clientHello([otherType]))), null)
  })

  test('a single trailing dot is dropped; bytes after the ClientHello are ignored', () => {
    expectComplete(readClientHelloSni(records(clientHello([serverNameExtension('dot.test.')]))), 'dot.test')
    const withTrailer = new Uint8Array([...records(clientHello([serverNameExtension('t.test')])), 23, 3, 3, 0, 1, 0])
    expectComplete(readClientHelloSni(withTrailer), 't.test')
  })

  test('RFC 6066 §3: names outside [a-z0-9.-], empty, too long or with empty labels are invalid', () => {
    const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}` // 254 bytes
    for (const bad of ['', '.', 'a..b', '.a', 'under_score.test', 'sp ace.test', 'ü.test', '1.2.3.4:443', long, `${'x'.repeat(64)}.test`]) {
      const result = readClientHelloSni(records(clientHello([serverNameExtension(bad)])))
      expect(result.status).toBe('invalid')
    }
    expectComplete(readClientHelloSni(records(clientHello([serverNameExtension(long.slice(1))]))), long.slice(1))
  })

  test('RFC 8446 §4.2 / RFC 6066 §3: duplicate server_name extension or host_name entry → invalid', () => {
    const twice = readClientHelloSni(records(clientHello([serverNameExtension('a.test'), serverNameExtension('b.test')])))
    expect(twice).toEqual({ status: 'invalid', reason: 'duplicate server_name extension' })
    const twoNames = readClientHelloSni(records(clientHello([serverNameExtension('a.test', 'b.test')])))
    expect(twoNames).toEqual({ status: 'invalid', reason: 'more than one host_name in server_name' })
  })

  test('not TLS: answers invalid from the first byte', () => {
    expect(readClientHelloSni(new TextEncoder().encode('G')).status).toBe('invalid')
    expect(readClientHelloSni(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')).status).toBe('invalid')
    expect(readClientHelloSni(new Uint8Array([0x80, 0x2e, 0x01])).status).toBe('invalid') // SSLv2-style hello
    expect(readClientHelloSni(new Uint8Array([22, 2])).status).toBe('invalid')
    expect(readClientHelloSni(new Uint8Array([])).status).toBe('incomplete')
    expect(readClientHelloSni(new Uint8Array([22])).status).toBe('incomplete')
  })

  test('RFC 8446 §4.1.1 / §5.1: wrong first message, interleaved records, bad record lengths → invalid', () => {
    const serverHello = clientHello([serverNameExtension('a.test')]).slice()
    serverHello[0] = 2
    expect(readClientHelloSni(records(serverHello)).status).toBe('invalid')
    const handshake = clientHello([serverNameExtension('a.test')])
    const interleaved = new Uint8Array([...records(handshake.subarray(0, 20)), 20, 3, 3, 0, 1, 1, ...records(handshake.subarray(20))])
    expect(readClientHelloSni(interleaved)).toEqual({ status: 'invalid', reason: 'non-handshake record inside the ClientHello' })
    expect(readClientHelloSni(new Uint8Array([22, 3, 1, 0, 0])).status).toBe('invalid') // zero-length record
    expect(readClientHelloSni(new Uint8Array([22, 3, 1, 0x40, 0x01])).status).toBe('invalid') // 2^14 + 1
  })

  test('maxBytes: a hello declared or grown past the limit is invalid, not incomplete forever', () => {
    const padding = extension(21, new Array(3000).fill(0))
    const big = records(clientHello([serverNameExtension('big.test'), padding]), 100)
    expectComplete(readClientHelloSni(big), 'big.test')
    expect(readClientHelloSni(big, 2000).status).toBe('invalid')
    expect(readClientHelloSni(big.subarray(0, 10), 2000).status).toBe('invalid') // declared length too large
    const endless = new Uint8Array([22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff])
    expect(readClientHelloSni(endless).status).toBe('invalid')
    // Records that never reach the declared length: incomplete until maxBytes, then invalid.
    const handshakeHeader = records(new Uint8Array([1, ...u24(3000), ...new Array(1000).fill(0)]), 100)
    expect(readClientHelloSni(handshakeHeader, 5000).status).toBe('incomplete')
    expect(readClientHelloSni(handshakeHeader, handshakeHeader.length).status).toBe('invalid')
  })

  test('every proper prefix of a valid multi-record hello is incomplete', () => {
    const stream = records(clientHello([serverNameExtension('trunc.test'), extension(10, [0, 2, 0, 29])]), 40)
    expectComplete(feedBytewise(stream), 'trunc.test')
  })
})

describe('hostile input never throws', () => {
  // A small deterministic PRNG (xorshift32) so failures reproduce.
  let seed = 0x9e3779b9
  const random = () => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) / 0x1_0000_0000
  }
  const statuses = new Set(['incomplete', 'invalid', 'complete'])
  const check = (bytes: Uint8Array, maxBytes?: number) => {
    const result = readClientHelloSni(bytes, maxBytes)
    if (!statuses.has(result.status)) throw new Error(`unexpected status ${result.status}`)
    if (result.status === 'complete' && result.serverName !== null) expect(result.serverName).toMatch(/^[a-z0-9.-]{1,253}$/)
  }

  test('random bytes, random records, mutated and truncated real-shaped hellos (5000+ cases)', () => {
    const base = records(clientHello([serverNameExtension('fuzz.example.com'), extension(43, [2, 3, 4]), extension(10, [0, 2, 0, 29])]), 60)
    for (let i = 0; i < 1500; i++) {
      const length = Math.floor(random() * 300)
      const noise = new Uint8Array(length).map(() => Math.floor(random() * 256))
      check(noise)
      if (length > 0) noise[0] = 22
      if (length > 1) noise[1] = 3
      check(noise)
    }
    for (let i = 0; i < 2000; i++) {
      const mutated = base.slice()
      const flips = 1 + Math.floor(random() * 4)
      for (let f = 0; f < flips; f++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256)
      check(mutated.subarray(0, Math.floor(random() * (mutated.length + 1))))
      check(mutated, Math.floor(random() * 400))
    }
    for (let cut = 0; cut <= base.length; cut++) check(base.subarray(0, cut))
  })
})
