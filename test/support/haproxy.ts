/**
 * @module A real haproxy (Debian's /usr/sbin/haproxy, installed by scripts/test-services.sh) in front of
 * the edge, in `mode tcp`: each listener relays bytes untouched (TLS passes through) to one target port,
 * opening the connection with `send-proxy` (PROXY v1), `send-proxy-v2`, or no header at all. Or haproxy
 * on a whole configuration of the test's (startHaproxyWithConfig), whose servers' states its stats socket
 * tells (haproxyServerStatus).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from './ports.ts'

export const HAPROXY_BINARY = '/usr/sbin/haproxy'

export interface HaproxyListener {
  /** A name for the listener (letters, digits, "-"); also the key in `ports`. */
  readonly name: string
  /** The 127.0.0.1 port haproxy connects to. */
  readonly targetPort: number
  /** haproxy's server options: "send-proxy" for v1, "send-proxy-v2" for v2, nothing for null. */
  readonly proxyProtocol: 'v1' | 'v2' | null
}

export interface TestHaproxy {
  /** Listener name → the 127.0.0.1 port clients connect to. */
  readonly ports: Readonly<Record<string, number>>
  readonly config: string
  stop(): Promise<void>
}

const SERVER_OPTION = { v1: ' send-proxy', v2: ' send-proxy-v2' } as const

export function haproxyConfig(listeners: readonly (HaproxyListener & { readonly port: number })[]): string {
  const sections = listeners.map(
    (listener) => `listen ${listener.name}
  bind 127.0.0.1:${listener.port}
  server s1 127.0.0.1:${listener.targetPort}${listener.proxyProtocol ? SERVER_OPTION[listener.proxyProtocol] : ''}
`,
  )
  // No health checks: haproxy must connect only when a client does.
  return `global
  maxconn 512

defaults
  mode tcp
  timeout connect 2s
  timeout client 30s
  timeout server 30s

${sections.join('\n')}`
}

/** Starts one haproxy process for all listeners, in the foreground (-db), and waits until it accepts connections. */
export async function startHaproxy(listeners: readonly HaproxyListener[]): Promise<TestHaproxy> {
  const withPorts = await Promise.all(listeners.map(async (listener) => ({ ...listener, port: await freePort() })))
  return startHaproxyWithConfig(haproxyConfig(withPorts), Object.fromEntries(withPorts.map((listener) => [listener.name, listener.port])))
}

/** Runs haproxy on a complete configuration; `ports` names the ports it binds, which are waited for. */
export async function startHaproxyWithConfig(config: string, ports: Readonly<Record<string, number>>): Promise<TestHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-haproxy-'))
  const configPath = join(dir, 'haproxy.cfg')
  writeFileSync(configPath, config)
  const proc = Bun.spawn([HAPROXY_BINARY, '-f', configPath, '-db'], { stdout: 'ignore', stderr: 'pipe' })
  const stop = async () => {
    proc.kill('SIGKILL')
    await proc.exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const [name, port] of Object.entries(ports)) {
      await waitFor(async () => proc.exitCode === null && (await accepts(port)), { timeoutMs: 10_000, what: `haproxy listener ${name} on ${port}` })
    }
  } catch (error) {
    const stderr = proc.exitCode === null ? '' : await new Response(proc.stderr).text()
    await stop()
    throw new Error(`${(error as Error).message}\n${stderr}`)
  }
  return { ports, config, stop }
}

/**
 * `show stat` on haproxy's stats socket: the status of each server (UP, DOWN, "UP 1/2" while a check is
 * counting, MAINT...), keyed "backend/server".
 */
export async function haproxyServerStatus(socketPath: string): Promise<Record<string, string>> {
  const text = await new Promise<string>((resolve, reject) => {
    let received = ''
    Bun.connect({
      unix: socketPath,
      socket: {
        open: (socket) => void socket.write('show stat\n'),
        data: (_socket, bytes) => void (received += bytes.toString()),
        close: () => resolve(received),
        error: (_socket, error) => reject(error),
      },
    }).catch(reject)
  })
  // CSV with a "# pxname,svname,...,status,..." header line.
  const [header = '', ...rows] = text.split('\n')
  const columns = header.replace(/^# /, '').split(',')
  const at = (name: string) => columns.indexOf(name)
  const status: Record<string, string> = {}
  for (const row of rows) {
    const cells = row.split(',')
    const [backend, server] = [cells[at('pxname')], cells[at('svname')]]
    if (backend && server && server !== 'FRONTEND' && server !== 'BACKEND') status[`${backend}/${server}`] = cells[at('status')] ?? ''
  }
  return status
}

/** A connection check that sends nothing; haproxy then opens and closes its server side without data. */
async function accepts(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
    socket.end()
    return true
  } catch {
    return false
  }
}
