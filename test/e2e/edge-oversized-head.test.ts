/**
 * RFC 6585 §5: a request head larger than the edge reads (16 KiB) gets 431 Request Header Fields Too
 * Large, with its reason phrase and error code, then the connection closes — over plain HTTP and inside
 * TLS alike (the relay hands such a head to its lenient reader, which answers).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTaggedBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { parseResponses, tcpExchange, tlsExchange } from '../support/edge-clients.ts'

let edge: TestEdge
let backend: ReturnType<typeof startTaggedBackend>
beforeAll(async () => {
  edge = await startTestEdge()
  backend = startTaggedBackend('backend')
  await edge.createProxy('big.test', `http://127.0.0.1:${backend.port}`)
})
afterAll(async () => {
  await edge.stop()
  backend.stop(true)
})

const oversized = `GET / HTTP/1.1\r\nHost: big.test\r\nX-Filler: ${'a'.repeat(20 * 1024)}\r\n\r\n`

describe('RFC 6585 §5: an oversized request head', () => {
  test('plain HTTP: 431 with its reason phrase and error code, then close', async () => {
    const bytes = await tcpExchange(edge.httpPort, [oversized])
    expect(Buffer.from(bytes).toString('latin1')).toStartWith('HTTP/1.1 431 Request Header Fields Too Large\r\n')
    const [reply] = parseResponses(bytes)
    expect(JSON.parse(reply!.text).error).toBe('request_header_fields_too_large')
  })

  test('inside TLS: the same 431', async () => {
    const { bytes } = await tlsExchange(edge.httpsPort, 'big.test', oversized)
    expect(Buffer.from(bytes).toString('latin1')).toStartWith('HTTP/1.1 431 Request Header Fields Too Large\r\n')
  })
})
