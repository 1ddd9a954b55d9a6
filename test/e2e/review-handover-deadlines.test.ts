/**
 * Adversarial review: the head deadline and the minimum body rate (README "one decision per request",
 * "the head, body-rate and idle timeouts") hold on the relay, but a client can leave the relay at will.
 * One absolute-form request (RFC 9112 §3.2.2), an HTTP/1.0 request or an Upgrade header hands the
 * connection to the proxy's hand-over server for good, and every proxy whose backend is https, PROXY
 * protocol or the local API hands its connections over after their first request. From then on the
 * connection is a byte pipe whose only clock is the idle timeout, which every dripped byte restarts, and
 * the hand-over server (Bun.serve, idleTimeout 0) has none: a slowloris head or a slow-POST body lives
 * as long as the client keeps dripping. These tests drip after a hand-over and expect the same cut the
 * relay makes (decision-defects.test.ts §4 and §5 prove it there).
 *
 * Timings: head deadline 500 ms, body rate 2,000 B/s checked per 500 ms window, idle timeout 300 s (so
 * the idle timeout can never be what closes the connection here).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { ServerOptions } from '../../src/server.ts'
import { startEchoBackend } from '../fixtures/backends.ts'
import { inTurnOn, openClient, readReplies, type RawClient } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import type { Scheme } from '../support/edge-clients.ts'

const READ_DEADLINE_MS = 500
const MIN_BODY_BYTES_PER_SEC = 2_000
/** Generous upper bound for a timer firing on a loaded CI machine. */
const SLACK_MS = 1_500
const SCHEMES: Scheme[] = ['http', 'https']

let edge: TestEdge
let echo: ReturnType<typeof startEchoBackend>

beforeAll(async () => {
  const timings = { readDeadlineMs: READ_DEADLINE_MS, idleTimeoutSec: 300, minBodyBytesPerSec: MIN_BODY_BYTES_PER_SEC } as ServerOptions['edge']
  edge = await startTestEdge({}, timings)
  echo = startEchoBackend()
  await edge.createProxy('a.test', `http://127.0.0.1:${echo.port}`)
})
afterAll(async () => {
  await edge.stop()
  echo.stop(true)
})

/** Milliseconds until the edge closes the connection, or -1 if it is still open after `limitMs` (the client is then closed). */
async function closedWithin(client: RawClient, sinceMs: number, limitMs: number): Promise<number> {
  try {
    await client.until((_, isClosed) => isClosed, 'the edge to close the connection', limitMs)
    return performance.now() - sinceMs
  } catch {
    return -1
  } finally {
    client.close()
  }
}

/** A connection already handed over: its first request was absolute-form, which only the hand-over server reads. */
async function handedOver(scheme: Scheme): Promise<RawClient> {
  const client = await openClient(edge, scheme, 'a.test')
  const [first] = await inTurnOn(client, [`GET ${scheme}://a.test/first HTTP/1.1\r\nHost: a.test\r\n\r\n`])
  expect(first!.status).toBe(200)
  return client
}

describe('review: the head deadline after a hand-over', () => {
  for (const scheme of SCHEMES) {
    test.concurrent(`${scheme}: a second head dripped at 1 byte per 200 ms on a handed-over connection is closed about 500 ms after its first byte`, async () => {
      const client = await handedOver(scheme)
      const startedAt = performance.now()
      // 60 bytes at 200 ms would take 12 s; the relay cuts the same drip at 500 ms.
      void (async () => {
        for (const byte of 'GET /second HTTP/1.1\r\nHost: a.test\r\nX-Slow: 12345678901234567890') {
          if (client.isClosed()) return
          client.write(byte)
          await Bun.sleep(200)
        }
      })()
      const livedMs = await closedWithin(client, startedAt, READ_DEADLINE_MS + SLACK_MS)
      expect(livedMs).not.toBe(-1)
    }, 8_000)
  }
})

describe('review: the minimum body rate after a hand-over', () => {
  for (const scheme of SCHEMES) {
    test.concurrent(`${scheme}: a body dripped at about 100 B/s on a handed-over request is cut, and the backend never answers it`, async () => {
      const client = await openClient(edge, scheme, 'a.test')
      // Absolute-form: the hand-over server reads this request and its body.
      client.write(`POST ${scheme}://a.test/slow-body HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100000\r\n\r\n`)
      const startedAt = performance.now()
      void (async () => {
        while (!client.isClosed()) {
          client.write('x'.repeat(10))
          await Bun.sleep(100)
        }
      })()
      const livedMs = await closedWithin(client, startedAt, 2 * READ_DEADLINE_MS + SLACK_MS)
      expect(livedMs).not.toBe(-1)
      expect(readReplies(client.received(), ['POST'], true).filter((reply) => reply.status === 200)).toEqual([])
    }, 8_000)
  }
})
