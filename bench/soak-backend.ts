/**
 * @module The soak run's backend, in a process of its own so that it can flap: killed (its listener and
 * every connection gone, as in a crash or a deploy) and started again on the same port. Run as
 * `bun bench/soak-backend.ts PORT`; the bench drives it through startSoakBackend.
 *
 * What it answers, so that the client can check every answer is its own:
 * - `GET /r/<id>`: `<id>` and a newline, then 1 KiB;
 * - `GET /big/<id>`: the same line, then 64 KiB;
 * - `POST /echo`: the request body;
 * - `GET /sse`: an event stream, one event every 100 ms with a sequence number and the send time;
 * - `/ws`: a WebSocket that echoes every message;
 * - `GET /`: 200, for the readiness check.
 */
import { waitFor } from './net.ts'

export const SSE_INTERVAL_MS = 100
const SMALL = 'a'.repeat(1024)
const BIG = 'b'.repeat(64 * 1024)

export interface SoakBackend {
  readonly port: number
  readonly url: string
  /** Kills the process: the port refuses connections until start(). */
  stop(): Promise<void>
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>
}

export async function startSoakBackend(port: number): Promise<SoakBackend> {
  let proc: ReturnType<typeof Bun.spawn> | null = null
  const start = async () => {
    proc = Bun.spawn([process.execPath, import.meta.path, String(port)], { stdin: 'ignore', stdout: 'ignore', stderr: 'inherit' })
    const spawned = proc
    await waitFor(
      async () => {
        if (spawned.exitCode !== null) throw new Error(`soak backend exited ${spawned.exitCode}`)
        return await accepts(port)
      },
      { what: `soak backend on ${port}`, intervalMs: 10 },
    )
  }
  const stop = async () => {
    if (!proc) return
    proc.kill('SIGKILL')
    await proc.exited
    proc = null
  }
  await start()
  return { port, url: `http://127.0.0.1:${port}`, start, stop }
}

async function accepts(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
    socket.end()
    return true
  } catch {
    return false
  }
}

/** The child process: serves until killed. */
function serve(port: number): void {
  Bun.serve<undefined, never>({
    hostname: '127.0.0.1',
    port,
    // SSE streams and quiet pooled connections are the proxy's business; the backend never times them out.
    idleTimeout: 0,
    async fetch(request, server) {
      const url = request.url
      const path = url.slice(url.indexOf('/', 8))
      if (path.startsWith('/r/')) return new Response(`${path.slice(3)}\n${SMALL}`)
      if (path.startsWith('/big/')) return new Response(`${path.slice(5)}\n${BIG}`)
      if (path === '/echo') return new Response(await request.arrayBuffer())
      if (path === '/sse') return eventStream()
      if (path === '/ws') return server.upgrade(request) ? undefined : new Response('websocket only', { status: 426 })
      return new Response(path === '/' ? 'soak backend' : 'not found', { status: path === '/' ? 200 : 404 })
    },
    websocket: {
      message(ws, message) {
        ws.send(message)
      },
    },
  })
}

/** `id: N` and `data: <send time, epoch ms>` every SSE_INTERVAL_MS, until the client goes away. */
function eventStream(): Response {
  let timer: ReturnType<typeof setInterval> | undefined
  let sequence = 0
  const body = new ReadableStream<string>({
    start(controller) {
      const send = () => controller.enqueue(`id: ${sequence++}\ndata: ${Date.now()}\n\n`)
      send()
      timer = setInterval(() => {
        try {
          send()
        } catch {
          clearInterval(timer)
        }
      }, SSE_INTERVAL_MS)
    },
    cancel() {
      clearInterval(timer)
    },
  })
  return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
}

if (import.meta.main) serve(Number(process.argv[2]))
