/**
 * forward() to backends that want a PROXY protocol header (target field `proxy_protocol`), over real
 * sockets: the header carries the client and the instance (haproxy doc/proxy-protocol.txt §2.1, §2.2),
 * the request follows it, and every way a backend can break HTTP/1.1 framing becomes a 502 or 504.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import type { TCPSocketListener } from 'bun'
import { once } from 'node:events'
import { connect } from 'node:net'
import { createSelfSignedCertificate } from '../../src/certs/index.ts'
import { Deadlines, prepareResponseHeaders, type ClientInfo } from '../../src/proxy/index.ts'
import { forward, type Upstream } from '../../src/proxy/forward.ts'
import { buildProxyPreamble, rawFetch } from '../../src/proxy/raw-forward.ts'
import { parseProxyHeader } from '../../src/proxy/proxy-protocol.ts'
import { startEchoBackend, streamOfBytes, type EchoReport } from '../fixtures/backends.ts'
import { echoSource, startProxyAwareBackend, startProxyRelay, type EchoedSource, type ProxyAwareBackend, type ProxyRelay, type RawAnswer } from '../fixtures/proxy-aware-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'

const CLIENT: ClientInfo = { address: '203.0.113.7', port: 41_234, isTls: false, isViaTrustedProxy: false }
const INSTANCE = { address: '127.0.0.1', port: 12_001 }

const started: { stop(): unknown }[] = []
afterEach(() => {
  for (const server of started.splice(0)) server.stop()
})

function backend(answer?: RawAnswer): ProxyAwareBackend {
  const server = startProxyAwareBackend(answer)
  started.push(server)
  return server
}

const DEADLINES = new Deadlines()

function upstreamFor(url: string, extra: Partial<Upstream> = {}): Upstream {
  return { url: new URL(url), preserveHost: false, customHeaders: {}, timeoutMs: 5_000, proxyProtocol: 'v1', ...extra }
}

function send(upstream: Upstream, init: RequestInit & { path?: string; client?: ClientInfo } = {}) {
  const request = new Request(`http://app.test${init.path ?? '/path?q=1'}`, { ...init, headers: { host: 'app.test', ...(init.headers as Record<string, string>) } })
  return forward(request, 'app.test', { client: init.client ?? CLIENT, instance: INSTANCE, upstream, path: init.path ?? '/path?q=1', deadlines: DEADLINES })
}

describe('the PROXY header sent first (proxy-protocol.txt §2.1, §2.2)', () => {
  test.each(['v1', 'v2'] as const)('%s: source is the client, destination the instance; then the request', async (version) => {
    const server = backend()
    const response = await send(upstreamFor(server.url, { proxyProtocol: version }))
    expect(response.status).toBe(200)
    const echoed = (await response.json()) as EchoedSource
    expect(echoed).toMatchObject({ version: version === 'v1' ? 1 : 2, kind: 'proxy', family: 'tcp4', sourceAddress: '203.0.113.7', sourcePort: 41_234, destinationAddress: '127.0.0.1', destinationPort: 12_001 })
    const [requestLine, ...fields] = echoed.requestHead.split('\r\n')
    expect(requestLine).toBe('GET /path?q=1 HTTP/1.1')
    const headers = Object.fromEntries(fields.map((field) => [field.slice(0, field.indexOf(':')).toLowerCase(), field.slice(field.indexOf(':') + 2)]))
    expect(headers).toMatchObject({ host: `127.0.0.1:${server.port}`, 'x-forwarded-for': '203.0.113.7', 'x-real-ip': '203.0.113.7', connection: 'close' })
    expect(headers['transfer-encoding']).toBeUndefined()
    expect(headers['content-length']).toBeUndefined()
  })

  test('an IPv6 client is sent as TCP6, with the IPv4 instance in its mapped form (RFC 4291 §2.5.5.2)', async () => {
    const server = backend()
    const client = { ...CLIENT, address: '2001:db8::7' }
    for (const version of ['v1', 'v2'] as const) {
      const echoed = (await (await send(upstreamFor(server.url, { proxyProtocol: version }), { client })).json()) as EchoedSource
      expect(echoed).toMatchObject({ family: 'tcp6', sourceAddress: '2001:db8::7', sourcePort: 41_234, destinationAddress: '::ffff:127.0.0.1' })
    }
  })

  test('an unknown client address is sent as UNKNOWN (v1) or LOCAL (v2): the backend uses the socket', async () => {
    const server = backend()
    const client = { ...CLIENT, address: '' }
    expect(await (await send(upstreamFor(server.url, { proxyProtocol: 'v1' }), { client })).json()).toMatchObject({ version: 1, kind: 'local' })
    expect(await (await send(upstreamFor(server.url, { proxyProtocol: 'v2' }), { client })).json()).toMatchObject({ version: 2, kind: 'local' })
  })

  test('buildProxyPreamble: the exact v1 line, and a v2 header that parses back to the same addresses', () => {
    expect(Buffer.from(buildProxyPreamble('v1', CLIENT, INSTANCE)).toString()).toBe('PROXY TCP4 203.0.113.7 127.0.0.1 41234 12001\r\n')
    const parsed = parseProxyHeader(buildProxyPreamble('v2', { ...CLIENT, address: '::ffff:203.0.113.7' }, INSTANCE))
    expect(parsed).toMatchObject({ status: 'complete', header: { version: 2, kind: 'proxy', addresses: { family: 'tcp6', sourceAddress: '::ffff:203.0.113.7', destinationAddress: '::ffff:127.0.0.1' } } })
  })

  test('a backend path prefix is kept; a POST body goes with Content-Length, a streamed one chunked', async () => {
    const server = backend()
    const upstream = upstreamFor(`${server.url}/base/`)
    const sized = (await (await send(upstream, { method: 'POST', body: 'hello', headers: { 'content-length': '5' } })).json()) as EchoedSource
    expect(sized.requestHead).toStartWith('POST /base/path?q=1 HTTP/1.1\r\n')
    expect(sized.requestHead.toLowerCase()).toContain('\r\ncontent-length: 5\r\n')
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('hi')), c.close()) })
    const chunked = (await (await send(upstream, { method: 'PUT', body: stream, duplex: 'half' } as RequestInit)).json()) as EchoedSource
    expect(chunked.requestHead.toLowerCase()).toContain('\r\ntransfer-encoding: chunked\r\n')
    expect(chunked.requestHead.toLowerCase()).not.toContain('content-length')
  })
})

const respond = (raw: string): RawAnswer => () => raw

describe('responses (RFC 9112)', () => {
  test('1xx interim responses are skipped (RFC 9110 §15.2); the final one is returned with its body', async () => {
    const server = backend(respond('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </s.css>\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\nx-b: 1\r\n\r\nok'))
    const response = await send(upstreamFor(server.url))
    expect(response.status).toBe(201)
    expect(response.headers.get('x-b')).toBe('1')
    expect(response.headers.has('link')).toBe(false)
    expect(await response.text()).toBe('ok')
  })

  test('chunked bodies are decoded, hop-by-hop headers dropped, custom response headers added', async () => {
    const server = backend(respond('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close, x-hop\r\nx-hop: 1\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nx-trailer: t\r\n\r\n'))
    const response = await send(upstreamFor(server.url))
    // The hand-over server applies the decision's response rules to what forward() returns.
    prepareResponseHeaders(response.headers, [['x-edge', 'yes']])
    expect(await response.text()).toBe('abcde')
    expect(response.headers.has('transfer-encoding')).toBe(false)
    expect(response.headers.has('x-hop')).toBe(false)
    expect(response.headers.get('x-edge')).toBe('yes')
  })

  test('a read-to-close body ends with the connection (RFC 9112 §6.3 item 8)', async () => {
    const server = backend(respond('HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end'))
    expect(await (await send(upstreamFor(server.url))).text()).toBe('until the end')
  })

  test.each([
    ['HEAD', 'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n', 200],
    ['GET', 'HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n', 204],
    ['GET', 'HTTP/1.1 304 Not Modified\r\netag: "x"\r\n\r\n', 304],
    ['POST', 'HTTP/1.1 205 Reset Content\r\n\r\n', 205],
  ])('%s → %j has no body and does not wait for one', async (method, raw, status) => {
    // The backend keeps the connection open: waiting for a body (or the close) would hang the test.
    const server = backend(() => ({ reply: raw, keepOpen: true }))
    const response = await send(upstreamFor(server.url), { method })
    expect(response.status).toBe(status)
    expect(await response.text()).toBe('')
  })

  test.each([
    ['a malformed status line', 'HTTP/1.1 OK\r\n\r\n'],
    ['an HTTP/2 status line', 'HTTP/2 200\r\n\r\n'],
    ['a status above 599', 'HTTP/1.1 600 No\r\ncontent-length: 0\r\n\r\n'],
    ['101 without an Upgrade request', 'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n'],
    ['conflicting Content-Length values', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc'],
    ['an unsupported transfer coding', 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nabc'],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nx-a: 1\r\n 2\r\ncontent-length: 0\r\n\r\n'],
    ['bare LF line endings', 'HTTP/1.1 200 OK\ncontent-length: 0\n\n'],
    ['a NUL in a field value', 'HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 0\r\n\r\n'],
    ['a close before the head ends', 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n'],
    ['a close before any byte', ''],
    ['a head over 64 KiB', `HTTP/1.1 200 OK\r\n${'x-pad: 0123456789012345678901234567890123456789\r\n'.repeat(1600)}\r\n`],
  ])('RFC 9112 §6.3 item 5: %s → 502', async (_name, raw) => {
    const server = backend(respond(raw))
    const response = await send(upstreamFor(server.url), { headers: { accept: 'application/json' } })
    expect(response.status).toBe(502)
  })

  test.each([
    ['a short Content-Length body', 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort'],
    ['a chunked body without its last chunk', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nshort\r\n'],
    ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nshort\r\n0\r\n\r\n'],
  ])('after the head: %s errors the body stream (the client sees a truncated response, never a complete one)', async (_name, raw) => {
    const server = backend(respond(raw))
    const response = await send(upstreamFor(server.url))
    expect(response.status).toBe(200)
    await expect(response.text()).rejects.toThrow()
  })

  test('no response head within upstream_timeout → 504', async () => {
    const server = backend(() => null)
    const response = await send(upstreamFor(server.url, { timeoutMs: 200 }))
    expect(response.status).toBe(504)
  })

  test('a refused connection → 502', async () => {
    const server = backend()
    const port = server.port
    server.stop()
    expect((await send(upstreamFor(`http://127.0.0.1:${port}`))).status).toBe(502)
  })
})

describe('https backends: TLS on the raw socket, verified like fetch', () => {
  let tlsBackend: TCPSocketListener<{ buffered: Buffer }>
  let certPem: string
  afterAll(() => tlsBackend?.stop(true))

  const startTlsBackend = async () => {
    const pem = await createSelfSignedCertificate(['backend.test', '127.0.0.1'])
    certPem = pem.certPem
    tlsBackend = Bun.listen<{ buffered: Buffer }>({
      hostname: '127.0.0.1',
      port: 0,
      tls: { cert: pem.certPem, key: pem.keyPem },
      socket: {
        open: (socket) => void (socket.data = { buffered: Buffer.alloc(0) }),
        data(socket, bytes) {
          socket.data.buffered = Buffer.concat([socket.data.buffered, bytes])
          const parsed = parseProxyHeader(socket.data.buffered)
          if (parsed.status !== 'complete') return void (parsed.status === 'invalid' && socket.end())
          const rest = socket.data.buffered.subarray(parsed.headerLength).toString('latin1')
          if (!rest.includes('\r\n\r\n')) return
          socket.end(String(echoSource({ header: parsed.header, requestHead: rest.slice(0, rest.indexOf('\r\n\r\n')) })))
        },
      },
    })
  }

  test('the PROXY header goes inside TLS; the certificate is checked against the CA and the IP', async () => {
    await startTlsBackend()
    const url = new URL(`https://127.0.0.1:${tlsBackend.port}/x`)
    const preamble = buildProxyPreamble('v2', CLIENT, INSTANCE)
    const response = await rawFetch({ url, method: 'GET', headers: new Headers({ host: 'backend.test' }), body: null, preamble, signal: new AbortController().signal, ca: certPem })
    expect(await response.json()).toMatchObject({ version: 2, sourceAddress: '203.0.113.7', requestHead: expect.stringContaining('GET /x HTTP/1.1') })
  })

  test('an untrusted certificate is refused (no ca) → forward answers 502', async () => {
    if (!tlsBackend) await startTlsBackend()
    const response = await send(upstreamFor(`https://127.0.0.1:${tlsBackend.port}`))
    expect(response.status).toBe(502)
  })

  test('a certificate for another name is refused even with the right CA', async () => {
    if (!tlsBackend) await startTlsBackend()
    const other = await createSelfSignedCertificate(['other.test'])
    const wrong = Bun.listen({ hostname: '127.0.0.1', port: 0, tls: { cert: other.certPem, key: other.keyPem }, socket: { data() {} } })
    try {
      const url = new URL(`https://127.0.0.1:${wrong.port}/`)
      const attempt = rawFetch({ url, method: 'GET', headers: new Headers(), body: null, preamble: new Uint8Array(0), signal: new AbortController().signal, ca: other.certPem })
      await expect(attempt).rejects.toThrow(/TLS/)
    } finally {
      wrong.stop(true)
    }
  })
})

describe('through the edge: a proxy with proxy_protocol set, to PROXY-enabled backends', () => {
  let edge: TestEdge
  let echo: ReturnType<typeof startEchoBackend>
  let relay: ProxyRelay
  let fixed: ProxyAwareBackend
  const MIB = 1024 * 1024

  beforeAll(async () => {
    edge = await startTestEdge(isolatedPortRanges())
    echo = startEchoBackend()
    relay = await startProxyRelay(echo)
    fixed = startProxyAwareBackend()
    for (const version of ['v1', 'v2'] as const) {
      await edge.createProxy(`fixed-${version}.test`, fixed.url, { proxy_protocol: version, enable_https: false })
      await edge.createProxy(`relay-${version}.test`, relay.url, { proxy_protocol: version, enable_https: false })
    }
  })
  afterAll(async () => {
    await edge?.stop()
    echo?.stop(true)
    fixed?.stop()
    await relay?.stop()
  })

  /** One request over a fresh client socket, so the test knows the client's port. */
  async function rawGet(host: string): Promise<{ clientPort: number; status: number; body: string }> {
    const socket = connect({ host: '127.0.0.1', port: edge.httpPort })
    await once(socket, 'connect')
    const clientPort = socket.localPort!
    // write, not end: the dispatcher drops a client that half-closes before its instance is connected.
    socket.write(`GET /who HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`)
    const chunks: Buffer[] = []
    for await (const chunk of socket) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString()
    return { clientPort, status: Number(text.slice(9, 12)), body: text.slice(text.indexOf('\r\n\r\n') + 4) }
  }

  test.each(['v1', 'v2'] as const)('%s: the backend sees 127.0.0.1 and the client port, and the instance as destination', async (version) => {
    const { clientPort, status, body } = await rawGet(`fixed-${version}.test`)
    expect(status).toBe(200)
    const echoed = JSON.parse(body) as EchoedSource
    expect(echoed).toMatchObject({ version: version === 'v1' ? 1 : 2, kind: 'proxy', family: 'tcp4', sourceAddress: '127.0.0.1', sourcePort: clientPort, destinationAddress: '127.0.0.1' })
    expect(echoed.destinationPort).not.toBe(edge.httpPort)
    expect(echoed.requestHead.toLowerCase()).toContain(`\r\nx-real-ip: 127.0.0.1\r\n`)
    expect(fixed.refusedConnections()).toBe(0)
  })

  /** keepalive: false — a pooled connection stays pinned to the first Host's instance (the dispatcher routes connections). */
  const viaEdge = (host: string, path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${edge.httpPort}${path}`, { ...init, keepalive: false, headers: { ...(init.headers as Record<string, string>), host } })

  test.each(['v1', 'v2'] as const)('%s: uploads with Content-Length and chunked arrive whole', async (version) => {
    const before = relay.headers.length
    const sized = await viaEdge(`relay-${version}.test`, '/upload', { method: 'POST', body: new Uint8Array(3 * MIB).fill(7) })
    expect(((await sized.json()) as EchoReport).bodyBytes).toBe(3 * MIB)
    const streamed = await viaEdge(`relay-${version}.test`, '/upload', { method: 'PUT', body: streamOfBytes(2 * MIB + 123), duplex: 'half' } as RequestInit)
    const report = (await streamed.json()) as EchoReport
    expect(report.bodyBytes).toBe(2 * MIB + 123)
    expect(report.headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(relay.headers.slice(before)).toEqual([
      expect.objectContaining({ version: version === 'v1' ? 1 : 2, kind: 'proxy', sourceAddress: '127.0.0.1' }),
      expect.objectContaining({ version: version === 'v1' ? 1 : 2, kind: 'proxy', sourceAddress: '127.0.0.1' }),
    ])
  })

  test.each(['v1', 'v2'] as const)('%s: a chunked download of 4 MiB arrives intact', async (version) => {
    const response = await viaEdge(`relay-${version}.test`, `/bytes/${4 * MIB}`)
    expect(response.status).toBe(200)
    const body = new Uint8Array(await response.arrayBuffer())
    expect(body.length).toBe(4 * MIB)
    expect(body.every((byte) => byte === 120)).toBe(true)
  })

  test('backend status codes and errors pass through (404 from the backend, 502 when it is gone)', async () => {
    expect((await viaEdge('relay-v1.test', '/status/404')).status).toBe(404)
    const gone = startProxyAwareBackend()
    gone.stop()
    await edge.createProxy('gone.test', gone.url, { proxy_protocol: 'v2', enable_https: false })
    expect((await viaEdge('gone.test', '/')).status).toBe(502)
  })
})
