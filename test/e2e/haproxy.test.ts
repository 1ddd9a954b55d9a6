/**
 * The edge behind a real haproxy in `mode tcp` (haproxy doc/proxy-protocol.txt; peers-and-specs §7.2).
 * haproxy connects from 127.0.0.1; its client connects from 127.0.0.5, so the two are distinguishable.
 * A PROXY header is believed only from PROXY_PROTOCOL_TRUSTED peers, and from them it is required.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { connect as connectTls } from 'node:tls'
import { createBodyDecoder, parseResponseHead } from '../../src/proxy/http1-response.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { startHaproxy, type HaproxyListener, type TestHaproxy } from '../support/haproxy.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { waitFor } from '../support/ports.ts'

/** haproxy's client: a loopback address other than haproxy's own 127.0.0.1. */
const CLIENT_ADDRESS = '127.0.0.5'
const HOST = 'app.test'

interface Reply {
  /** 0 when the connection closed without a response (or the TLS handshake failed). */
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** The backend: echoes the request headers and counts every request that reached it. */
function startCountingBackend() {
  let count = 0
  const server: Server<undefined> = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      count++
      return Response.json(Object.fromEntries(request.headers))
    },
  })
  return { server, url: `http://127.0.0.1:${server.port}`, requests: () => count }
}

/** One HTTP/1.1 request from `localAddress` over a fresh connection (TLS with SNI when `isTls`). */
async function request(port: number, options: { isTls: boolean; headers?: Record<string, string>; localAddress?: string; raw?: Uint8Array }): Promise<Reply> {
  const localAddress = options.localAddress ?? CLIENT_ADDRESS
  let socket: Socket
  try {
    if (options.isTls) {
      // The edge's certificate is self-signed; what is checked here is who the backend thinks the client is.
      socket = connectTls({ host: '127.0.0.1', port, localAddress, servername: HOST, rejectUnauthorized: false } as Parameters<typeof connectTls>[0])
      await once(socket, 'secureConnect')
    } else {
      socket = connect({ host: '127.0.0.1', port, localAddress })
      await once(socket, 'connect')
    }
  } catch {
    return { status: 0, headers: {}, body: '' }
  }
  const fields = Object.entries({ host: HOST, ...options.headers, connection: 'close' }).map(([name, value]) => `${name}: ${value}\r\n`)
  socket.write(options.raw ?? `GET /who HTTP/1.1\r\n${fields.join('')}\r\n`)
  const chunks: Buffer[] = []
  try {
    for await (const chunk of socket) chunks.push(chunk as Buffer)
  } catch {
    // A reset is a close too.
  }
  return parseReply(Buffer.concat(chunks))
}

function parseReply(bytes: Uint8Array): Reply {
  const parsed = parseResponseHead(bytes, 'GET')
  if (parsed.status !== 'complete') return { status: 0, headers: {}, body: '' }
  const decoder = createBodyDecoder(parsed.head.framing)
  const body = Buffer.concat(decoder.push(bytes.subarray(parsed.headLength))).toString()
  return { status: parsed.head.status, headers: Object.fromEntries(parsed.head.headers), body }
}

const forwardedHeaders = (reply: Reply) => JSON.parse(reply.body) as Record<string, string>

let trusted: TestEdge
let untrusted: TestEdge
let haproxy: TestHaproxy
let backend: ReturnType<typeof startCountingBackend>

