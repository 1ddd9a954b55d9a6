/**
 * @module The real CLI as a child process: `startServe` boots `src/main.ts` with a minimal environment,
 * waits until /health answers and captures stderr; `runCli` runs a short command to completion.
 * Every process and temp dir made here is tracked, so `cleanupSpawned()` in afterEach leaves nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { freePort, waitFor } from './ports.ts'

export const REPO_ROOT = resolve(import.meta.dir, '../..')
export const MAIN = join(REPO_ROOT, 'src/main.ts')

/** Only what a shell always has: the tests prove that nothing else is needed. */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir() }
}

const tempDirs = new Set<string>()
const running = new Set<Bun.Subprocess>()

export function makeTempDir(prefix = 'ohp-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.add(dir)
  return dir
}

/** PATH, HOME, a free API_PORT and a fresh DATA_DIR, plus `extra`. */
export async function serveEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  // Port 0 for the public listeners: several servers may run at once, and 80/443 may be taken.
  return { ...baseEnv(), API_PORT: String(await freePort()), HTTP_PORT: '0', HTTPS_PORT: '0', DATA_DIR: join(makeTempDir(), 'data'), ...extra }
}

export interface ServeOptions {
  /** The complete environment of the child (use baseEnv()/serveEnv() to build it). */
  readonly env: Record<string, string>
  /** Arguments after src/main.ts; default ['serve']. */
  readonly args?: readonly string[]
  readonly cwd?: string
  /** Words before the bun executable, e.g. ['setpriv', '--reuid=65534', ...]. */
  readonly prefix?: readonly string[]
  readonly timeoutMs?: number
}

export interface ServedProcess {
  readonly url: string
  readonly port: number
  readonly proc: Bun.Subprocess<'ignore', 'ignore', 'pipe'>
  stderrText(): string
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>
}

/** Spawns the server; resolves once GET /health gives any HTTP answer; rejects (with stderr) if it exits first. */
export async function startServe(options: ServeOptions): Promise<ServedProcess> {
  const args = options.args ?? ['serve']
  const port = apiPortOf(options.env, args)
  const proc = Bun.spawn([...(options.prefix ?? []), process.execPath, MAIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  })
  running.add(proc)
  const stderr = collect(proc.stderr)
  const url = `http://127.0.0.1:${port}`
  let exited = false
  void proc.exited.then(() => (exited = true))
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`server exited with ${proc.exitCode} before answering: ${stderr.text()}`)
        const response = await fetch(`${url}/health`)
        await response.body?.cancel()
        return true
      },
      { timeoutMs: options.timeoutMs ?? 15_000, what: `/health on ${url}` },
    )
  } catch (error) {
    proc.kill('SIGKILL')
    throw new Error(`${(error as Error).message}\n--- stderr ---\n${stderr.text()}`)
  }
  return {
    url,
    port,
    proc,
    stderrText: stderr.text,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      proc.kill(signal)
      const code = await proc.exited
      running.delete(proc)
      return code
    },
  }
}

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `bun src/main.ts ...args` to completion (killed after timeoutMs). */
export async function runCli(args: readonly string[], options: { env: Record<string, string>; cwd?: string; prefix?: readonly string[]; timeoutMs?: number }): Promise<CliResult> {
  const proc = Bun.spawn([...(options.prefix ?? []), process.execPath, MAIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  running.add(proc)
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 20_000)
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return { code, stdout, stderr }
  } finally {
    clearTimeout(timer)
    running.delete(proc)
  }
}

/** Kills every process still running and removes every temp dir; call from afterEach/afterAll. */
export async function cleanupSpawned(): Promise<void> {
  const procs = [...running]
  running.clear()
  for (const proc of procs) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  await Promise.all(procs.map((proc) => proc.exited))
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  tempDirs.clear()
}

/** Lines of output without blank ones; ANSI colour codes removed. */
export function lines(text: string): string[] {
  return stripAnsi(text).split('\n').filter((line) => line.trim() !== '')
}

export function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '')
}

/** True when nothing accepts TCP connections on 127.0.0.1:port. */
export async function isPortClosed(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })
    socket.end()
    return false
  } catch {
    return true
  }
}

function apiPortOf(env: Record<string, string>, args: readonly string[]): number {
  const flag = args.indexOf('--api-port')
  const raw = flag >= 0 ? args[flag + 1] : env.API_PORT || '9000'
  return Number(raw)
}

function collect(stream: ReadableStream<Uint8Array>): { text: () => string } {
  let text = ''
  const decoder = new TextDecoder()
  void (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true })
  })().catch(() => {})
  return { text: () => text }
}
