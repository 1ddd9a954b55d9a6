/**
 * Header captures (#12 "Debugging an incident") fed by real traffic: a capture started through the API
 * for one host catches the requests the relay forwards and those the hand-over server forwards, with
 * credentials, cookies and secret query parameters masked, and nothing for other hosts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { waitFor } from '../support/ports.ts'

let edge: TestEdge
let backend: ReturnType<typeof Bun.serve>

interface Exchange {
  readonly method: string
  readonly target: string
  readonly status: number
  readonly request_headers: [string, string][]
  readonly response_headers: [string, string][]
}

const SECRET = `secret-${crypto.randomUUID()}`

beforeAll(async () => {
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('ok', { headers: { 'set-cookie': `sid=${SECRET}`, 'x-backend': 'yes' } }) })
  edge = await startTestEdge()
  await edge.createProxy('cap.test', `http://127.0.0.1:${backend.port}`)
  await edge.createProxy('quiet.test', `http://127.0.0.1:${backend.port}`)
  await waitFor(async () => (await fetch(`http://127.0.0.1:${edge.httpPort}/`, { headers: { host: 'cap.test' } })).status === 200, { what: 'cap.test' })
})
afterAll(async () => {
  await edge.stop()
  backend.stop(true)
})

/** One raw HTTP/1.0 request: the relay hands it over, and the hand-over server forwards it. */
async function http10(path: string, host: string, lines: string): Promise<string> {
  const { promise, resolve } = Promise.withResolvers<string>()
  let text = ''
  await Bun.connect({
    hostname: '127.0.0.1',
    port: edge.httpPort,
    socket: {
      open: (socket) => void socket.write(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\n${lines}\r\n`),
      data: (_socket, bytes) => void (text += bytes.toString()),
      close: () => resolve(text),
      error: () => resolve(text),
    },
  })
  return promise
}

describe('a header capture fed by the data plane', () => {
  test('catches the relay\'s and the hand-over server\'s exchanges for its host only, masked', async () => {
    const started = await edge.api('POST', '/logs/capture', { host: 'cap.test', duration: 60, max_requests: 10 })
    expect(started.status).toBe(201)
    const { id } = (await started.json()) as { id: string }

    const relayed = await fetch(`http://127.0.0.1:${edge.httpPort}/relay?access_token=${SECRET}&x=1`, { headers: { host: 'cap.test', authorization: `Bearer ${SECRET}`, cookie: `a=${SECRET}`, 'x-trace': 'one' } })
    expect(relayed.status).toBe(200)
    expect(await http10(`/handed?code=${SECRET}`, 'cap.test', `Authorization: Bearer ${SECRET}\r\nX-Trace: two\r\n`)).toStartWith('HTTP/1.1 200')
    expect((await fetch(`http://127.0.0.1:${edge.httpPort}/other`, { headers: { host: 'quiet.test' } })).status).toBe(200)

    const read = await waitFor(async () => {
      const response = await edge.api('GET', `/logs/capture/${id}`)
      const body = (await response.json()) as { exchanges: Exchange[] }
      return body.exchanges.length >= 2 ? { text: JSON.stringify(body), exchanges: body.exchanges } : null
    }, { what: 'two captured exchanges' })
    expect(read.text).not.toContain(SECRET)
    const byTarget = new Map(read.exchanges.map((exchange) => [exchange.target.split('?')[0], exchange]))
    expect([...byTarget.keys()].sort()).toEqual(['/handed', '/relay'])
    const relay = byTarget.get('/relay')!
    expect(relay).toMatchObject({ method: 'GET', status: 200, target: '/relay?access_token=***&x=1' })
    expect(relay.request_headers).toContainEqual(['authorization', '***'])
    expect(relay.request_headers).toContainEqual(['cookie', '***'])
    expect(relay.request_headers).toContainEqual(['x-trace', 'one'])
    expect(relay.response_headers).toContainEqual(['set-cookie', '***'])
    expect(relay.response_headers).toContainEqual(['x-backend', 'yes'])
    const handed = byTarget.get('/handed')!
    expect(handed).toMatchObject({ method: 'GET', status: 200, target: '/handed?code=***' })
    expect(handed.request_headers).toContainEqual(['authorization', '***'])
    expect(handed.request_headers).toContainEqual(['x-trace', 'two'])
  })
})
