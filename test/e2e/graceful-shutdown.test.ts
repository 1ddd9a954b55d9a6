/**
 * Graceful shutdown (#15) on a real `serve` process (SHUTDOWN_DRAIN=3s). SIGTERM under a load loop of
 * keep-alive requests fails none in flight: each is answered, with `connection: close` (RFC 9112 §9.6),
 * and only connections opened after the listeners closed fail (refused, counted apart). An SSE stream
 * through a proxy gets its last event: the backend's events keep flowing during the drain until the
 * backend ends the stream, and the client sees every event, the final one and the stream's proper end.
 * A WebSocket keeps working during the drain and is closed with 1001 at its end; a request longer than
 * the drain is cut at it; the process exits 0 within the drain + 1 s. After a restart on the same
 * DATA_DIR, every answered request has its record. With nothing under way the process exits without
 * waiting for the drain, and a proxy created just before SIGTERM is there after the restart.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { openWebSocket, viaHttp } from '../support/edge-clients.ts'
import { startKeepAliveLoad } from '../support/keep-alive-load.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { cleanupSpawned, isPortClosed, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

const DRAIN_SEC = 3
const HOST = 'drain.test'
/** How long the backend takes to answer each request of the load loop. */
const SLOW_MS = 100
/** The SSE stream: this many events, one every EVENT_EVERY_MS, then a final one and the end. */
const SSE_EVENTS = 8
const EVENT_EVERY_MS = 150

let backend: ReturnType<typeof startBackend>
let env: Record<string, string>
let ports: { httpPort: number; httpsPort: number; apiPort: number }
let served: ServedProcess
let token: string

function sseStream(events: number, everyMs: number): Response {
  const encoder = new TextEncoder()
  let timer: Timer | undefined
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let sent = 0
      timer = setInterval(() => {
        sent++
        if (sent <= events) return controller.enqueue(encoder.encode(`id: ${sent}\ndata: event ${sent}\n\n`))
        clearInterval(timer)
        controller.enqueue(encoder.encode('event: final\ndata: the last one\n\n'))
        controller.close()
      }, everyMs)
    },
    cancel: () => clearInterval(timer),
  })
  return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store' } })
}

function startBackend() {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(request, server) {
      const { pathname } = new URL(request.url)
      if (pathname === '/ws') return server.upgrade(request) ? undefined : new Response('upgrade expected', { status: 400 })
      if (pathname === '/slow') return Bun.sleep(SLOW_MS).then(() => new Response('x'.repeat(1024)))
      if (pathname === '/long') return Bun.sleep(60_000).then(() => new Response('too late'))
      if (pathname === '/sse') return sseStream(SSE_EVENTS, EVENT_EVERY_MS)
      return new Response('ready')
    },
    websocket: { message: (socket, message) => void socket.send(message) },
  })
}

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${served.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

async function createProxy(hostname: string): Promise<void> {
  const response = await api('POST', '/proxy/targets', { proxy_hostname: hostname, target_url: `http://127.0.0.1:${backend.port}`, enable_https: false })
  expect(response.status).toBe(201)
}

const serves = (hostname: string) => async () => (await (await viaHttp(ports, hostname, '/')).text()) === 'ready'

/** Reads an SSE response to its end: the events' data lines, and how it ended. */
async function readEvents(response: Response, onEvent: (data: string) => void): Promise<{ events: string[]; ended: 'end' | string }> {
  const events: string[] = []
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let text = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return { events, ended: 'end' }
      text += decoder.decode(value, { stream: true })
      let boundary = text.indexOf('\n\n')
      while (boundary !== -1) {
        const data = text.slice(0, boundary).split('\n').find((line) => line.startsWith('data: '))?.slice(6) ?? ''
        events.push(data)
        onEvent(data)
        text = text.slice(boundary + 2)
        boundary = text.indexOf('\n\n')
      }
    }
  } catch (error) {
    return { events, ended: String(error) }
  }
}

beforeAll(async () => {
  backend = startBackend()
  ports = { httpPort: await freePort(), httpsPort: await freePort(), apiPort: await freePort() }
  env = await serveEnv({
    API_PORT: String(ports.apiPort),
    HTTP_PORT: String(ports.httpPort),
    HTTPS_PORT: String(ports.httpsPort),
    LISTEN_ADDRESS: '127.0.0.1',
    SHUTDOWN_DRAIN: `${DRAIN_SEC}s`,
    LOG_LEVEL: 'warn',
    ...isolatedPortRanges(),
  })
  served = await startServe({ env })
  const issued = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin'], { env })
  if (issued.code !== 0) throw new Error(`token issue exited ${issued.code}: ${issued.stderr}`)
  token = issued.stdout.trim()
  await createProxy(HOST)
  await waitFor(serves(HOST), { what: `${HOST} served` })
}, 60_000)

afterAll(async () => {
  await cleanupSpawned()
  backend.stop(true)
})

