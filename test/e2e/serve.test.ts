/**
 * `oauth-https-proxy serve` as a user runs it: the real CLI in a child process with nothing but
 * PATH and HOME (plus API_PORT/DATA_DIR where the defaults could collide), checked from outside.
 */
import { afterEach, describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SETTINGS } from '../../src/config/index.ts'
import { VERSION } from '../../src/version.ts'
import { buildBinary } from '../support/binary.ts'
import { freePort } from '../support/ports.ts'
import { baseEnv, cleanupSpawned, isPortClosed, lines, MAIN, makeTempDir, runCli, serveEnv, startServe, stripAnsi } from '../support/serve.ts'

afterEach(cleanupSpawned)

async function healthOf(url: string): Promise<{ status: number; body: unknown; contentType: string | null }> {
  const response = await fetch(`${url}/health`)
  return { status: response.status, body: await response.json(), contentType: response.headers.get('content-type') }
}

async function requirePort9000Free(): Promise<void> {
  if (!(await isPortClosed(9000))) {
    throw new Error('port 9000 (the API_PORT default) is in use on this machine; this test needs it free to prove the defaults work')
  }
}

describe('serve needs no configuration', () => {
  test('with only PATH and HOME, `serve` answers /health with the embedded store and creates ./data/store.sqlite in its cwd', async () => {
    await requirePort9000Free()
    const cwd = makeTempDir()
    const server = await startServe({ env: baseEnv(), args: ['serve'], cwd })
    expect(server.url).toBe('http://127.0.0.1:9000')

    const health = await healthOf(server.url)
    expect(health.status).toBe(200)
    expect(health.contentType).toContain('application/json')
    expect(health.body).toEqual({ status: 'ok', version: VERSION, store: { kind: 'embedded', status: 'ok' } })
    expect(existsSync(join(cwd, 'data', 'store.sqlite'))).toBe(true)

    expect(await server.stop()).toBe(0)
  })

  test('with no subcommand at all, `src/main.ts` serves (serve is the default command)', async () => {
    await requirePort9000Free()
    const cwd = makeTempDir()
    const server = await startServe({ env: baseEnv(), args: [], cwd })

    const health = await healthOf(server.url)
    expect(health.status).toBe(200)
    expect(health.body).toMatchObject({ status: 'ok', store: { kind: 'embedded', status: 'ok' } })
    expect(existsSync(join(cwd, 'data', 'store.sqlite'))).toBe(true)

    expect(await server.stop()).toBe(0)
  })

  test('flags alone (no subcommand) also mean serve: `src/main.ts --api-port N --data-dir D`', async () => {
    const port = await freePort()
    const dataDir = join(makeTempDir(), 'flagged')
    const server = await startServe({ env: baseEnv(), args: ['--api-port', String(port), '--data-dir', dataDir] })

    expect(server.port).toBe(port)
    expect((await healthOf(server.url)).status).toBe(200)
    expect(existsSync(join(dataDir, 'store.sqlite'))).toBe(true)
    expect(await server.stop()).toBe(0)
  })
})

