/**
 * @module The CLI as a child process whose output can be watched while it runs (login prints a code
 * and waits): `spawnCli` tracks every process, `stopCliProcesses()` in afterEach/afterAll ends them.
 */
import { MAIN, REPO_ROOT } from '../support/serve.ts'
import { waitFor } from '../support/ports.ts'

export interface CliProcess {
  readonly proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>
  stdout(): string
  stderr(): string
  /** Resolves with the first match of `pattern` in stderr. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** Resolves with the exit code and all output once the process ends. */
  finished(): Promise<{ code: number; stdout: string; stderr: string }>
}

const running = new Set<Bun.Subprocess>()

function collect(stream: ReadableStream<Uint8Array>) {
  let text = ''
  const decoder = new TextDecoder()
  const done = (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true })
  })().catch(() => {})
  return { text: () => text, done }
}

export function spawnCli(args: readonly string[], env: Record<string, string>): CliProcess {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: REPO_ROOT, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  running.add(proc)
  const out = collect(proc.stdout)
  const err = collect(proc.stderr)
  return {
    proc,
    stdout: out.text,
    stderr: err.text,
    waitForStderr: (pattern, timeoutMs = 15_000) =>
      waitFor(
        () => {
          const match = pattern.exec(err.text())
          if (!match && proc.exitCode !== null) throw new Error(`exited ${proc.exitCode} before ${pattern}: ${err.text()}`)
          return match
        },
        { timeoutMs, what: `${pattern} on stderr` },
      ),
    async finished() {
      const code = await proc.exited
      await Promise.all([out.done, err.done])
      running.delete(proc)
      return { code, stdout: out.text(), stderr: err.text() }
    },
  }
}

export async function stopCliProcesses(): Promise<void> {
  const procs = [...running]
  running.clear()
  for (const proc of procs) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  await Promise.all(procs.map((proc) => proc.exited))
}
