/**
 * Signals as real deployments send them (#15), on real `serve` processes with slow clients holding
 * connections (slowloris heads on the public and API ports, a body dribbled a byte at a time) and a
 * request in flight that the backend answers within the drain:
 * - a second SIGTERM (a supervisor repeating it), or SIGINT after SIGTERM, does not end the drain: the
 *   request in flight is answered and the process exits 0 within the drain + 1 s (a second SIGTERM used
 *   to kill it at once: exit 143, the request reset);
 * - SIGHUP (the terminal or ssh session gone) drains like SIGTERM, on one process and on the primary of
 *   `--workers 2` (its default ended the primary at once, exit 129, its workers orphaned);
 * - SIGKILL of the primary: its workers close every port within 2 s and exit after their drain, none left;
 * - SIGTERM to the primary while its workers are still loading: exit 0, the stop was asked for (it was
 *   exit 1: a worker killed by that SIGTERM before it listened for it counted as a failure).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { baseEnv, cleanupSpawned, isPortClosed, MAIN, makeTempDir, REPO_ROOT, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

const DRAIN_SEC = 2
/** The backend answers /slow after this, within the drain. */
const SLOW_MS = 1_200
const HOST = 'signals.test'

let backend: ReturnType<typeof Bun.serve>
const spawned: Bun.Subprocess[] = []

interface Server {
  readonly served: ServedProcess
  readonly ports: { httpPort: number; apiPort: number; httpsPort: number }
}

async function startServer(args: string[]): Promise<Server> {
  const ports = { httpPort: await freePort(), httpsPort: await freePort(), apiPort: await freePort() }
  const env = await serveEnv({
    API_PORT: String(ports.apiPort),
    HTTP_PORT: String(ports.httpPort),
    HTTPS_PORT: String(ports.httpsPort),
    LISTEN_ADDRESS: '127.0.0.1',
    NODE_ID: 'sig',
    SHUTDOWN_DRAIN: `${DRAIN_SEC}s`,
    LOG_LEVEL: 'info',
    ...isolatedPortRanges(),
  })
  const served = await startServe({ env, args, timeoutMs: 30_000 })
  if (args.includes('--workers')) await waitFor(() => served.stderrText().includes('"serving with workers"'), { timeoutMs: 30_000, what: 'every worker serving' })
  const issued = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin'], { env })
  expect(issued.code).toBe(0)
  const created = await fetch(`${served.url}/proxy/targets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${issued.stdout.trim()}`, 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({ proxy_hostname: HOST, target_url: `http://127.0.0.1:${backend.port}`, enable_https: false }),
  })
  expect(created.status).toBe(201)
  // Served by every worker (fresh connections land on either).
  let inARow = 0
  await waitFor(async () => ((await getText(ports.httpPort, '/')) === '200 ok' ? ++inARow >= 10 : ((inARow = 0), false)), { timeoutMs: 10_000, what: `${HOST} served` })
  return { served, ports }
}

function getText(port: number, path: string): Promise<string> {
  return fetch(`http://127.0.0.1:${port}${path}`, { keepalive: false, headers: { host: HOST, connection: 'close' } }).then(
    async (response) => `${response.status} ${await response.text()}`,
    (error: Error) => `failed: ${error.message}`,
  )
}

/** Slowloris heads on the public and API ports and a body sent a byte at a time: none ever completes. */
function holdSlowClients(ports: Server['ports']): { close(): void } {
  const sockets: Socket[] = []
  const open = (port: number, first: string) => {
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    socket.write(first)
    sockets.push(socket)
  }
  for (const port of [ports.httpPort, ports.apiPort, ports.httpPort, ports.apiPort]) open(port, `GET / HTTP/1.1\r\nHost: ${HOST}\r\n`)
  open(ports.httpPort, `POST /upload HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 100000\r\n\r\na`)
  const dribble = setInterval(() => {
    for (const [i, socket] of sockets.entries()) if (!socket.destroyed) socket.write(i === sockets.length - 1 ? 'a' : 'X-Slow: 1\r\n')
  }, 200)
  return {
    close() {
      clearInterval(dribble)
      for (const socket of sockets) socket.destroy()
    },
  }
}

/** The pids of the workers the primary logged, the latest of each. */
function workerPids(stderr: string): number[] {
  const pids = new Map<number, number>()
  for (const line of stderr.split('\n')) {
    if (!line.includes('"worker started"')) continue
    const { worker, pid } = JSON.parse(line) as { worker: number; pid: number }
    pids.set(worker, pid)
  }
  return [...pids.values()]
}

const isProcessGone = (pid: number) => {
  try {
    process.kill(pid, 0)
    return false
  } catch {
    return true
  }
}

/**
 * Sends the signals (the later ones 200 ms apart) while slow clients hold connections and /slow is in
 * flight; resolves with the exit code, the time from the first signal to the exit and the request's answer.
 */
async function signalUnderSlowClients(server: Server, signals: NodeJS.Signals[]): Promise<{ code: number; afterMs: number; inFlight: string }> {
  const slow = holdSlowClients(server.ports)
  try {
    const inFlight = getText(server.ports.httpPort, '/slow')
    await Bun.sleep(200)
    const signalAtMs = performance.now()
    for (const [i, signal] of signals.entries()) {
      if (i > 0) await Bun.sleep(200)
      server.served.proc.kill(signal)
    }
    const code = await server.served.proc.exited
    return { code, afterMs: performance.now() - signalAtMs, inFlight: await inFlight }
  } finally {
    slow.close()
  }
}

