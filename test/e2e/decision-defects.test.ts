/**
 * Defects the one-decision rework fixed, each proven on the path where it was: several hosts on one
 * plain keep-alive connection, Host on WebSocket upgrades (preserve_host_header), the idle timeout, the
 * head deadline for every head (not only the first) over HTTP and inside TLS, the minimum body rate,
 * and client addresses on a dual-stack listener (RFC 7239 §6). Timings are shortened: head deadline
 * 500 ms, idle timeout 1 s, body rate checked per 500 ms window; the head-deadline rows run on an edge
 * of their own whose idle timeout (300 s) cannot be mistaken for the deadline.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Socket } from 'bun'
import type { ServerOptions } from '../../src/server.ts'
import { startEchoBackend, type EchoReport } from '../fixtures/backends.ts'
import { inTurnOn, openClient, readReplies, type RawClient } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { openWebSocket, viaHttp, type Scheme } from '../support/edge-clients.ts'

const READ_DEADLINE_MS = 500
const IDLE_TIMEOUT_SEC = 1
const IDLE_TIMEOUT_MS = IDLE_TIMEOUT_SEC * 1000
/** 1,000 bytes per 500 ms window. */
const MIN_BODY_BYTES_PER_SEC = 2_000
/** Generous upper bound for a timer firing on a loaded CI machine. */
const SLACK_MS = 1_000
const SCHEMES: Scheme[] = ['http', 'https']

let edge: TestEdge
let echo: ReturnType<typeof startEchoBackend>
let other: ReturnType<typeof startEchoBackend>
let wsBackend: ReturnType<typeof startHostRecordingWebSocketBackend>

/** A WebSocket echo that records the Host of every upgrade request it receives. */
function startHostRecordingWebSocketBackend() {
  const hosts: string[] = []
  const server = Bun.serve<undefined>({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request, server) {
      hosts.push(request.headers.get('host') ?? '(none)')
      return server.upgrade(request, { data: undefined }) ? undefined : new Response('websocket only', { status: 426 })
    },
    websocket: { message: (ws, message) => void ws.send(message) },
  })
  return { server, hosts }
}

beforeAll(async () => {
  // minBodyBytesPerSec is an EdgeOptions field that ServerOptions['edge'] does not list (yet); startServer passes it on.
  const timings = { readDeadlineMs: READ_DEADLINE_MS, idleTimeoutSec: IDLE_TIMEOUT_SEC, minBodyBytesPerSec: MIN_BODY_BYTES_PER_SEC } as ServerOptions['edge']
  edge = await startTestEdge({}, timings)
  echo = startEchoBackend()
  other = startEchoBackend()
  wsBackend = startHostRecordingWebSocketBackend()
  await edge.createProxy('a.test', `http://127.0.0.1:${echo.port}`)
  await edge.createProxy('b.test', `http://127.0.0.1:${other.port}/b-prefix`)
  await edge.createProxy('ws-keep.test', `http://127.0.0.1:${wsBackend.server.port}`, { preserve_host_header: true })
  await edge.createProxy('ws-target.test', `http://127.0.0.1:${wsBackend.server.port}`, { preserve_host_header: false })
})
afterAll(async () => {
  await edge.stop()
  for (const server of [echo, other, wsBackend.server]) server.stop(true)
})

const reportOf = (text: string) => JSON.parse(text) as EchoReport
/** Milliseconds from `sinceMs` until the edge closes the connection; fails if it is still open after `limitMs`. */
async function closedAfter(client: RawClient, sinceMs: number, limitMs: number): Promise<number> {
  try {
    await client.until((_, isClosed) => isClosed, `the edge to close the connection (within ${limitMs} ms)`, limitMs)
  } finally {
    client.close()
  }
  return performance.now() - sinceMs
}

describe('1. RFC 9110 §7.2: a plain keep-alive connection routes every request by its own Host', () => {
  test('relay: Host a.test, then b.test, then a.test on one HTTP/1.1 connection → each its own proxy, not 421', async () => {
    const client = await openClient(edge, 'http', 'a.test')
    try {
      const replies = await inTurnOn(client, ['GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: b.test\r\n\r\n', 'GET /3 HTTP/1.1\r\nHost: a.test\r\n\r\n'])
      expect(replies.map((reply) => `${reply.status} ${reply.status === 200 ? new URL(reportOf(reply.text).url).pathname : reply.text}`)).toEqual(['200 /1', '200 /b-prefix/2', '200 /3'])
      expect(edge.server.edge.stats().handoffs).toBe(0)
    } finally {
      client.close()
    }
  })

  test('hand-over server: after an absolute-form request (handed over), Host a.test then b.test → each its own proxy', async () => {
    const client = await openClient(edge, 'http', 'a.test')
    try {
      const [carried] = await inTurnOn(client, ['GET http://a.test/0 HTTP/1.1\r\nHost: a.test\r\n\r\n'])
      expect(carried!.status).toBe(200)
      expect(edge.server.edge.stats().handoffs).toBe(1)
      const replies = await inTurnOn(client, ['GET /1 HTTP/1.1\r\nHost: a.test\r\n\r\n', 'GET /2 HTTP/1.1\r\nHost: b.test\r\n\r\n'])
      expect(replies.map((reply) => `${reply.status} ${reply.status === 200 ? new URL(reportOf(reply.text).url).pathname : reply.text}`)).toEqual(['200 /1', '200 /b-prefix/2'])
    } finally {
      client.close()
    }
  })
})

