/**
 * @module Spawns a certificate-manager node (cert-node-process.ts) that trusts a test Pebble, and drives it:
 * `node.manager` has the CertificateManager interface, each call crossing to the process; its events and
 * log output are collected for assertions. Errors thrown there arrive as Errors with the same name, kind
 * and field.
 */
import { join } from 'node:path'
import type { CertificateManager, CertificateManagerConfig, CertificateTiming } from '../../src/certs/index.ts'
import type { AppEvent } from '../../src/events/index.ts'
import { waitFor } from './ports.ts'

export interface CertNodeConfig {
  readonly nodeId: string
  readonly store: { kind: 'embedded'; dataDir: string } | { kind: 'redis'; url: string; namespace: string }
  readonly manager: CertificateManagerConfig
  readonly timing?: Partial<CertificateTiming>
}

export interface CertNode {
  readonly manager: CertificateManager
  /** Moves the node's clock forward (renewal tests). */
  advanceClockMs(ms: number): Promise<void>
  /** How often acme-client re-sent a request after the CA rejected its nonce (badNonce, RFC 8555 §6.5). */
  badNonceRetries(): Promise<number>
  /** Events the node's bus delivered to it, in order. */
  events(): AppEvent[]
  /** Everything the process wrote (stdout and stderr): events, log lines, crashes. */
  output(): string
  /** The node's log lines, parsed. */
  logs(): Record<string, unknown>[]
  stop(): Promise<void>
}

/** Test timings: quick polls, the default 250 ms for the challenge event to spread. */
export const FAST_TIMING: Partial<CertificateTiming> = { pollMinMs: 100, pollMaxMs: 500, pollAttempts: 40, orderTimeoutMs: 60_000 }

export async function startCertNode(options: { config: CertNodeConfig; caCertPath: string }): Promise<CertNode> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, 'cert-node-process.ts')], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: options.caCertPath, CERT_NODE_CONFIG: JSON.stringify(options.config) },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const stdoutLines: string[] = []
  const stderrLines: string[] = []
  readLines(proc.stdout, stdoutLines)
  readLines(proc.stderr, stderrLines)
  const port = await waitFor(
    () => {
      if (proc.exitCode !== null) throw new Error(`cert node exited: ${stderrLines.join('\n')}`)
      for (const line of stdoutLines) if (line.startsWith('{"ready"')) return (JSON.parse(line) as { ready: number }).ready
      return null
    },
    { what: 'cert node', timeoutMs: 15_000 },
  )

  async function call(method: string, args: unknown[]): Promise<unknown> {
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify({ method, args }) })
    const body = (await response.json()) as { result?: unknown; error?: { name: string; kind?: string; field?: string; message: string } }
    if (body.error) throw Object.assign(new Error(body.error.message), { name: body.error.name, kind: body.error.kind, field: body.error.field })
    return body.result
  }
  const manager = new Proxy({} as CertificateManager, {
    get: (_, method: string) => (...args: unknown[]) => call(method, args),
  })
  return {
    manager,
    advanceClockMs: async (ms) => void (await call('advanceClockMs', [ms])),
    badNonceRetries: async () => (await call('badNonceRetries', [])) as number,
    events: () => stdoutLines.filter((line) => line.startsWith('{"event"')).map((line) => (JSON.parse(line) as { event: AppEvent }).event),
    output: () => [...stdoutLines, ...stderrLines].join('\n'),
    logs: () => stderrLines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>]
      } catch {
        return []
      }
    }),
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      await proc.exited
      clearTimeout(timer)
    },
  }
}

function readLines(stream: ReadableStream<Uint8Array>, into: string[]): void {
  const decoder = new TextDecoder()
  let partial = ''
  void (async () => {
    for await (const chunk of stream) {
      const lines = (partial + decoder.decode(chunk, { stream: true })).split('\n')
      partial = lines.pop() ?? ''
      into.push(...lines.filter(Boolean))
    }
    if (partial) into.push(partial)
  })().catch(() => {})
}
