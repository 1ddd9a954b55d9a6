/**
 * `serve --workers N` (#15) on real processes: a primary and N workers sharing the public ports and the
 * API's through SO_REUSEPORT. Both workers take connections (the API says which node answered, the
 * request log which node served); each has its own instance servers, and the client hand-off works on
 * both; a change made through the API reaches every worker within a second, on the embedded store
 * (relayed by the primary) and on Redis (each worker a node on the stream); a worker killed with SIGKILL
 * during a load loop is started again while the others keep serving (the failures are the requests that
 * were on it, reported); SIGTERM to the primary drains every worker and exits 0. The compiled executable
 * starts its workers too (its argv differs from `bun src/main.ts`).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { buildBinary } from '../support/binary.ts'
import { viaHttp, viaHttps } from '../support/edge-clients.ts'
import { httpFrom } from '../support/http-from.ts'
import { startKeepAliveLoad } from '../support/keep-alive-load.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { cleanupSpawned, makeTempDir, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

/** The acceptance bound: a change made through one worker is live on every worker within this. */
const CONVERGENCE_MS = 1_000
const DRAIN_SEC = 2
const NODE_ID = 'edge'
const WORKER_NODES = ['edge-w1', 'edge-w2']

let backend: ReturnType<typeof startBackend>

/** Answers 'ready', or after 50 ms on /slow; echoes the client address the edge forwarded on /who. */
function startBackend() {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const { pathname } = new URL(request.url)
      if (pathname === '/slow') return Bun.sleep(50).then(() => new Response('slow'))
      if (pathname === '/who') return new Response(request.headers.get('x-forwarded-for') ?? '')
      return new Response('ready')
    },
  })
}

interface Cluster {
  readonly served: ServedProcess
  readonly env: Record<string, string>
  readonly ports: { httpPort: number; httpsPort: number; apiPort: number }
  readonly token: string
  api(method: string, path: string, body?: unknown): Promise<Response>
}