beforeAll(async () => {
  backend = startCountingBackend()
  // haproxy connects from 127.0.0.1: trusted by one edge, not by the other.
  // Own instance port ranges: two edges on the same (SO_REUSEPORT) ports would steal each other's connections.
  trusted = await startTestEdge({ PROXY_PROTOCOL_TRUSTED: '127.0.0.1/32', ...isolatedPortRanges() })
  untrusted = await startTestEdge({ PROXY_PROTOCOL_TRUSTED: '127.0.0.9/32', ...isolatedPortRanges() })
  for (const edge of [trusted, untrusted]) await edge.createProxy(HOST, backend.url)
  const listeners: HaproxyListener[] = []
  for (const [edgeName, edge] of [['trusted', trusted], ['untrusted', untrusted]] as const) {
    for (const kind of ['http', 'https'] as const) {
      for (const version of ['v1', 'v2', null] as const) {
        listeners.push({ name: `${edgeName}-${kind}-${version ?? 'none'}`, targetPort: kind === 'http' ? edge.httpPort : edge.httpsPort, proxyProtocol: version })
      }
    }
  }
  haproxy = await startHaproxy(listeners)
  // A direct connection from 127.0.0.5 is a plain client for both edges: it shows when each proxy is live.
  for (const edge of [trusted, untrusted]) {
    await waitFor(async () => (await request(edge.httpPort, { isTls: false })).status === 200, { what: 'the http instance' })
    await waitFor(async () => (await request(edge.httpsPort, { isTls: true })).status === 200, { what: 'the https instance' })
  }
}, 30_000)

afterAll(async () => {
  await haproxy?.stop()
  await trusted?.stop()
  await untrusted?.stop()
  backend?.server.stop(true)
})

const port = (name: string) => haproxy.ports[name]!

describe('trusted haproxy (PROXY_PROTOCOL_TRUSTED=127.0.0.1/32)', () => {
  const cases = [
    ['http', 'v1'],
    ['http', 'v2'],
    ['https', 'v1'],
    ['https', 'v2'],
  ] as const

  test.each(cases)('%s, %s: the backend sees haproxy\'s client 127.0.0.5, not haproxy', async (kind, version) => {
    const reply = await request(port(`trusted-${kind}-${version}`), { isTls: kind === 'https' })
    expect(reply.status).toBe(200)
    const headers = forwardedHeaders(reply)
    expect(headers['x-forwarded-for']).toBe(CLIENT_ADDRESS)
    expect(headers['x-real-ip']).toBe(CLIENT_ADDRESS)
    expect(headers['x-forwarded-proto']).toBe(kind)
    // RFC 7239 §4: for=, proto=, host=.
    expect(headers['forwarded']).toBe(`for=${CLIENT_ADDRESS};proto=${kind};host="${HOST}"`)
  })

  test.each(cases)('%s, %s: the LB\'s X-Forwarded-For and Forwarded chains are appended to; X-Real-IP is replaced', async (kind, version) => {
    const reply = await request(port(`trusted-${kind}-${version}`), {
      isTls: kind === 'https',
      headers: { 'x-forwarded-for': '198.51.100.1, 198.51.100.2', forwarded: 'for=198.51.100.1', 'x-real-ip': '198.51.100.9' },
    })
    expect(reply.status).toBe(200)
    const headers = forwardedHeaders(reply)
    expect(headers['x-forwarded-for']).toBe(`198.51.100.1, 198.51.100.2, ${CLIENT_ADDRESS}`)
    expect(headers['forwarded']).toBe(`for=198.51.100.1, for=${CLIENT_ADDRESS};proto=${kind};host="${HOST}"`)
    expect(headers['x-real-ip']).toBe(CLIENT_ADDRESS)
  })

  test('for comparison, a direct client\'s X-Forwarded-For is replaced, not appended to', async () => {
    const reply = await request(trusted.httpPort, { isTls: false, headers: { 'x-forwarded-for': '198.51.100.1', forwarded: 'for=198.51.100.1' } })
    const headers = forwardedHeaders(reply)
    expect(headers['x-forwarded-for']).toBe(CLIENT_ADDRESS)
    expect(headers['forwarded']).toBe(`for=${CLIENT_ADDRESS};proto=http;host="${HOST}"`)
  })

  test.each(['http', 'https'] as const)('%s: a trusted peer that sends no PROXY header is refused; the listener never guesses (§2)', async (kind) => {
    const before = backend.requests()
    const reply = await request(port(`trusted-${kind}-none`), { isTls: kind === 'https' })
    expect(reply.status).toBe(0)
    expect(backend.requests()).toBe(before)
  })
})

