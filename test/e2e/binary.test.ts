/**
 * `npm run build` makes one executable that serves on its own, docs assets included (no node_modules),
 * and that is the same client as `bun src/main.ts`: same output, same exit codes, same help and completion.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary } from '../support/binary.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { baseEnv, cleanupSpawned, makeTempDir, runCli, serveEnv, startServe, type CliResult } from '../support/serve.ts'

const work = mkdtempSync(join(tmpdir(), 'ohp-binary-'))
const binary = join(work, 'oauth-https-proxy')
beforeAll(() => buildBinary(binary))
afterAll(async () => {
  await cleanupSpawned()
  rmSync(work, { recursive: true, force: true })
})

test('the compiled executable serves /health (directly, and over HTTP and HTTPS through the built-in localhost proxy), the embedded docs bundle and the web UI from an empty directory', async () => {
  // Away from the repository: nothing may be read from node_modules at run time.
  const alone = join(work, 'alone')
  cpSync(binary, join(alone, 'oauth-https-proxy'))
  const [port, httpPort, httpsPort] = [await freePort(), await freePort(), await freePort()]
  const proc = Bun.spawn([join(alone, 'oauth-https-proxy')], {
    cwd: alone,
    env: { PATH: '/usr/bin:/bin', API_PORT: String(port), HTTP_PORT: String(httpPort), HTTPS_PORT: String(httpsPort), LOG_LEVEL: 'warn' },
    stderr: 'pipe',
  })
  try {
    const health = await waitFor(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/health`)
      return response.ok ? response.json() : null
    }, { what: 'compiled binary /health', timeoutMs: 15_000 })
    expect(health).toMatchObject({ status: 'ok', store: { kind: 'embedded', status: 'ok' } })
    // The data plane of the binary: the relay's listeners and the TLS terminator (its self-signed certificate).
    for (const url of [`http://localhost:${httpPort}/health`, `https://localhost:${httpsPort}/health`]) {
      const viaProxy = await waitFor(async () => {
        const response = await fetch(url, { tls: { rejectUnauthorized: false } } as RequestInit)
        return response.ok ? response.json() : null
      }, { what: `compiled binary ${url}`, timeoutMs: 15_000 })
      expect(viaProxy).toMatchObject({ status: 'ok' })
    }
    const bundle = await fetch(`http://127.0.0.1:${port}/docs/standalone.js`)
    expect(bundle.status).toBe(200)
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000)
    // The web UI, embedded by the build (no ui/ source beside it), with its hashed files cached for good.
    const ui = await fetch(`http://127.0.0.1:${port}/ui/`)
    expect(ui.status).toBe(200)
    const page = await ui.text()
    expect(page).toContain('<div id="root">')
    const script = await fetch(`http://127.0.0.1:${port}${/<script type="module" src="([^"]+)"/.exec(page)![1]}`)
    expect(script.status).toBe(200)
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(await Bun.file(join(alone, 'data/store.sqlite')).exists()).toBe(true)
  } finally {
    proc.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
  }
  // The requests above were recorded by the log writer thread, an extra entry point of the build: had it
  // not been found, the store would say so (and write on the main thread).
  expect(await new Response(proc.stderr).text()).not.toContain('log writer thread stopped')
}, 60_000)

describe('the compiled executable is the same client as bun src/main.ts', () => {
  let apiUrl: string
  let token: string
  /** Both run with only PATH, HOME and a config home of their own, from a directory away from the checkout. */
  let env: Record<string, string>
  let cwd: string

  beforeAll(async () => {
    const serverEnv = await serveEnv()
    apiUrl = (await startServe({ env: serverEnv })).url
    // `token issue` on the server's host: the same DATA_DIR as the server.
    const issued = await runCli(['token', 'issue', '--user', 'ci', '--scope', 'admin'], { env: serverEnv })
    expect(issued.code).toBe(0)
    token = issued.stdout.trim()
    cwd = makeTempDir('ohp-binary-cwd-')
    env = { ...baseEnv(), XDG_CONFIG_HOME: makeTempDir('ohp-binary-config-') }
    const created = await runCli(['proxy', 'create', '--hostname', 'app.example.com', '--target-url', 'http://127.0.0.1:3000', '--url', apiUrl, '--token', token, '-q'], { env, cwd })
    expect(created).toEqual({ code: 0, stdout: 'app.example.com\n', stderr: '' })
  })

  /** The same command through the executable and through `bun src/main.ts`, both into pipes. */
  async function both(args: string[]): Promise<{ compiled: CliResult; source: CliResult }> {
    const proc = Bun.spawn([binary, ...args], { cwd, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    return { compiled: { code, stdout, stderr }, source: await runCli(args, { env, cwd }) }
  }

  test('system version --json: the same JSON, the API\'s; --version the same', async () => {
    const { compiled, source } = await both(['system', 'version', '--url', apiUrl, '--json'])
    expect(compiled).toEqual(source)
    expect(compiled.code).toBe(0)
    expect(JSON.parse(compiled.stdout)).toEqual(await (await fetch(`${apiUrl}/system/version`)).json())
    const version = await both(['--version'])
    expect(version.compiled).toEqual(version.source)
    expect(version.compiled.stdout).toMatch(/^\d+\.\d+\.\d+\n$/)
  })

  test('proxy list with a token from token issue: the same table and the same --json', async () => {
    for (const args of [['proxy', 'list'], ['proxy', 'list', '--json']]) {
      const { compiled, source } = await both([...args, '--url', apiUrl, '--token', token])
      expect(compiled).toEqual(source)
      expect(compiled.code).toBe(0)
      expect(compiled.stdout).toContain('app.example.com')
      expect(compiled.stdout).not.toContain('\x1b')
    }
  })

  test('failures: the same exit code and line (4 for a missing proxy, 3 without a login, 2 for a wrong flag)', async () => {
    const cases: [string[], number][] = [
      [['proxy', 'show', 'nope.example.com', '--url', apiUrl, '--token', token], 4],
      [['proxy', 'list', '--url', apiUrl], 3],
      [['proxy', 'list', '--url', apiUrl, '--hostnme', 'x'], 2],
    ]
    for (const [args, code] of cases) {
      const { compiled, source } = await both(args)
      expect(compiled).toEqual(source)
      expect(compiled.code).toBe(code)
      expect(compiled.stderr).toMatch(/^oauth-https-proxy: [^\n]+\n$/)
    }
  })

  test('--help (the root\'s and a command\'s) is the same, with no ESC byte into a pipe', async () => {
    for (const args of [['--help'], ['proxy', 'create', '--help']]) {
      const { compiled, source } = await both(args)
      expect(compiled).toEqual(source)
      expect(compiled.code).toBe(0)
      expect(compiled.stdout).toContain('oauth-https-proxy')
      expect(compiled.stdout).not.toContain('\x1b')
    }
  })

  test('completion bash, zsh and fish: the same scripts', async () => {
    for (const shell of ['bash', 'zsh', 'fish']) {
      const { compiled, source } = await both(['completion', shell])
      expect(compiled).toEqual(source)
      expect(compiled.code).toBe(0)
      expect(compiled.stdout.length).toBeGreaterThan(500)
    }
  })
})
