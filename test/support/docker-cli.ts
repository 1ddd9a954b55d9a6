/** @module The `docker` command line for test set-up, and the label that marks what tests create (see docker.ts). */

/** The label on every container, network and volume a test creates ("key=value", as `--label` and `--filter label=` take it). */
export const TEST_LABEL = 'ohp-test=true'
/** The same label as a map, for dockerode-style Labels or our service definitions. */
export const TEST_LABELS: Readonly<Record<string, string>> = { 'ohp-test': 'true' }

/** Runs `docker ...args` and returns its stdout without the trailing newline; throws with stderr if it fails. */
export async function docker(...args: string[]): Promise<string> {
  const proc = Bun.spawn(['docker', ...args], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`docker ${args.join(' ')} failed (exit ${code}): ${stderr.trim()}`)
  return stdout.trimEnd()
}