describe('serve stops cleanly on a signal', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} makes serve exit 0 within a few seconds and closes the API port`, async () => {
      const server = await startServe({ env: await serveEnv() })
      expect((await healthOf(server.url)).status).toBe(200)

      const started = Date.now()
      const code = await Promise.race([server.stop(signal), Bun.sleep(5_000).then(() => 'still running after 5 s')])
      expect(code).toBe(0)
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(await isPortClosed(server.port)).toBe(true)
    })
  }

  test('SIGTERM while the modules still load (before serve has a handler of its own) is held: serve starts, then stops with exit 0', async () => {
    const env = await serveEnv({ LOG_LEVEL: 'info' })
    const proc = Bun.spawn([process.execPath, MAIN, 'serve'], { env, stdout: 'pipe', stderr: 'pipe' })
    // The first line of src/main.ts catches SIGTERM (bit 15 of SigCgt); Bun alone does not.
    const catchesTerm = () => (BigInt(`0x${/SigCgt:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1]}`) & (1n << 14n)) !== 0n
    const deadline = Date.now() + 10_000
    while (!catchesTerm() && Date.now() < deadline) await Bun.sleep(1)
    proc.kill('SIGTERM')
    const code = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => 'still running after 15 s')])
    const stderr = await new Response(proc.stderr).text()
    expect({ code, signal: proc.signalCode }).toEqual({ code: 0, signal: null })
    // Held, not handled by serve's own handler: the signal came before it existed.
    expect(stderr).toContain('stop signal received while starting')
    expect(stderr).toContain('shutting down')
    expect(await isPortClosed(Number(env.API_PORT))).toBe(true)
  })

  test('a restarted server on the same DATA_DIR still serves (the store was closed cleanly)', async () => {
    const env = await serveEnv()
    const first = await startServe({ env })
    expect(await first.stop('SIGTERM')).toBe(0)
    const second = await startServe({ env })
    expect((await healthOf(second.url)).body).toMatchObject({ status: 'ok', store: { kind: 'embedded', status: 'ok' } })
    expect(await second.stop()).toBe(0)
  })
})

describe('bad configuration stops serve with exit 2 and one line per mistake', () => {
  test('HTTP_PORT=abc: exit 2, exactly one stderr line naming HTTP_PORT and "expected a port"', async () => {
    const result = await runCli(['serve'], { env: await serveEnv({ HTTP_PORT: 'abc' }) })
    expect(result.code).toBe(2)
    const out = lines(result.stderr)
    expect(out).toHaveLength(1)
    expect(out[0]).toContain('HTTP_PORT')
    expect(out[0]).toContain('expected a port')
    expect(out[0]).toContain('"abc"')
  })

  test('REDIS_URL=nonsense: exit 2, one line naming REDIS_URL that does not echo the (secret) value', async () => {
    const result = await runCli(['serve'], { env: await serveEnv({ REDIS_URL: 'nonsense' }) })
    expect(result.code).toBe(2)
    const out = lines(result.stderr)
    expect(out).toHaveLength(1)
    expect(out[0]).toContain('REDIS_URL')
    expect(out[0]).not.toContain('nonsense')
  })

  test('flag --api-port 99999: exit 2, one line naming API_PORT', async () => {
    const env = await serveEnv()
    const result = await runCli(['serve', '--api-port', '99999'], { env })
    expect(result.code).toBe(2)
    const out = lines(result.stderr)
    expect(out).toHaveLength(1)
    expect(out[0]).toContain('API_PORT')
    expect(out[0]).toContain('99999')
  })

  test('LOG_LEVEL=loud: exit 2, one line naming LOG_LEVEL and the allowed levels', async () => {
    const result = await runCli(['serve'], { env: await serveEnv({ LOG_LEVEL: 'loud' }) })
    expect(result.code).toBe(2)
    const out = lines(result.stderr)
    expect(out).toHaveLength(1)
    expect(out[0]).toContain('LOG_LEVEL')
    expect(out[0]).toContain('debug, info, warn, error, silent')
  })

  test('several mistakes are all reported in one run, one line each, and nothing binds the API port', async () => {
    const env = await serveEnv({ HTTP_PORT: 'abc', LOG_LEVEL: 'loud' })
    const result = await runCli(['serve'], { env })
    expect(result.code).toBe(2)
    const out = lines(result.stderr)
    expect(out).toHaveLength(2)
    expect(out.some((line) => line.includes('HTTP_PORT'))).toBe(true)
    expect(out.some((line) => line.includes('LOG_LEVEL'))).toBe(true)
    expect(await isPortClosed(Number(env.API_PORT))).toBe(true)
    expect(existsSync(env.DATA_DIR!)).toBe(false)
  })
})

describe('serve explains a port it cannot bind', () => {
  test('API_PORT already bound by another listener: exit 1, one stderr line naming API_PORT and "already in use"', async () => {
    const env = await serveEnv()
    const blocker = Bun.listen({ hostname: '127.0.0.1', port: Number(env.API_PORT), socket: { data() {} } })
    try {
      const result = await runCli(['serve'], { env })
      expect(result.code).toBe(1)
      const out = lines(result.stderr)
      expect(out).toHaveLength(1)
      expect(out[0]).toContain('API_PORT')
      expect(out[0]).toContain('already in use')
      expect(out[0]).toContain(env.API_PORT!)
    } finally {
      blocker.stop(true)
    }
  })

  test('API_PORT=80 as an unprivileged user: exit 1, one stderr line naming API_PORT and "permission denied"', async () => {
    const unprivilegedStart = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim())
    if (unprivilegedStart <= 80) {
      throw new Error(`net.ipv4.ip_unprivileged_port_start is ${unprivilegedStart}: any user may bind port 80 here, so permission denied cannot be provoked`)
    }
    const home = makeTempDir()
    chmodSync(home, 0o1777)
    // nobody may not be able to read the checkout (CI clones into private directories), so run the
    // compiled executable from a world-readable directory instead of the sources.
    const binary = join(home, 'oauth-https-proxy')
    await buildBinary(binary)
    chmodSync(binary, 0o755)
    // As root, drop to nobody; as any other user, the port is already out of reach.
    const isRoot = process.getuid?.() === 0
    const prefix = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []
    const env = { ...baseEnv(), HOME: home, API_PORT: '80', DATA_DIR: join(home, 'data') }
    const proc = Bun.spawn([...prefix, binary, 'serve'], { cwd: home, env, stdout: 'pipe', stderr: 'pipe' })
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited])
    const result = { code, stderr }

    expect(result.code).toBe(1)
    const out = lines(result.stderr)
    expect(out).toHaveLength(1)
    expect(out[0]).toContain('API_PORT')
    expect(out[0]).toContain('permission denied')
  })
})

describe('serve --help', () => {
  test('lists the environment variable of every setting and exits 0', async () => {
    const result = await runCli(['serve', '--help'], { env: baseEnv() })
    expect(result.code).toBe(0)
    const help = stripAnsi(result.stdout)
    const missing = Object.values(SETTINGS)
      .map((setting) => setting.env)
      .filter((env) => !new RegExp(`\\b${env}\\b`).test(help))
    expect(missing).toEqual([])
    expect(help).toContain('--api-port')
  })

  test('--help does not start a server', async () => {
    const env = await serveEnv()
    const result = await runCli(['serve', '--help'], { env })
    expect(result.code).toBe(0)
    expect(existsSync(env.DATA_DIR!)).toBe(false)
  })
})