describe('2. WebSocket upgrades keep preserve_host_header (RFC 6455 §4.1: the handshake is an HTTP request with Host)', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: preserve_host_header true → the backend sees the client's Host; false → the target's host:port`, async () => {
      for (const [host, expected] of [['ws-keep.test', 'ws-keep.test'], ['ws-target.test', `127.0.0.1:${wsBackend.server.port}`]] as const) {
        const before = wsBackend.hosts.length
        const client = await openWebSocket(edge, scheme, host)
        try {
          client.socket.send(`hello ${host}`)
          expect(await client.next()).toBe(`hello ${host}`)
          expect({ host, seen: wsBackend.hosts.slice(before) }).toEqual({ host, seen: [expected] })
        } finally {
          client.socket.close()
        }
      }
    })
  }
})

describe('3. the idle timeout (1 s) closes a quiet keep-alive connection', () => {
  test.concurrent('relay: a connection quiet after its response is closed about 1 s later', async () => {
    const client = await openClient(edge, 'http', 'a.test')
    await inTurnOn(client, ['GET /quiet HTTP/1.1\r\nHost: a.test\r\n\r\n'])
    const quietMs = await closedAfter(client, performance.now(), IDLE_TIMEOUT_MS + SLACK_MS)
    expect(quietMs).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 100)
  }, 5_000)

  test.concurrent('hand-over server: a handed-over connection quiet after its response is closed about 1 s later', async () => {
    const client = await openClient(edge, 'http', 'a.test')
    await inTurnOn(client, ['GET http://a.test/quiet HTTP/1.1\r\nHost: a.test\r\n\r\n'])
    const quietMs = await closedAfter(client, performance.now(), IDLE_TIMEOUT_MS + SLACK_MS)
    expect(quietMs).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 100)
  }, 5_000)

  for (const [path, first] of [['relay', 'GET /busy HTTP/1.1'], ['hand-over server', 'GET http://a.test/busy HTTP/1.1']] as const) {
    test.concurrent(`${path}: a connection that sends a request every 400 ms for 2.4 s stays open and is answered each time`, async () => {
      const client = await openClient(edge, 'http', 'a.test')
      try {
        const statuses: number[] = []
        for (let round = 0; round < 6; round++) {
          const [reply] = await inTurnOn(client, [`${round === 0 ? first : `GET /busy/${round} HTTP/1.1`}\r\nHost: a.test\r\n\r\n`])
          statuses.push(reply!.status)
          // Pacing the client, not waiting for a condition: each gap is well inside the idle timeout.
          await Bun.sleep(400)
        }
        expect(statuses).toEqual([200, 200, 200, 200, 200, 200])
        expect(client.isClosed()).toBe(false)
      } finally {
        client.close()
      }
    }, 6_000)
  }
})

/** Writes `bytes` one at a time every `pauseMs` until they are all sent or the connection closes. */
async function drip(client: RawClient, bytes: string, pauseMs: number): Promise<void> {
  for (let at = 0; at < bytes.length && !client.isClosed(); at++) {
    client.write(bytes[at]!)
    await Bun.sleep(pauseMs)
  }
}

describe('4. the head deadline (500 ms) holds for every request head, not only the first', () => {
  let deadlineEdge: TestEdge
  beforeAll(async () => {
    deadlineEdge = await startTestEdge({}, { readDeadlineMs: READ_DEADLINE_MS })
    await deadlineEdge.createProxy('a.test', `http://127.0.0.1:${echo.port}`)
  })
  afterAll(() => deadlineEdge.stop())

  for (const scheme of SCHEMES) {
    test.concurrent(`${scheme}: a second head dripped at 1 byte per 200 ms is closed about 500 ms after its first byte`, async () => {
      const client = await openClient(deadlineEdge, scheme, 'a.test')
      const [first] = await inTurnOn(client, ['GET /first HTTP/1.1\r\nHost: a.test\r\n\r\n'])
      expect(first!.status).toBe(200)
      const received = client.received().length
      const startedAt = performance.now()
      // 40 bytes at 200 ms would take 8 s.
      void drip(client, 'GET /second HTTP/1.1\r\nHost: a.test\r\nX-Slow: 1234567', 200)
      const livedMs = await closedAfter(client, startedAt, READ_DEADLINE_MS + SLACK_MS)
      expect(livedMs).toBeGreaterThanOrEqual(READ_DEADLINE_MS - 50)
      // RFC 9110 §15.5.9 would allow a 408; a client that stopped mid-head is not reading, so nothing is sent.
      expect(client.received().length).toBe(received)
    }, 5_000)

    test.concurrent(`${scheme}: a connection that ${scheme === 'https' ? 'completes its TLS handshake and ' : ''}sends no request at all is closed about 500 ms later`, async () => {
      const client = await openClient(deadlineEdge, scheme, 'a.test')
      const livedMs = await closedAfter(client, performance.now(), READ_DEADLINE_MS + SLACK_MS)
      expect(livedMs).toBeGreaterThanOrEqual(READ_DEADLINE_MS - 100)
      expect(client.received().length).toBe(0)
    }, 5_000)
  }
})

