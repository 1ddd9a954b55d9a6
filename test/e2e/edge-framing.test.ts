/**
 * DESIGN §3.1: the dispatcher peeks until it has the whole ClientHello or request head, however the
 * bytes were cut into TCP segments (RFC 9293 gives no message boundaries), and then routes: a
 * ClientHello or request head arriving in many small writes reaches the right instance.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startEchoBackend, startTaggedBackend, type EchoReport } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { captureClientHello, httpsGet, openRaw, parseResponses } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'

/** RFC 8446 §5.1 ContentType handshake, §4 HandshakeType server_hello. */
const HANDSHAKE_RECORD = 0x16
const SERVER_HELLO = 0x02

let edge: TestEdge
let alpha: ReturnType<typeof startTaggedBackend>
let beta: ReturnType<typeof startTaggedBackend>
let echo: ReturnType<typeof startEchoBackend>
/** The DER of each hostname's certificate, as a normal TLS client sees it. */
const certificates = new Map<string, Buffer>()

beforeAll(async () => {
  edge = await startTestEdge()
  alpha = startTaggedBackend('alpha')
  beta = startTaggedBackend('beta')
  echo = startEchoBackend()
  await edge.createProxy('alpha.test', `http://127.0.0.1:${alpha.port}`)
  await edge.createProxy('beta.test', `http://127.0.0.1:${beta.port}`)
  await edge.createProxy('echo.test', `http://127.0.0.1:${echo.port}`)
  for (const host of ['alpha.test', 'beta.test']) certificates.set(host, (await httpsGet(edge.httpsPort, host)).certificate.raw)
})
afterAll(async () => {
  for (const backend of [alpha, beta, echo]) backend.stop(true)
  await edge.stop()
})

describe('a ClientHello split over many TCP writes', () => {
  for (const [version, size] of [['TLSv1.3', 5], ['TLSv1.2', 5], ['TLSv1.2', 1]] as const) {
    test(`${version} in ${size}-byte writes: the dispatcher routes it and the instance answers with a ServerHello`, async () => {
      const hello = await captureClientHello('alpha.test', version)
      expect(hello.length).toBeGreaterThan(size * 20)
      const connection = await openRaw(edge.httpsPort)
      try {
        await connection.trickle(hello, size, 1)
        const answer = await connection.waitForBytes(6)
        expect([answer[0], answer[5]]).toEqual([HANDSHAKE_RECORD, SERVER_HELLO])
        if (version === 'TLSv1.2') {
          // TLS 1.2 sends the Certificate in the clear: it must be alpha.test's, so the split hello reached alpha's instance.
          const alphaDer = certificates.get('alpha.test')!
          await waitFor(() => Buffer.from(connection.received()).includes(alphaDer), { what: "alpha.test's certificate in the handshake" })
          expect(Buffer.from(connection.received()).includes(certificates.get('beta.test')!)).toBe(false)
        }
        expect(connection.isClosed()).toBe(false)
      } finally {
        connection.close()
      }
    })
  }

  test('the split ClientHello for another name reaches that name (beta.test certificate)', async () => {
    const connection = await openRaw(edge.httpsPort)
    try {
      await connection.trickle(await captureClientHello('beta.test', 'TLSv1.2'), 5, 1)
      await waitFor(() => Buffer.from(connection.received()).includes(certificates.get('beta.test')!), { what: "beta.test's certificate" })
    } finally {
      connection.close()
    }
  })
})

describe('an HTTP request head split over many TCP writes', () => {
  for (const size of [1, 2, 3, 7]) {
    test(`${size}-byte writes: routed by its Host, delivered to the backend intact`, async () => {
      const body = 'hello world'
      const request =
        `POST /split/${size}?q=1&r=two HTTP/1.1\r\nHost: echo.test\r\nX-Piece: a-b-c\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`
      const connection = await openRaw(edge.httpPort)
      await connection.trickle(request, size, 1)
      await connection.closed
      const [reply, ...rest] = parseResponses(connection.received())
      expect(rest).toHaveLength(0)
      expect(reply!.status).toBe(200)
      const report = JSON.parse(reply!.text) as EchoReport
      const url = new URL(report.url)
      expect({ method: report.method, path: url.pathname + url.search, piece: report.headers['x-piece'], bodyBytes: report.bodyBytes }).toEqual({
        method: 'POST',
        path: `/split/${size}?q=1&r=two`,
        piece: 'a-b-c',
        bodyBytes: body.length,
      })
    })
  }

  test('a head whose Host line arrives last still goes to that Host (beta, not alpha)', async () => {
    const connection = await openRaw(edge.httpPort)
    await connection.trickle('GET / HTTP/1.1\r\nAccept: */*\r\nConnection: close\r\nHost: beta.test\r\n\r\n', 4, 1)
    await connection.closed
    const [reply] = parseResponses(connection.received())
    expect([reply!.status, reply!.text, reply!.headers['x-backend']]).toEqual([200, 'beta', 'beta'])
  })
})
