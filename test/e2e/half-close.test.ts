/** RFC 9112 §9.6: a client may send its request and then half-close; it still gets its response. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startEchoBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

let edge: TestEdge
let backend: ReturnType<typeof startEchoBackend>
beforeAll(async () => {
  edge = await startTestEdge()
  backend = startEchoBackend()
  await edge.createProxy('halfclose.test', `http://127.0.0.1:${backend.port}`)
})
afterAll(async () => {
  backend.stop(true)
  await edge.stop()
})

test('a request followed at once by FIN is answered, and the connection then closes', async () => {
  let received = ''
  const closed = Promise.withResolvers<void>()
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port: edge.httpPort,
    allowHalfOpen: true,
    socket: {
      data: (_, bytes) => void (received += new TextDecoder().decode(bytes)),
      close: () => closed.resolve(),
    },
  })
  socket.write('GET /slow/50 HTTP/1.1\r\nHost: halfclose.test\r\n\r\n')
  socket.shutdown()
  await closed.promise
  expect(received).toStartWith('HTTP/1.1 200')
  expect(received).toContain('"method":"GET"')
}, 15_000)
