/**
 * @module A real haproxy (Debian's /usr/sbin/haproxy, installed by scripts/test-services.sh) in front of
 * the edge, in `mode tcp`: each listener relays bytes untouched (TLS passes through) to one target port,
 * opening the connection with `send-proxy` (PROXY v1), `send-proxy-v2`, or no header at all.
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
  const dir = mkdtempSync(join(tmpdir(), 'ohp-haproxy-'))
  const config = haproxyConfig(withPorts)
  const configPath = join(dir, 'haproxy.cfg')
  writeFileSync(configPath, config)
  const proc = Bun.spawn([HAPROXY_BINARY, '-f', configPath, '-db'], { stdout: 'ignore', stderr: 'pipe' })
  const stop = async () => {
    proc.kill('SIGKILL')
    await proc.exited
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const listener of withPorts) {
      await waitFor(async () => proc.exitCode === null && (await accepts(listener.port)), { timeoutMs: 10_000, what: `haproxy listener ${listener.name} on ${listener.port}` })
    }
  } catch (error) {
    const stderr = proc.exitCode === null ? '' : await new Response(proc.stderr).text()
    await stop()
    throw new Error(`${(error as Error).message}\n${stderr}`)
  }
  return { ports: Object.fromEntries(withPorts.map((listener) => [listener.name, listener.port])), config, stop }
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
