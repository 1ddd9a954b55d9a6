/**
 * @module Our server as the user runs it: `bun src/main.ts serve` in its own process (so its RSS is its
 * own), on free loopback ports and a temp DATA_DIR, driven through the management API with a token
 * from `token issue` (DESIGN §6: how the first admin gets in).
 */
import { join, resolve } from 'node:path'
import { freePort, rssMiB, waitFor } from './net.ts'

const MAIN = resolve(import.meta.dir, '../src/main.ts')

export interface OurServerEnv {
  readonly env: Record<string, string>
  /** The src/main.ts to run (another checkout's, to compare versions); this one's when absent. */
  readonly main?: string
  readonly apiUrl: string
  readonly httpPort: number
  readonly httpsPort: number
}

export interface OurServer {
  readonly pid: number
  /** When the process was spawned (performance.now()), for start-up timings. */
  readonly spawnedAtMs: number
  rssMiB(): number
  /** What the server logged so far (LOG_LEVEL=warn: warnings and errors), summarised by message. */
  logSummary(): string
  stop(): Promise<void>
}

export interface Api {
  request(method: string, path: string, body?: unknown): Promise<Response>
  createProxy(hostname: string, targetUrl: string): Promise<void>
  /** The loopback ports of one proxy's instances, from GET /ports. */
  instancePorts(hostname: string): Promise<{ http?: number; https?: number }>
}

/** Free ports and a DATA_DIR under `dir`; `extra` adds settings such as wider PROXY_*_PORTS ranges. */
export async function ourServerEnv(dir: string, extra: Record<string, string> = {}): Promise<OurServerEnv> {
  const [apiPort, httpPort, httpsPort] = [await freePort(), await freePort(), await freePort()]
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? dir,
    API_PORT: String(apiPort),
    HTTP_PORT: String(httpPort),
    HTTPS_PORT: String(httpsPort),
    LISTEN_ADDRESS: '127.0.0.1',
    DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'warn',
    ...extra,
  }
  return { env, apiUrl: `http://127.0.0.1:${apiPort}`, httpPort, httpsPort }
}

/** Spawns `serve` and resolves once /health answers. */
export async function startOurServer(setup: OurServerEnv): Promise<OurServer> {
  const spawnedAtMs = performance.now()
  const proc = Bun.spawn([process.execPath, setup.main ?? MAIN, 'serve'], { env: setup.env, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' })
  const log = collectText(proc.stderr)
  let exited = false
  void proc.exited.then(() => (exited = true))
  await waitFor(async () => {
    if (exited) throw new Error(`serve exited ${proc.exitCode}: ${log.text()}`)
    const response = await fetch(`${setup.apiUrl}/health`)
    await response.body?.cancel()
    return true
  }, { what: 'serve /health', timeoutMs: 60_000 })
  return {
    pid: proc.pid,
    spawnedAtMs,
    rssMiB: () => rssMiB(proc.pid),
    logSummary: () => summariseLog(log.text()),
    async stop() {
      if (proc.exitCode !== null) return
      proc.kill('SIGTERM')
      await proc.exited
    },
  }
}

/** `bun src/main.ts token issue --user bench --scope admin` with the server's DATA_DIR and API_PORT. */
export async function issueAdminToken(setup: OurServerEnv): Promise<string> {
  const proc = Bun.spawn([process.execPath, setup.main ?? MAIN, 'token', 'issue', '--user', 'bench', '--scope', 'admin', '--ttl', '1d'], { env: setup.env, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`token issue exited ${code}: ${stderr}`)
  return stdout.trim()
}

export function createApi(setup: OurServerEnv, token: string): Api {
  const request = (method: string, path: string, body?: unknown) =>
    fetch(`${setup.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  return {
    request,
    async createProxy(hostname, targetUrl) {
      const response = await request('POST', '/proxy/targets', { proxy_hostname: hostname, target_url: targetUrl, enable_https: true })
      if (response.status !== 201) throw new Error(`creating ${hostname}: ${response.status} ${await response.text()}`)
    },
    async instancePorts(hostname) {
      const response = await request('GET', '/ports')
      if (response.status !== 200) throw new Error(`GET /ports: ${response.status} ${await response.text()}`)
      const assignments = (await response.json()) as { hostname: string; http?: number; https?: number }[]
      const found = assignments.find((assignment) => assignment.hostname === hostname)
      if (!found) throw new Error(`GET /ports: no assignment for ${hostname}`)
      return found
    },
  }
}

function collectText(stream: ReadableStream<Uint8Array>): { text(): string } {
  let text = ''
  const decoder = new TextDecoder()
  void (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true })
  })().catch(() => {})
  return { text: () => text }
}

/** "3 lines: upstream failed ×2, instance error ×1" from JSON log lines (other lines are counted as they are). */
function summariseLog(text: string): string {
  const counts = new Map<string, number>()
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  for (const line of lines) {
    let message = line
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string; detail?: string }
      message = `${entry.level} "${entry.msg}"${entry.detail ? ` (${entry.detail})` : ''}`
    } catch {
      // not JSON: counted verbatim
    }
    counts.set(message, (counts.get(message) ?? 0) + 1)
  }
  return lines.length === 0 ? 'nothing' : `${lines.length} lines: ${[...counts].map(([message, count]) => `${message} ×${count}`).join(', ')}`
}