async function startCluster(extra: Record<string, string>, args: string[] = ['serve', '--workers', '2']): Promise<Cluster> {
  const ports = { httpPort: await freePort(), httpsPort: await freePort(), apiPort: await freePort() }
  const env = await serveEnv({
    API_PORT: String(ports.apiPort),
    HTTP_PORT: String(ports.httpPort),
    HTTPS_PORT: String(ports.httpsPort),
    LISTEN_ADDRESS: '127.0.0.1',
    NODE_ID,
    SHUTDOWN_DRAIN: `${DRAIN_SEC}s`,
    ...isolatedPortRanges(),
    ...extra,
  })
  const served = await startServe({ env, args, timeoutMs: 30_000 })
  // Every worker up before the test starts (the primary says so once all of them serve).
  await waitFor(() => served.stderrText().includes('"serving with workers"'), { timeoutMs: 30_000, what: 'every worker serving' })
  const issued = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin'], { env })
  if (issued.code !== 0) throw new Error(`token issue exited ${issued.code}: ${issued.stderr}`)
  const token = issued.stdout.trim()
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${served.url}${path}`, {
      method,
      keepalive: false,
      headers: { authorization: `Bearer ${token}`, connection: 'close', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  return { served, env, ports, token, api }
}

/** Which nodes answer GET /system/info over `tries` fresh connections to the API port. */
async function apiNodes(cluster: Cluster, tries = 30): Promise<Set<string>> {
  const nodes = new Set<string>()
  for (let i = 0; i < tries; i++) {
    const response = await cluster.api('GET', '/system/info')
    expect(response.status).toBe(200)
    nodes.add(((await response.json()) as { node_id: string }).node_id)
  }
  return nodes
}

/** The pids the primary logged for each worker, in start order. */
function workerPids(stderr: string): Map<number, number[]> {
  const pids = new Map<number, number[]>()
  for (const line of stderr.split('\n')) {
    if (!line.includes('"worker started"')) continue
    const { worker, pid } = JSON.parse(line) as { worker: number; pid: number }
    pids.set(worker, [...(pids.get(worker) ?? []), pid])
  }
  return pids
}

/**
 * Creates (or deletes) through the API, then asks fresh connections until 20 in a row answer as the
 * change says; returns how long after the API's answer the last contrary one came.
 */
async function convergence(cluster: Cluster, host: string, change: () => Promise<void>, isApplied: (text: string, status: number) => boolean): Promise<number> {
  await change()
  const appliedAtMs = performance.now()
  let lastContraryMs = 0
  for (let inARow = 0; inARow < 20; ) {
    const response = await viaHttp(cluster.ports, host, '/')
    if (isApplied(await response.text(), response.status)) inARow++
    else {
      inARow = 0
      lastContraryMs = performance.now() - appliedAtMs
    }
    if (performance.now() - appliedAtMs > 10_000) throw new Error(`${host}: not applied on every worker after 10 s`)
  }
  return lastContraryMs
}

const isProcessGone = (pid: number) => {
  try {
    process.kill(pid, 0)
    return false
  } catch {
    return true
  }
}

beforeAll(() => {
  backend = startBackend()
})
afterAll(async () => {
  await cleanupSpawned()
  backend.stop(true)
})

describe('serve --workers 2 on the embedded store', () => {
  let cluster: Cluster

  beforeAll(async () => {
    cluster = await startCluster({ LOG_LEVEL: 'info' })
  }, 60_000)

  test('both workers answer the API (one port), each a node of its own; the primary serves nothing itself', async () => {
    expect(await apiNodes(cluster)).toEqual(new Set(WORKER_NODES))
    const pids = workerPids(cluster.served.stderrText())
    expect([...pids.keys()].sort()).toEqual([1, 2])
    expect(pids.get(1)![0]).not.toBe(cluster.served.proc.pid)
  }, 30_000)

  test('a proxy created through any worker is served by every worker within a second, and its deletion too', async () => {
    const created = await convergence(cluster, 'w.test', async () => {
      const response = await cluster.api('POST', '/proxy/targets', { proxy_hostname: 'w.test', target_url: `http://127.0.0.1:${backend.port}`, enable_https: true })
      expect(response.status).toBe(201)
    }, (text) => text === 'ready')
    expect(created).toBeLessThan(CONVERGENCE_MS)
    // HTTPS too: both workers' TLS terminators share the port and serve the proxy's certificate.
    let httpsInARow = 0
    await waitFor(async () => ((await (await viaHttps(cluster.ports, 'w.test', '/')).text()) === 'ready' ? ++httpsInARow >= 20 : ((httpsInARow = 0), false)), { timeoutMs: 10_000, what: 'w.test over HTTPS on every worker' })
    // Both served it: the request log names the node of each request (records are written within about a second).
    for (const node of WORKER_NODES) {
      await waitFor(async () => {
        const found = await cluster.api('GET', `/logs/search?host=w.test&node=${node}&from=1h`)
        expect(found.status).toBe(200)
        return ((await found.json()) as { records: unknown[] }).records.length > 0
      }, { timeoutMs: 5_000, what: `requests served by ${node}` })
    }
    // Every worker has its own instance servers, and the hand-off gives each the real client address.
    for (let i = 0; i < 20; i++) {
      const reply = await httpFrom('127.0.0.2', cluster.ports.httpPort, { path: '/who', host: 'w.test', version: '1.0' })
      expect(`${reply.status} ${reply.body}`).toBe('200 127.0.0.2')
    }
    const deleted = await convergence(cluster, 'w.test', async () => {
      expect((await cluster.api('DELETE', '/proxy/targets/w.test')).status).toBeOneOf([200, 204])
    }, (text, status) => status === 404 && text !== 'ready')
    expect(deleted).toBeLessThan(CONVERGENCE_MS)
  }, 60_000)

  test('a worker killed with SIGKILL during a load loop is started again, and the others keep serving', async () => {
    const created = await cluster.api('POST', '/proxy/targets', { proxy_hostname: 'load.test', target_url: `http://127.0.0.1:${backend.port}`, enable_https: false })
    expect(created.status).toBe(201)
    await waitFor(async () => (await (await viaHttp(cluster.ports, 'load.test', '/')).text()) === 'ready', { what: 'load.test served' })
    const load = startKeepAliveLoad({ port: cluster.ports.httpPort, host: 'load.test', path: '/slow', clients: 8, retryMs: 10 })
    await waitFor(() => load.tally.ok >= 80, { timeoutMs: 15_000, what: 'the load loop under way' })

    const victim = workerPids(cluster.served.stderrText()).get(1)!.at(-1)!
    process.kill(victim, 'SIGKILL')
    const killedAtMs = performance.now()
    const okAtKill = load.tally.ok
    await waitFor(() => isProcessGone(victim), { what: 'the killed worker gone' })
    // The others keep serving meanwhile: answers go on before the new worker is up.
    await waitFor(() => load.tally.ok >= okAtKill + 40, { timeoutMs: 10_000, what: 'answers after the kill' })
    const restarted = await waitFor(() => workerPids(cluster.served.stderrText()).get(1)!.find((pid) => pid !== victim), { timeoutMs: 15_000, what: 'worker 1 started again' })
    await waitFor(async () => (await apiNodes(cluster, 10)).size === 2, { timeoutMs: 15_000, what: 'the new worker 1 answering' })
    const okAfterRestart = load.tally.ok
    await waitFor(() => load.tally.ok >= okAfterRestart + 40, { timeoutMs: 10_000, what: 'answers after the restart' })
    await load.stop()
    const failed = load.tally.inFlightFailed + load.tally.freshReset
    console.log(`worker 1 (pid ${victim}) killed; replaced by pid ${restarted} within ${(performance.now() - killedAtMs).toFixed(0)} ms; load: ${JSON.stringify(load.tally)}`)
    expect(restarted).not.toBe(victim)
    // Only what was on the killed worker fails: at most a request per client connection, and nothing is refused.
    expect(load.tally.refused).toBe(0)
    expect(failed).toBeLessThanOrEqual(8)
    expect(cluster.served.stderrText()).toContain('"worker exited; starting it again"')
  }, 90_000)

  test('SIGTERM to the primary drains every worker: no request in flight fails, exit 0 within the drain + 1 s', async () => {
    const load = startKeepAliveLoad({ port: cluster.ports.httpPort, host: 'load.test', path: '/slow', clients: 6 })
    await waitFor(() => load.tally.ok >= 30, { timeoutMs: 15_000, what: 'the load loop under way' })
    const pids = [...workerPids(cluster.served.stderrText()).values()].map((started) => started.at(-1)!)
    const signalAtMs = performance.now()
    cluster.served.proc.kill('SIGTERM')
    const code = await cluster.served.proc.exited
    const afterMs = performance.now() - signalAtMs
    await load.stop()
    console.log(`primary exit ${code} after ${afterMs.toFixed(0)} ms; load: ${JSON.stringify(load.tally)}`)
    expect(load.tally.inFlightFailed).toBe(0)
    expect(load.tally.details).toEqual([])
    expect(code).toBe(0)
    expect(afterMs).toBeLessThanOrEqual((DRAIN_SEC + 1) * 1000)
    expect(pids.every(isProcessGone)).toBe(true)
  }, 30_000)
})