beforeAll(() => {
  backend = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      if (new URL(request.url).pathname === '/slow') await Bun.sleep(SLOW_MS)
      return new Response(new URL(request.url).pathname === '/slow' ? 'slow' : 'ok')
    },
  })
})
afterAll(async () => {
  for (const proc of spawned) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  await cleanupSpawned()
  backend.stop(true)
})

describe('one process', () => {
  test('a second SIGTERM does not end the drain: the request in flight is answered, exit 0 within the drain + 1 s', async () => {
    const server = await startServer(['serve'])
    const { code, afterMs, inFlight } = await signalUnderSlowClients(server, ['SIGTERM', 'SIGTERM'])
    console.log(`SIGTERM twice: exit ${code} after ${afterMs.toFixed(0)} ms; in flight: ${inFlight}`)
    expect(inFlight).toBe('200 slow')
    expect(code).toBe(0)
    expect(afterMs).toBeLessThanOrEqual((DRAIN_SEC + 1) * 1000)
    expect(server.served.stderrText()).toContain('"already shutting down; the drain goes on"')
  }, 45_000)

  test('SIGHUP drains like SIGTERM, and a SIGINT after it does not end the drain either', async () => {
    const server = await startServer(['serve'])
    const { code, afterMs, inFlight } = await signalUnderSlowClients(server, ['SIGHUP', 'SIGINT'])
    console.log(`SIGHUP then SIGINT: exit ${code} after ${afterMs.toFixed(0)} ms; in flight: ${inFlight}`)
    expect(inFlight).toBe('200 slow')
    expect(code).toBe(0)
    expect(afterMs).toBeLessThanOrEqual((DRAIN_SEC + 1) * 1000)
  }, 45_000)
})

describe('serve --workers 2', () => {
  test('SIGHUP to the primary drains every worker: the request in flight is answered, exit 0 within the drain + 1 s, no worker left', async () => {
    const server = await startServer(['serve', '--workers', '2'])
    const pids = workerPids(server.served.stderrText())
    expect(pids).toHaveLength(2)
    const { code, afterMs, inFlight } = await signalUnderSlowClients(server, ['SIGHUP', 'SIGTERM'])
    console.log(`primary SIGHUP then SIGTERM: exit ${code} after ${afterMs.toFixed(0)} ms; in flight: ${inFlight}`)
    expect(inFlight).toBe('200 slow')
    expect(code).toBe(0)
    expect(afterMs).toBeLessThanOrEqual((DRAIN_SEC + 1) * 1000)
    expect(pids.every(isProcessGone)).toBe(true)
  }, 60_000)

  test('SIGKILL of the primary: the orphaned workers close every port within 2 s and exit after their drain', async () => {
    const server = await startServer(['serve', '--workers', '2'])
    const pids = workerPids(server.served.stderrText())
    const slow = holdSlowClients(server.ports)
    try {
      server.served.proc.kill('SIGKILL')
      await server.served.proc.exited
      const killedAtMs = performance.now()
      const ports = [server.ports.httpPort, server.ports.httpsPort, server.ports.apiPort]
      await waitFor(async () => (await Promise.all(ports.map(isPortClosed))).every(Boolean), { timeoutMs: 2_000, what: 'every port closed' })
      const closedMs = performance.now() - killedAtMs
      // Each notices within a second (worker-link.ts), then drains like a SIGTERM: slow clients hold it to its end.
      await waitFor(() => pids.every(isProcessGone), { timeoutMs: (1 + DRAIN_SEC + 2) * 1000, what: 'the orphaned workers gone' })
      console.log(`primary SIGKILLed: ports closed after ${closedMs.toFixed(0)} ms, workers gone after ${(performance.now() - killedAtMs).toFixed(0)} ms`)
    } finally {
      slow.close()
    }
  }, 60_000)

  test('SIGTERM while the workers are still loading: the primary exits 0 and no worker is left', async () => {
    const env = { ...baseEnv(), DATA_DIR: `${makeTempDir()}/data`, API_PORT: String(await freePort()), HTTP_PORT: String(await freePort()), HTTPS_PORT: String(await freePort()), LISTEN_ADDRESS: '127.0.0.1', SHUTDOWN_DRAIN: `${DRAIN_SEC}s`, ...isolatedPortRanges() }
    const proc = Bun.spawn([process.execPath, MAIN, 'serve', '--workers', '2'], { cwd: REPO_ROOT, env, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' })
    spawned.push(proc)
    let stderr = ''
    void (async () => {
      for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk)
    })()
    // Both spawned, neither ready: they are still loading the program (a second or more).
    await waitFor(() => workerPids(stderr).length === 2, { timeoutMs: 20_000, what: 'both workers started' })
    const pids = workerPids(stderr)
    proc.kill('SIGTERM')
    const code = await proc.exited
    console.log(`SIGTERM during start-up: exit ${code}; ${stderr.includes('"serving with workers"') ? 'after' : 'before'} the workers served`)
    expect(code).toBe(0)
    await waitFor(() => pids.every(isProcessGone), { timeoutMs: (DRAIN_SEC + 2) * 1000, what: 'no worker left' })
  }, 45_000)
})
