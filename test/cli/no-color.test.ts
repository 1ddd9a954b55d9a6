/**
 * Colour never reaches a pipe: `--help`, citty's own errors and our errors, spawned with stdout and
 * stderr piped, hold no ESC byte; and on a TTY NO_COLOR (any value) turns it off too.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { baseEnv, cleanupSpawned, makeTempDir, runCli } from '../support/serve.ts'

afterAll(() => cleanupSpawned())

const env = () => ({ ...baseEnv(), XDG_CONFIG_HOME: makeTempDir('ohp-nocolor-') })

describe('no escape codes in pipes', () => {
  test('--help of the root, a group and a command', async () => {
    for (const args of [['--help'], ['keys', '--help'], ['system', 'info', '--help'], ['login', '-h']]) {
      const result = await runCli(args, { env: env() })
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('USAGE')
      expect(result.stdout + result.stderr).not.toContain('\x1b')
    }
  })

  test('errors: an unknown command (citty), a group without its command, an API command without a login', async () => {
    const unknown = await runCli(['nosuch'], { env: env() })
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toBe('oauth-https-proxy: Unknown command nosuch\n')
    const group = await runCli(['keys'], { env: env() })
    expect(group.code).toBe(2)
    expect(group.stderr).toContain('USAGE oauth-https-proxy keys')
    const notSignedIn = await runCli(['system', 'info', '--url', 'http://127.0.0.1:9'], { env: env() })
    expect(notSignedIn.code).toBe(3)
    for (const result of [unknown, group, notSignedIn]) expect(result.stdout + result.stderr).not.toContain('\x1b')
  })

  test('a usage error in a flag: exit 2, one line', async () => {
    const result = await runCli(['system', 'info', '--url', 'ftp://x'], { env: env() })
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('oauth-https-proxy: --url: expected an http(s) URL without credentials, query or fragment, such as http://127.0.0.1:9000\n')
  })
})

describe('on a terminal', () => {
  // script(1) gives the child a pseudo-terminal, as a person's shell would.
  const hasScript = Bun.which('script') !== null
  test.skipIf(!hasScript)('help is coloured on a TTY, and not when NO_COLOR is set (to any value)', async () => {
    const run = async (extra: Record<string, string>) => {
      const proc = Bun.spawn(['script', '-qec', `${process.execPath} src/main.ts keys --help`, '/dev/null'], { env: { ...env(), ...extra }, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
      const [stdout] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
      return stdout
    }
    expect(await run({})).toContain('\x1b[')
    for (const value of ['1', 'yes', '']) expect(await run({ NO_COLOR: value })).not.toContain('\x1b[')
  })
})
