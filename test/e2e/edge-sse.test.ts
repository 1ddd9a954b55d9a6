/**
 * Streaming through the edge (DESIGN §3.2: nothing is buffered): a server-sent event (WHATWG HTML
 * §9.2) pushed by the backend reaches the client while the stream is still open, over both listeners.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startSseBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { via, type Scheme } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'

let edge: TestEdge
let sse: ReturnType<typeof startSseBackend>

beforeAll(async () => {
  edge = await startTestEdge()
  sse = startSseBackend()
  await edge.createProxy('sse.test', `http://127.0.0.1:${sse.server.port}`)
})
afterAll(async () => {
  sse.server.stop(true)
  await edge.stop()
})

/** Reads until the text received so far contains `wanted`; fails after timeoutMs instead of hanging. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, sofar: { text: string }, wanted: string, timeoutMs = 5_000): Promise<void> {
  const decoder = new TextDecoder()
  const deadline = Date.now() + timeoutMs
  while (!sofar.text.includes(wanted)) {
    const remaining = deadline - Date.now()
    let timer: Timer | undefined
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${JSON.stringify(wanted)} within ${timeoutMs} ms; got ${JSON.stringify(sofar.text)}`)), remaining)))
    const { done, value } = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer))
    if (done) throw new Error(`stream ended before ${JSON.stringify(wanted)}; got ${JSON.stringify(sofar.text)}`)
    sofar.text += decoder.decode(value, { stream: true })
  }
}

for (const scheme of ['http', 'https'] as Scheme[]) {
  test(`${scheme}: each event reaches the client while the backend keeps the stream open; the end reaches it too`, async () => {
    const pending = via(scheme)(edge, 'sse.test', '/events', { headers: { accept: 'text/event-stream' } })
    await waitFor(() => sse.connections() === 1, { what: 'the backend to see the stream request' })
    sse.push('first')
    const response = await pending
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    expect(response.headers.get('content-length')).toBeNull()
    const reader = response.body!.getReader()
    const received = { text: '' }

    await readUntil(reader, received, 'data: first\n\n')
    // The backend has not ended the stream: the event was not held back until the end.
    expect(sse.connections()).toBe(1)
    sse.push(`second over ${scheme}`)
    await readUntil(reader, received, `data: second over ${scheme}\n\n`)
    expect(received.text).toBe(`data: first\n\ndata: second over ${scheme}\n\n`)

    sse.end()
    const rest = await reader.read()
    expect(rest.done).toBe(true)
  })
}
