/**
 * From the soak run: Bun gives a listening socket that has a timeout handler a 120 s timeout that
 * traffic does not reset, so every public connection (keep-alive, WebSocket, SSE) was cut at 120 s,
 * however busy. A keep-alive connection in steady use must outlive that.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { waitFor } from '../support/ports.ts'

let edge: TestEdge
let backend: ReturnType<typeof Bun.serve>

beforeAll(async () => {
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('ok') })
  edge = await startTestEdge()
  await edge.createProxy('long.test', `http://127.0.0.1:${backend.port}`)
  await waitFor(async () => (await fetch(`http://127.0.0.1:${edge.httpPort}/`, { headers: { host: 'long.test' } })).status === 200, { what: 'long.test' })
})
afterAll(async () => {
  await edge.stop()
  backend.stop(true)
})

test('one keep-alive connection used every 10 s is still open and served after 130 s', async () => {
  let answers = 0
  let isClosed = false
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port: edge.httpPort,
    socket: {
      data: (_socket, bytes) => void (answers += bytes.toString().split('HTTP/1.1 200').length - 1),
      close: () => void (isClosed = true),
    },
  })
  const sent = 14
  for (let i = 0; i < sent; i++) {
    socket.write('GET / HTTP/1.1\r\nHost: long.test\r\n\r\n')
    await Bun.sleep(10_000)
    expect({ i, isClosed }).toEqual({ i, isClosed: false })
  }
  expect(answers).toBe(sent)
  socket.end()
}, 160_000)