describe('a worker that cannot start', () => {
  test('stops the whole start-up: the primary exits 1 and the failure names the setting', async () => {
    // Held without SO_REUSEPORT, the port cannot be shared.
    const holder = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    try {
      const env = await serveEnv({ HTTP_PORT: String(holder.port), HTTPS_PORT: String(await freePort()), LISTEN_ADDRESS: '127.0.0.1', WORKERS: '2', ...isolatedPortRanges() })
      const result = await runCli(['serve'], { env, timeoutMs: 30_000 })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('HTTP_PORT')
      expect(result.stderr).toContain('"a worker failed to start; stopping"')
    } finally {
      holder.stop(true)
    }
  }, 40_000)
})

describe('serve --workers 2 on Redis', () => {
  let redis: TestRedis

  beforeAll(async () => {
    redis = await startRedis()
  }, 30_000)
  afterAll(async () => {
    await cleanupSpawned()
    await redis?.stop()
  })

  test('each worker is a node on the event stream: a proxy created through any of them is served by all within a second', async () => {
    // WORKERS in the environment this time, the flag above.
    const cluster = await startCluster({ REDIS_URL: redis.url, WORKERS: '2', LOG_LEVEL: 'info' }, ['serve'])
    expect(await apiNodes(cluster)).toEqual(new Set(WORKER_NODES))
    const created = await convergence(cluster, 'r.test', async () => {
      const response = await cluster.api('POST', '/proxy/targets', { proxy_hostname: 'r.test', target_url: `http://127.0.0.1:${backend.port}`, enable_https: false })
      expect(response.status).toBe(201)
    }, (text) => text === 'ready')
    expect(created).toBeLessThan(CONVERGENCE_MS)
    expect(await cluster.served.stop()).toBe(0)
  }, 60_000)
})

describe('the compiled executable', () => {
  test('WORKERS=2 starts both workers from the executable itself', async () => {
    const binary = join(makeTempDir('ohp-workers-bin-'), 'oauth-https-proxy')
    await buildBinary(binary)
    const ports = { apiPort: await freePort(), httpPort: await freePort(), httpsPort: await freePort() }
    const env = await serveEnv({ API_PORT: String(ports.apiPort), HTTP_PORT: String(ports.httpPort), HTTPS_PORT: String(ports.httpsPort), LISTEN_ADDRESS: '127.0.0.1', NODE_ID, WORKERS: '2', LOG_LEVEL: 'info', ...isolatedPortRanges() })
    const proc = Bun.spawn([binary, 'serve'], { env, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' })
    let stderr = ''
    void (async () => {
      for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk)
    })()
    try {
      await waitFor(() => stderr.includes('"serving with workers"'), { timeoutMs: 30_000, what: `the binary's workers serving: ${stderr}` })
      const issued = Bun.spawnSync([binary, 'token', 'issue', '--user', 'alice', '--scope', 'admin'], { env, stdout: 'pipe', stderr: 'pipe' })
      expect(issued.exitCode).toBe(0)
      const token = issued.stdout.toString().trim()
      const nodes = new Set<string>()
      for (let i = 0; i < 30; i++) {
        const response = await fetch(`http://127.0.0.1:${ports.apiPort}/system/info`, { keepalive: false, headers: { authorization: `Bearer ${token}`, connection: 'close' } })
        expect(response.status).toBe(200)
        nodes.add(((await response.json()) as { node_id: string }).node_id)
      }
      expect(nodes).toEqual(new Set(WORKER_NODES))
      proc.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL')
    }
  }, 120_000)
})