describe('untrusted haproxy (PROXY_PROTOCOL_TRUSTED=127.0.0.9/32)', () => {
  test.each(['v1', 'v2'] as const)('http, %s: the PROXY header is just a malformed request → 400, backend never reached', async (version) => {
    const before = backend.requests()
    const reply = await request(port(`untrusted-http-${version}`), { isTls: false })
    expect(reply.status).toBe(400)
    expect(backend.requests()).toBe(before)
  })

  test.each(['v1', 'v2'] as const)('https, %s: the PROXY header is not a ClientHello → closed, backend never reached', async (version) => {
    const before = backend.requests()
    const reply = await request(port(`untrusted-https-${version}`), { isTls: true })
    expect(reply.status).toBe(0)
    expect(backend.requests()).toBe(before)
  })

  test('without a PROXY header the same haproxy is an ordinary client: the backend sees 127.0.0.1', async () => {
    const reply = await request(port('untrusted-http-none'), { isTls: false })
    expect(reply.status).toBe(200)
    expect(forwardedHeaders(reply)['x-forwarded-for']).toBe('127.0.0.1')
  })
})

describe('malformed PROXY headers from a trusted address (proxy-protocol.txt §2.1, §2.2) → closed', () => {
  const ascii = (text: string) => new TextEncoder().encode(text)
  const v2 = (versionCommand: number, familyProtocol: number, length: number) =>
    Uint8Array.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, versionCommand, familyProtocol, length >> 8, length & 0xff])
  const http = ascii(`GET /who HTTP/1.1\r\nhost: ${HOST}\r\nconnection: close\r\n\r\n`)
  const join = (a: Uint8Array, b: Uint8Array) => Buffer.concat([a, b])

  test.each([
    ['v1 with an invalid address', join(ascii('PROXY TCP4 999.0.0.1 127.0.0.1 1234 80\r\n'), http)],
    ['v1 with a leading-zero port', join(ascii('PROXY TCP4 10.0.0.1 127.0.0.1 01234 80\r\n'), http)],
    ['v1 with a family mismatch', join(ascii('PROXY TCP6 10.0.0.1 127.0.0.1 1234 80\r\n'), http)],
    ['v1 with a bare LF', join(ascii('PROXY TCP4 10.0.0.1 127.0.0.1 1234 80\n'), http)],
    ['v1 without CRLF within 107 bytes', ascii(`PROXY TCP4 ${'1'.repeat(120)}`)],
    ['v2 with version 3', join(v2(0x31, 0x11, 12), new Uint8Array(12))],
    ['v2 with command 0xF', join(v2(0x2f, 0x11, 12), new Uint8Array(12))],
    ['v2 with the UDP family', join(v2(0x21, 0x12, 12), new Uint8Array(12))],
    ['v2 with a length shorter than the address block', join(v2(0x21, 0x11, 4), new Uint8Array(4))],
    ['a truncated v2 signature followed by HTTP', join(ascii('\r\n\r\n\0\r\nQUI'), http)],
  ])('%s', async (_name, bytes) => {
    const before = backend.requests()
    const reply = await request(trusted.httpPort, { isTls: false, localAddress: '127.0.0.1', raw: bytes })
    expect(reply.status).toBe(0)
    expect(backend.requests()).toBe(before)
  })

  test('a well-formed header from the same address is accepted (the cases above fail for their header alone)', async () => {
    const reply = await request(trusted.httpPort, { isTls: false, localAddress: '127.0.0.1', raw: join(ascii('PROXY TCP4 192.0.2.44 127.0.0.1 1234 80\r\n'), http) })
    expect(reply.status).toBe(200)
    expect(forwardedHeaders(reply)['x-forwarded-for']).toBe('192.0.2.44')
  })
})
