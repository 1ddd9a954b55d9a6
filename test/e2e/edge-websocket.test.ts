/**
 * RFC 6455 through the edge, over ws:// and wss://: frames keep their type and bytes, the client sees
 * the subprotocol the backend chose (§4.2.2), close codes and reasons cross in both directions
 * (§7.1.5), and once every session is over the dispatchers hold nothing (no connections, no hand-offs).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startRecordingWebSocketBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { openWebSocket, type Scheme } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'

const SCHEMES: Scheme[] = ['http', 'https']

let edge: TestEdge
let backend: ReturnType<typeof startRecordingWebSocketBackend>

beforeAll(async () => {
  edge = await startTestEdge()
  backend = startRecordingWebSocketBackend()
  await edge.createProxy('ws.test', `http://127.0.0.1:${backend.server.port}`)
})
afterAll(async () => {
  backend.server.stop(true)
  await edge.stop()
})

function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length)
  for (let at = 0; at < length; at += 65_536) crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65_536, length)))
  return bytes
}

for (const scheme of SCHEMES) {
  describe(`${scheme === 'http' ? 'ws' : 'wss'}://`, () => {
    test('text frames round-trip as text, binary frames as identical bytes', async () => {
      const client = await openWebSocket(edge, scheme, 'ws.test')
      try {
        for (const text of ['hello', 'ünïcødé ✓', '', 'x'.repeat(70_000)]) {
          client.socket.send(text)
          expect(await client.next()).toBe(text)
        }
        for (const size of [1, 125, 126, 65_536, 300_000]) {
          const bytes = randomBytes(size)
          client.socket.send(bytes)
          const echoed = await client.next()
          expect(echoed).toBeInstanceOf(ArrayBuffer)
          expect(Buffer.from(echoed as ArrayBuffer).equals(Buffer.from(bytes))).toBe(true)
        }
      } finally {
        client.socket.close()
      }
    })

    test('RFC 6455 §4.2.2: the client sees the subprotocol the backend chose (chat.v2)', async () => {
      const offered = await openWebSocket(edge, scheme, 'ws.test', ['chat.v1', 'chat.v2'])
      expect(offered.socket.protocol).toBe('chat.v2')
      offered.socket.close()
      const single = await openWebSocket(edge, scheme, 'ws.test', ['other'])
      expect(single.socket.protocol).toBe('other')
      single.socket.close()
      const none = await openWebSocket(edge, scheme, 'ws.test')
      expect(none.socket.protocol).toBe('')
      none.socket.close()
    })

    test("RFC 6455 §7.1.5: the backend's close code 4001 and reason 'bye' reach the client", async () => {
      const client = await openWebSocket(edge, scheme, 'ws.test', ['chat.v2'])
      client.socket.send('close:4001:bye')
      expect(await client.closed).toEqual({ code: 4001, reason: 'bye' })
    })

    test("RFC 6455 §7.1.5: the client's close code and reason reach the backend", async () => {
      const client = await openWebSocket(edge, scheme, 'ws.test')
      client.socket.send('ping')
      expect(await client.next()).toBe('ping')
      const code = scheme === 'http' ? 4002 : 4003
      client.socket.close(code, `client-bye-${scheme}`)
      await waitFor(() => backend.closes.some((close) => close.code === code), { what: `close ${code} at the backend` })
      expect(backend.closes.filter((close) => close.code === code)).toEqual([{ code, reason: `client-bye-${scheme}` }])
      expect((await client.closed).code).toBe(code)
    })
  })
}

test('sessions on both listeners at once stay separate', async () => {
  const clients = await Promise.all(SCHEMES.flatMap((scheme) => [0, 1, 2].map(async (n) => ({ name: `${scheme}-${n}`, client: await openWebSocket(edge, scheme, 'ws.test') }))))
  for (const { name, client } of clients) client.socket.send(name)
  for (const { name, client } of clients) expect(await client.next()).toBe(name)
  // While they are open the edge accounts for them, so the leak check below can fail.
  expect(edge.server.edge.stats().connections).toBeGreaterThanOrEqual(clients.length)
  expect(edge.server.edge.stats().handoffs).toBeGreaterThanOrEqual(clients.length)
  for (const { client } of clients) client.socket.close(1000)
  await Promise.all(clients.map(({ client }) => client.closed))
})

test('no leaks: after the WebSocket sessions the dispatchers hold no connections and no hand-offs', async () => {
  const stats = await waitFor(() => {
    const now = edge.server.edge.stats()
    return now.connections === 0 && now.handoffs === 0 ? now : null
  }, { what: `connections and handoffs back to 0 (now ${JSON.stringify(edge.server.edge.stats())})` })
  expect({ connections: stats.connections, handoffs: stats.handoffs }).toEqual({ connections: 0, handoffs: 0 })
})
