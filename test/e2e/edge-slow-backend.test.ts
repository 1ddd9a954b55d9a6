/**
 * A client waiting for a slow backend is not an idle client: while a request waits for its response
 * head, the listener's idle timeout (here 1 s) gives way to the proxy's `upstream_timeout`, so the
 * answer arrives; and past `upstream_timeout` the client gets its 504 (RFC 9110 §15.6.5) rather than a
 * silently closed connection.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { finalReplies, openClient } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

const IDLE_TIMEOUT_SEC = 1
const BACKEND_DELAY_MS = 2_500

let edge: TestEdge
let slow: Server<undefined>

beforeAll(async () => {
  edge = await startTestEdge({}, { idleTimeoutSec: IDLE_TIMEOUT_SEC })
  slow = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch() {
      await Bun.sleep(BACKEND_DELAY_MS)
      return new Response('late but here')
    },
  })
  await edge.createProxy('patient.test', `http://127.0.0.1:${slow.port}`, { upstream_timeout: 5 })
  await edge.createProxy('impatient.test', `http://127.0.0.1:${slow.port}`, { upstream_timeout: 2 })
})
afterAll(async () => {
  slow.stop(true)
  await edge.stop()
})

describe('a request waiting longer than the idle timeout', () => {
  for (const scheme of ['http', 'https'] as const) {
    test(`${scheme}: the answer that comes within upstream_timeout reaches the client`, async () => {
      const client = await openClient(edge, scheme, 'patient.test')
      try {
        client.write('GET /slow HTTP/1.1\r\nHost: patient.test\r\n\r\n')
        const [reply] = await finalReplies(client, ['GET'], 0, BACKEND_DELAY_MS + 3_000)
        expect([reply!.status, Buffer.from(reply!.body).toString()]).toEqual([200, 'late but here'])
      } finally {
        client.close()
      }
    })
  }

  test('http: past upstream_timeout the client gets a 504, not a closed connection', async () => {
    const client = await openClient(edge, 'http', 'impatient.test')
    try {
      client.write('GET /slow HTTP/1.1\r\nHost: impatient.test\r\nAccept: application/json\r\n\r\n')
      const [reply] = await finalReplies(client, ['GET'], 0, BACKEND_DELAY_MS + 3_000)
      expect(reply!.status).toBe(504)
    } finally {
      client.close()
    }
  })
})
