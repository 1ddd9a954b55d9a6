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

test('the edge counts an open relayed connection, and a handed-over one with its hand-off (so the checks below can fail)', async () => {
  const relayed = await openRaw(edge.httpPort)
  relayed.write('GET / HTTP/1.1\r\nHost: leak.test\r\n\r\n')
  await relayed.waitForBytes(1)
  expect(stats()).toMatchObject({ connections: 1, handoffs: 0 })
  relayed.close()
  await settled('after one relayed connection')

  // HTTP/1.0 goes to the instance's full server; its body is still due, so the pair stays open.
  const handedOver = await openRaw(edge.httpPort)
  handedOver.write('POST / HTTP/1.0\r\nHost: leak.test\r\nContent-Length: 10\r\n\r\n')
  await waitFor(() => stats().handoffs === 1, { what: 'the hand-off entry of the handed-over connection' })
  expect(stats()).toMatchObject({ connections: 1, handoffs: 1 })
  handedOver.close()
  await settled('after one handed-over connection')
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
    const texts = answers.map((bytes) => Buffer.from(bytes).toString('latin1').slice(0, 12))
    expect(texts.slice(0, 3)).toEqual(['HTTP/1.1 404', 'HTTP/1.1 400', 'HTTP/1.1 400'])
    // RFC 8446 §6.2: an unknown SNI fails the handshake with a fatal alert record; plain HTTP on the TLS port just closes.
    expect([...answers[3]!.subarray(0, 6)]).toEqual([0x15, 0x03, 0x03, 0x00, 0x02, 0x02])
    expect(texts[4]).toBe('')
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
