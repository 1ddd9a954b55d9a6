/**
 * Bodies stream through the edge (DESIGN §3.1, §3.2): a 200 MiB upload and a 200 MiB download pass the
 * HTTP dispatcher and the instance's forwarder with exact byte counts, while the server process (a
 * child, so its RSS is its own) grows by less than 80 MiB. The receiving end reads at a paced 100 MiB/s,
 * well below what the sender can push over loopback, so a hop that ignored backpressure would pile up
 * most of the body and grow by far more than the limit.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import type { Server } from 'bun'
import { streamOfBytes } from '../fixtures/backends.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { cleanupSpawned, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

const MIB = 1024 * 1024
const BODY_BYTES = 200 * MIB
/**
 * Garbage between collections is counted too: 12-39 MiB on a quiet machine, 53 MiB once in a loaded
 * CI run. A hop that ignores backpressure holds 472 MiB, so 80 MiB still tells the two apart.
 */
const MAX_GROWTH_BYTES = 80 * MIB
const SAMPLE_INTERVAL_MS = 100
const CONSUMER_BYTES_PER_SEC = 100 * MIB
const HOST = 'stream.test'

let server: ServedProcess
let backend: Server<undefined>
let httpPort: number

/**
 * /bytes/N streams N bytes; any other path counts the request body's bytes, reading at a paced rate.
 * Like the echo fixture, but Bun.serve's default 128 MiB request body limit is lifted, so the backend
 * itself accepts 200 MiB.
 */
function startCountingBackend(): Server<undefined> {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    async fetch(request) {
      const [, route, arg] = new URL(request.url).pathname.split('/')
      if (route === 'bytes') return new Response(streamOfBytes(Number(arg)), { headers: { 'content-type': 'application/octet-stream' } })
      const pace = createPace(CONSUMER_BYTES_PER_SEC)
      let bodyBytes = 0
      if (request.body) for await (const chunk of request.body) await pace((bodyBytes += chunk.length))
      return Response.json({ bodyBytes })
    },
  })
}

beforeAll(async () => {
  backend = startCountingBackend()
  httpPort = await freePort()
  // Every chunk read from a socket is a fresh buffer that is garbage once written on. Bun's GC timer
  // (1 s by default) collects it, and how much JSC collects earlier depends on the heap, so the code
  // loaded (Docker client, UI, …) moved the peak from 20-34 to 33-96 MiB with no byte buffered: with
  // a 100 ms timer it is 17-20 MiB. A hop that ignored backpressure holds the bytes live, which no
  // collection frees (472 MiB when the relay's pause is removed), so the bound measures buffering.
  const env = await serveEnv({ HTTP_PORT: String(httpPort), HTTPS_PORT: String(await freePort()), LISTEN_ADDRESS: '127.0.0.1', LOG_LEVEL: 'warn', BUN_GC_TIMER_INTERVAL: '100' })
  server = await startServe({ env })
  const issued = await runCli(['token', 'issue', '--user', 'stream-test', '--scope', 'admin'], { env })
  if (issued.code !== 0) throw new Error(`token issue failed: ${issued.stderr}`)
  const created = await fetch(`${server.url}/proxy/targets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${issued.stdout.trim()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ proxy_hostname: HOST, target_url: `http://127.0.0.1:${backend.port}`, enable_https: false }),
  })
  if (created.status !== 201) throw new Error(`creating ${HOST} failed: ${created.status} ${await created.text()}`)
  await waitFor(async () => (await throughEdge('/bytes/1')).status === 200, { what: `${HOST} through the dispatcher` })
  // Warm the path (JIT, socket buffers, allocator pools) so the baseline is not a cold process.
  await upload(4 * MIB)
  await download(4 * MIB)
})

afterAll(async () => {
  backend?.stop(true)
  await cleanupSpawned()
})

function throughEdge(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${httpPort}${path}`, { ...init, headers: { host: HOST, ...init.headers } })
}

async function upload(bytes: number): Promise<{ bodyBytes: number }> {
  const response = await throughEdge('/upload', { method: 'POST', body: streamOfBytes(bytes), duplex: 'half' } as RequestInit)
  expect(response.status).toBe(200)
  return (await response.json()) as { bodyBytes: number }
}

/** Counts the body as it arrives, at a paced rate; the client never holds more than one chunk. */
async function download(bytes: number): Promise<number> {
  const response = await throughEdge(`/bytes/${bytes}`)
  expect(response.status).toBe(200)
  const pace = createPace(CONSUMER_BYTES_PER_SEC)
  let received = 0
  for await (const chunk of response.body!) await pace((received += chunk.length))
  return received
}

/**
 * A slow reader: given the bytes read so far, waits until reading them at this rate would have taken
 * that long. A fixed delay, not a wait for a condition: the point is to read slower than the sender.
 */
function createPace(bytesPerSec: number): (bytesSoFar: number) => Promise<void> {
  const startedMs = performance.now()
  return async (bytesSoFar) => {
    const aheadMs = (bytesSoFar / bytesPerSec) * 1000 - (performance.now() - startedMs)
    if (aheadMs > 1) await Bun.sleep(aheadMs)
  }
}

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(match[1]) * 1024
}

/** Runs the transfer while sampling the server's RSS; returns the result and the largest growth seen. */
async function measureGrowth<T>(transfer: () => Promise<T>): Promise<{ result: T; baselineMiB: number; peakGrowthMiB: number }> {
  Bun.gc(true)
  const baseline = rssBytes(server.proc.pid)
  let peak = baseline
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(server.proc.pid))), SAMPLE_INTERVAL_MS)
  try {
    const result = await transfer()
    peak = Math.max(peak, rssBytes(server.proc.pid))
    return { result, baselineMiB: baseline / MIB, peakGrowthMiB: (peak - baseline) / MIB }
  } finally {
    clearInterval(sampler)
  }
}

test('a 200 MiB upload streams through the HTTP dispatcher: the backend counts every byte, server RSS grows < 80 MiB', async () => {
  const { result, baselineMiB, peakGrowthMiB } = await measureGrowth(() => upload(BODY_BYTES))
  console.log(`upload: server RSS ${baselineMiB.toFixed(1)} MiB before, peak growth ${peakGrowthMiB.toFixed(1)} MiB`)
  expect(result.bodyBytes).toBe(BODY_BYTES)
  expect(peakGrowthMiB).toBeLessThan(MAX_GROWTH_BYTES / MIB)
}, 30_000)

test('a 200 MiB download streams through the HTTP dispatcher: the client counts every byte, server RSS grows < 80 MiB', async () => {
  const { result, baselineMiB, peakGrowthMiB } = await measureGrowth(() => download(BODY_BYTES))
  console.log(`download: server RSS ${baselineMiB.toFixed(1)} MiB before, peak growth ${peakGrowthMiB.toFixed(1)} MiB`)
  expect(result).toBe(BODY_BYTES)
  expect(peakGrowthMiB).toBeLessThan(MAX_GROWTH_BYTES / MIB)
}, 30_000)
