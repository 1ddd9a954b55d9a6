/**
 * DESIGN §3.1 (slowloris): a peer gets one read deadline, from accept to a complete request head or
 * ClientHello. Bytes trickling in do not extend it; when it passes the dispatcher drops the peer, and
 * meanwhile every other client is served as usual. Once routed, a connection is no longer under it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTaggedBackend } from '../fixtures/backends.ts'
import type { TestEdge } from '../support/edge.ts'
import { captureClientHello, openRaw, parseResponses, via, type RawConnection, type Scheme } from '../support/edge-clients.ts'
import { startTunedTestEdge } from '../support/edge-tuned.ts'

const READ_DEADLINE_MS = 1_000
/** Generous upper bound for a timer firing on a loaded CI machine. */
const SLACK_MS = 1_500

let edge: TestEdge
let backend: ReturnType<typeof startTaggedBackend>

beforeAll(async () => {
  edge = await startTunedTestEdge({ readDeadlineMs: READ_DEADLINE_MS })
  backend = startTaggedBackend('served')
  await edge.createProxy('slow.test', `http://127.0.0.1:${backend.port}`)
})
afterAll(async () => {
  backend.stop(true)
  await edge.stop()
})

const portOf = (scheme: Scheme) => (scheme === 'http' ? edge.httpPort : edge.httpsPort)

/** Opens a connection and reports how long after opening it the dispatcher closed it. */
async function timedPeer(scheme: Scheme) {
  const openedAt = performance.now()
  const connection = await openRaw(portOf(scheme))
  const lifetimeMs = connection.closed.then(() => performance.now() - openedAt)
  return { connection, lifetimeMs }
}

/** The start of a request head or ClientHello that never completes, one byte every 500 ms. */
async function trickleForever(scheme: Scheme, connection: RawConnection): Promise<void> {
  const start = scheme === 'http' ? new TextEncoder().encode('GET / HTTP/1.1\r\nHost: slow.test\r\nX-Slow: ' + 'a'.repeat(64)) : await captureClientHello('slow.test')
  // Never the whole thing: the peer is dropped by the deadline, not by completing its head.
  await connection.trickle(start.subarray(0, start.length - 1), 1, 500)
}

// Each test waits out a deadline of its own; they run side by side, which is also more load on the edge.
for (const scheme of ['http', 'https'] as const) {
  describe.concurrent(`${scheme} listener`, () => {
    test('a silent peer is dropped at the read deadline, without an answer', async () => {
      const { connection, lifetimeMs } = await timedPeer(scheme)
      const lived = await lifetimeMs
      expect(lived).toBeGreaterThanOrEqual(READ_DEADLINE_MS - 50)
      expect(lived).toBeLessThan(READ_DEADLINE_MS + SLACK_MS)
      expect(connection.received().length).toBe(0)
    })

    test('a peer sending one head byte every 500 ms is dropped at the deadline: its bytes do not extend it', async () => {
      const { connection, lifetimeMs } = await timedPeer(scheme)
      void trickleForever(scheme, connection)
      const lived = await lifetimeMs
      expect(lived).toBeGreaterThanOrEqual(READ_DEADLINE_MS - 50)
      expect(lived).toBeLessThan(READ_DEADLINE_MS + SLACK_MS)
    })
  })
}

test.concurrent('while slow peers wait out their deadline on both listeners, other clients are served normally', async () => {
  const peers = await Promise.all((['http', 'https', 'http', 'https'] as const).map(async (scheme, index) => {
    const peer = await timedPeer(scheme)
    if (index >= 2) void trickleForever(scheme, peer.connection)
    return peer
  }))
  const served: string[] = []
  for (let round = 0; round < 5; round++) {
    for (const scheme of ['http', 'https'] as const) {
      const response = await via(scheme)(edge, 'slow.test', `/round/${round}`)
      served.push(`${response.status} ${await response.text()}`)
    }
  }
  // All ten answers came while every slow peer was still connected.
  expect(peers.map(({ connection }) => connection.isClosed())).toEqual([false, false, false, false])
  expect(served).toEqual(Array.from({ length: 10 }, () => '200 served'))
  for (const lived of await Promise.all(peers.map((peer) => peer.lifetimeMs))) expect(lived).toBeLessThan(READ_DEADLINE_MS + SLACK_MS)
})

test.concurrent('the deadline ends once the connection is routed: a keep-alive connection idle past it still serves its next request', async () => {
  const silent = await timedPeer('http')
  const routed = await openRaw(edge.httpPort)
  routed.write('GET /first HTTP/1.1\r\nHost: slow.test\r\n\r\n')
  await routed.waitForBytes(1)
  // The silent peer opened first, so once it is dropped the deadline has passed for the routed one too.
  expect(await silent.lifetimeMs).toBeGreaterThanOrEqual(READ_DEADLINE_MS - 50)
  const before = routed.received().length
  routed.write('GET /second HTTP/1.1\r\nHost: slow.test\r\nConnection: close\r\n\r\n')
  await routed.closed
  expect(before).toBeGreaterThan(0)
  const replies = parseResponses(routed.received())
  expect(replies.map((reply) => `${reply.status} ${reply.text}`)).toEqual(['200 served', '200 served'])
})
