/**
 * DESIGN §3.2: every client connection the dispatchers accept, and the hand-off entry recorded for it,
 * is released when either side closes: after many short connections, refused ones, and clients that
 * vanish mid-response, edge.stats() returns to no connections and no hand-offs.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startEchoBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { captureClientHello, openRaw, parseResponses, tcpExchange, tlsExchange } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'

let edge: TestEdge
let echo: ReturnType<typeof startEchoBackend>

beforeAll(async () => {
  edge = await startTestEdge()
  echo = startEchoBackend()
  await edge.createProxy('leak.test', `http://127.0.0.1:${echo.port}`)
})
afterAll(async () => {
  echo.stop(true)
  await edge.stop()
})

const stats = () => edge.server.edge.stats()

async function settled(what: string) {
  await waitFor(() => stats().connections === 0 && stats().handoffs === 0, { what: `${what}: connections and handoffs back to 0 (now ${JSON.stringify(stats())})` })
  expect({ connections: stats().connections, handoffs: stats().handoffs }).toEqual({ connections: 0, handoffs: 0 })
}

test('the edge counts an open routed connection and its hand-off (so the checks below can fail)', async () => {
  const connection = await openRaw(edge.httpPort)
  connection.write('GET / HTTP/1.1\r\nHost: leak.test\r\n\r\n')
  await connection.waitForBytes(1)
  expect(stats().connections).toBe(1)
  expect(stats().handoffs).toBe(1)
  connection.close()
  await settled('after one connection')
})

test('no leaks after 200 short connections (keep-alive off), HTTP and HTTPS, 20 at a time', async () => {
  const statuses: number[] = []
  const one = async (index: number) => {
    const request = `GET /short/${index} HTTP/1.1\r\nHost: leak.test\r\nConnection: close\r\n\r\n`
    const bytes = index % 2 === 0 ? await tcpExchange(edge.httpPort, [request]) : (await tlsExchange(edge.httpsPort, 'leak.test', request)).bytes
    statuses.push(parseResponses(bytes)[0]!.status)
  }
  for (let batch = 0; batch < 10; batch++) await Promise.all(Array.from({ length: 20 }, (_, n) => one(batch * 20 + n)))
  expect(statuses).toEqual(Array.from({ length: 200 }, () => 200))
  await settled('after 200 short connections')
})

test('no leaks after refused connections: unknown Host, missing Host, unknown SNI, garbage', async () => {
  const unknownHello = await captureClientHello('unknown.test')
  const refusals = () => [
    tcpExchange(edge.httpPort, ['GET / HTTP/1.1\r\nHost: unknown.test\r\n\r\n']),
    tcpExchange(edge.httpPort, ['GET / HTTP/1.1\r\n\r\n']),
    tcpExchange(edge.httpPort, ['\x16\x03\x01 not http at all\r\n\r\n']),
    tcpExchange(edge.httpsPort, [unknownHello]),
    tcpExchange(edge.httpsPort, ['GET / HTTP/1.1\r\nHost: leak.test\r\n\r\n']),
  ]
  for (let round = 0; round < 10; round++) {
    const answers = await Promise.all(refusals())
    // Each was answered (or closed) by the dispatcher itself, never routed.
    expect(answers.map((bytes) => Buffer.from(bytes).toString('latin1').slice(0, 12))).toEqual(['HTTP/1.1 404', 'HTTP/1.1 400', 'HTTP/1.1 400', '\x15\x03\x03\x00\x02\x02\x70', ''])
  }
  await settled('after refusals')
})

test('no leaks when clients vanish mid-response (HTTP and HTTPS) or before sending anything', async () => {
  const vanishing = async (port: number, first: string | Uint8Array) => {
    const connection = await openRaw(port)
    connection.write(first)
    await connection.waitForBytes(1)
    connection.close()
  }
  const big = 'GET /bytes/50000000 HTTP/1.1\r\nHost: leak.test\r\n\r\n'
  await Promise.all(Array.from({ length: 5 }, () => vanishing(edge.httpPort, big)))
  // Over TLS: the ServerHello arrives, then the client is gone mid-handshake.
  await Promise.all(Array.from({ length: 5 }, async () => vanishing(edge.httpsPort, await captureClientHello('leak.test'))))
  await Promise.all(Array.from({ length: 5 }, async () => (await openRaw(edge.httpPort)).close()))
  await settled('after vanishing clients')
})