describe('SIGTERM on a server under load', () => {
  let loadOk = 0

  test('no request in flight fails; the SSE stream gets its last event; a WebSocket is served until the drain ends (1001); a longer request is cut at the drain; exit 0 within the drain + 1 s', async () => {
    const load = startKeepAliveLoad({ port: ports.httpPort, host: HOST, path: '/slow', clients: 6 })
    let signalAtMs = 0
    const sinceSignal = () => performance.now() - signalAtMs
    const eventTimes: number[] = []
    const sse = viaHttp(ports, HOST, '/sse').then((response) => readEvents(response, () => eventTimes.push(signalAtMs === 0 ? -1 : sinceSignal())))
    const long = viaHttp(ports, HOST, '/long').then(
      (response) => ({ cutAfterMs: NaN, status: response.status }),
      () => ({ cutAfterMs: sinceSignal(), status: 0 }),
    )
    const socket = await openWebSocket(ports, 'http', HOST, [], '/ws')
    socket.socket.send('before')
    expect(await socket.next()).toBe('before')
    const closed = socket.closed.then((close) => ({ ...close, afterMs: sinceSignal() }))
    await waitFor(() => load.tally.ok >= 24 && eventTimes.length >= 1, { what: 'the load loop and the SSE stream under way' })

    signalAtMs = performance.now()
    served.proc.kill('SIGTERM')
    const exited = served.proc.exited.then((code) => ({ code, afterMs: sinceSignal() }))

    // The listeners stop accepting at once: the public one and the API's.
    await waitFor(async () => (await isPortClosed(ports.httpPort)) && (await isPortClosed(ports.apiPort)), { timeoutMs: 1_000, what: 'the listeners closed' })
    // The WebSocket still works during the drain.
    await Bun.sleep(Math.max(0, 1_000 - sinceSignal()))
    socket.socket.send('during the drain')
    expect(await socket.next()).toBe('during the drain')

    const exit = await exited
    await load.stop()
    const stream = await sse
    const cut = await long
    const close = await closed
    console.log(`load: ${JSON.stringify(load.tally)}; exit after ${exit.afterMs.toFixed(0)} ms; SSE events after SIGTERM at ${eventTimes.filter((ms) => ms >= 0).map((ms) => ms.toFixed(0)).join(', ')} ms`)

    expect(load.tally.inFlightFailed).toBe(0)
    expect(load.tally.details).toEqual([])
    // Each client's last answer said it was the last on its connection, and new connections were refused.
    expect(load.tally.closedByServer).toBe(6)
    expect(load.tally.refused + load.tally.freshReset).toBeGreaterThan(0)
    loadOk = load.tally.ok

    expect(stream.ended).toBe('end')
    expect(stream.events).toEqual([...Array.from({ length: SSE_EVENTS }, (_, i) => `event ${i + 1}`), 'the last one'])
    expect(eventTimes.filter((ms) => ms >= 0).length).toBeGreaterThanOrEqual(2)

    expect(close.code).toBe(1001)
    expect(close.afterMs).toBeGreaterThanOrEqual(DRAIN_SEC * 1000 - 100)
    expect(cut.status).toBe(0)
    expect(cut.cutAfterMs).toBeGreaterThanOrEqual(DRAIN_SEC * 1000 - 100)
    expect(cut.cutAfterMs).toBeLessThanOrEqual((DRAIN_SEC + 1) * 1000)

    expect(exit.code).toBe(0)
    expect(exit.afterMs).toBeLessThanOrEqual((DRAIN_SEC + 1) * 1000)
  }, 30_000)

  test('after a restart on the same store, every answered request has its record', async () => {
    expect(loadOk).toBeGreaterThan(0)
    served = await startServe({ env })
    const response = await api('GET', `/logs/stats?host=${HOST}&path=/slow&from=1h`)
    expect(response.status).toBe(200)
    const stats = (await response.json()) as { requests: number; status: Record<string, number> }
    expect(stats.status['200']).toBe(loadOk)
    const streamed = await api('GET', `/logs/search?host=${HOST}&path=/sse&from=1h`)
    expect(streamed.status).toBe(200)
    const { records } = (await streamed.json()) as { records: { status: number }[] }
    expect(records.map((record) => record.status)).toEqual([200])
  }, 30_000)
})

describe('SIGTERM with nothing under way', () => {
  test('exits 0 without waiting for the drain, and a proxy created just before is there after a restart', async () => {
    await createProxy('late.test')
    const signalAtMs = performance.now()
    served.proc.kill('SIGTERM')
    const code = await served.proc.exited
    const afterMs = performance.now() - signalAtMs
    expect(code).toBe(0)
    expect(afterMs).toBeLessThan(DRAIN_SEC * 1000)

    served = await startServe({ env })
    const found = await api('GET', '/proxy/targets/late.test')
    expect(found.status).toBe(200)
    await waitFor(serves('late.test'), { what: 'late.test served after the restart' })
  }, 30_000)
})