describe('5. request bodies need the minimum rate (2,000 B/s over each 500 ms window)', () => {
  test.concurrent('a body dripped at about 100 B/s is cut; the backend never answers it', async () => {
    const client = await openClient(edge, 'http', 'a.test')
    client.write('POST /slow-body HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100000\r\n\r\n')
    const startedAt = performance.now()
    void (async () => {
      while (!client.isClosed()) {
        client.write('x'.repeat(10))
        await Bun.sleep(100)
      }
    })()
    const livedMs = await closedAfter(client, startedAt, 2 * READ_DEADLINE_MS + SLACK_MS)
    expect(livedMs).toBeGreaterThanOrEqual(READ_DEADLINE_MS - 50)
    expect(readReplies(client.received(), ['POST'], true).filter((reply) => reply.status === 200)).toEqual([])
  }, 5_000)

  test.concurrent('a 1 MiB upload at loopback speed passes whole', async () => {
    const size = 1024 * 1024
    const response = await viaHttp(edge, 'a.test', '/upload', { method: 'POST', body: new Uint8Array(size).fill(97) })
    expect(response.status).toBe(200)
    expect(reportOf(await response.text()).bodyBytes).toBe(size)
  }, 5_000)
})

describe('6. RFC 7239 §6: client addresses on a dual-stack listener (LISTEN_ADDRESS ::)', () => {
  let dual: TestEdge
  beforeAll(async () => {
    dual = await startTestEdge({ LISTEN_ADDRESS: '::' })
    await dual.createProxy('six.test', `http://127.0.0.1:${echo.port}`)
  })
  afterAll(() => dual.stop())

  /** One request over plain TCP from `from` (the loopback address of one family), read until the edge closes. */
  async function requestFrom(from: '::1' | '127.0.0.1', request: string): Promise<EchoReport> {
    const chunks: Uint8Array[] = []
    const { promise: closed, resolve } = Promise.withResolvers<void>()
    const socket: Socket<undefined> = await Bun.connect({
      hostname: from,
      port: dual.httpPort,
      socket: { data: (_, bytes) => void chunks.push(bytes.slice()), close: () => resolve(), error: () => resolve() },
    })
    socket.write(request)
    const timer = setTimeout(() => socket.terminate(), 3_000)
    await closed
    clearTimeout(timer)
    const [reply] = readReplies(Buffer.concat(chunks), ['GET'], true)
    expect(reply?.status).toBe(200)
    return reportOf(reply!.text)
  }

  const versions = { 'relay (HTTP/1.1)': '1.1', 'hand-over server (HTTP/1.0)': '1.0' } as const
  for (const [path, version] of Object.entries(versions)) {
    test(`${path}: a client on [::1] is X-Forwarded-For ::1 and Forwarded for="[::1]"`, async () => {
      const report = await requestFrom('::1', `GET /six HTTP/${version}\r\nHost: six.test\r\nConnection: close\r\n\r\n`)
      expect(report.headers['x-forwarded-for']).toBe('::1')
      expect(report.headers['x-real-ip']).toBe('::1')
      expect(report.headers['forwarded']).toBe('for="[::1]";proto=http;host="six.test"')
    })

    test(`${path}: an IPv4 client of the same listener is plain 127.0.0.1, not ::ffff:127.0.0.1`, async () => {
      const report = await requestFrom('127.0.0.1', `GET /four HTTP/${version}\r\nHost: six.test\r\nConnection: close\r\n\r\n`)
      expect(report.headers['x-forwarded-for']).toBe('127.0.0.1')
      expect(report.headers['x-real-ip']).toBe('127.0.0.1')
      expect(report.headers['forwarded']).toBe('for=127.0.0.1;proto=http;host="six.test"')
    })
  }
})
