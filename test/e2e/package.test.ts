/**
 * The npm package ships what runs and nothing else: `npm pack` (offline; packing reads only this
 * checkout) lists bin/, src/, ui/, README.md, LICENSE and package.json, never test/, bench/ or .ci/. The
 * packed tarball, unpacked away from this checkout (so without its tsconfig.json) with the dependencies
 * beside it as an install would put them, answers --help like `bun src/main.ts` and serves, its
 * JSX pages and the web UI (built from ui/ at its first request) included.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync, symlinkSync } from 'node:fs'
import { join, relative } from 'node:path'
import { freePort, waitFor } from '../support/ports.ts'
import { baseEnv, cleanupSpawned, makeTempDir, REPO_ROOT, runCli } from '../support/serve.ts'

interface Packed {
  readonly filename: string
  readonly files: readonly { path: string; mode: number }[]
}

/** `npm pack --json` with no network: offline, no update check, a cache of its own. */
function npmPack(args: string[]): Packed {
  const env = { ...baseEnv(), npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_cache: makeTempDir('ohp-npm-cache-') }
  const pack = Bun.spawnSync(['npm', 'pack', '--json', ...args], { cwd: REPO_ROOT, env, stdout: 'pipe', stderr: 'pipe' })
  if (pack.exitCode !== 0) throw new Error(`npm pack exited ${pack.exitCode}: ${pack.stderr.toString()}`)
  const [packed] = JSON.parse(pack.stdout.toString()) as Packed[]
  return packed!
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(REPO_ROOT, join(entry.parentPath, entry.name)))
}

afterAll(cleanupSpawned)

describe('npm pack --dry-run', () => {
  test('ships bin/, src/, ui/, README.md, LICENSE and package.json: every file of bin/, src/ and ui/, nothing else', () => {
    const paths = npmPack(['--dry-run']).files.map((file) => file.path)
    const outside = paths.filter((path) => !/^(bin|src|ui)\//.test(path) && !['README.md', 'LICENSE', 'package.json'].includes(path))
    expect(outside).toEqual([])
    expect(paths).toContain('bin/oauth-https-proxy.js')
    expect(paths).toContain('src/main.ts')
    expect(paths).toContain('LICENSE')
    expect(paths.filter((path) => /^(test|bench|\.ci)\//.test(path))).toEqual([])
    // What src/ imports at run time is all there: every file of bin/ and src/ (storage-schema.md too).
    expect(paths.filter((path) => /^(bin|src|ui)\//.test(path)).sort()).toEqual([...filesUnder('bin'), ...filesUnder('src'), ...filesUnder('ui')].sort())
  })

  test('the bin is executable and runs under Bun', async () => {
    const bin = npmPack(['--dry-run']).files.find((file) => file.path === 'bin/oauth-https-proxy.js')!
    expect(bin.mode & 0o111).toBe(0o111)
    expect((await Bun.file(join(REPO_ROOT, 'bin/oauth-https-proxy.js')).text()).split('\n')[0]).toBe('#!/usr/bin/env bun')
  })
})

describe('the packed package, unpacked elsewhere', () => {
  let root: string
  beforeAll(() => {
    const work = makeTempDir('ohp-package-')
    const packed = npmPack(['--pack-destination', work])
    const untar = Bun.spawnSync(['tar', '-xzf', join(work, packed.filename), '-C', work], { stderr: 'pipe' })
    if (untar.exitCode !== 0) throw new Error(`tar: ${untar.stderr.toString()}`)
    root = join(work, 'package')
    // An install puts the dependencies beside the package; these are this checkout's.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'))
  })

  test('--help is the same as `bun src/main.ts --help`', async () => {
    const cwd = makeTempDir('ohp-package-cwd-')
    const [packed, source] = await Promise.all([
      runBin(root, ['--help'], { cwd, env: baseEnv() }),
      runCli(['--help'], { cwd, env: baseEnv() }),
    ])
    expect(packed).toEqual({ code: 0, stdout: source.stdout, stderr: '' })
    expect(source.stdout).toContain('oauth-https-proxy')
  })

  test('serves: /health, and an HTML page of the authorization server (JSX, without the tsconfig)', async () => {
    const port = await freePort()
    const cwd = makeTempDir('ohp-package-cwd-')
    const env = { ...baseEnv(), API_PORT: String(port), HTTP_PORT: '0', HTTPS_PORT: '0', DATA_DIR: join(cwd, 'data'), LOG_LEVEL: 'warn' }
    const proc = Bun.spawn([process.execPath, join(root, 'bin/oauth-https-proxy.js'), 'serve'], { cwd, env, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' })
    try {
      const health = await waitFor(async () => {
        if (proc.exitCode !== null) throw new Error(`exited ${proc.exitCode}: ${await new Response(proc.stderr).text()}`)
        const response = await fetch(`http://127.0.0.1:${port}/health`)
        return response.ok ? response.json() : null
      }, { what: 'the packed server\'s /health', timeoutMs: 15_000 })
      expect(health).toMatchObject({ status: 'ok' })
      const page = await fetch(`http://127.0.0.1:${port}/authorize?client_id=nope&response_type=code`)
      expect(page.status).toBe(400)
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(await page.text()).toContain('<title>Unknown application</title>')
      const ui = await fetch(`http://127.0.0.1:${port}/ui/`)
      expect(ui.status).toBe(200)
      const script = /<script type="module" src="([^"]+)"/.exec(await ui.text())![1]!
      expect((await fetch(`http://127.0.0.1:${port}${script}`)).status).toBe(200)
    } finally {
      proc.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
    }
  })
})

/** Runs the unpacked package's bin with Bun, as `bunx oauth-https-proxy` does. */
async function runBin(root: string, args: string[], options: { cwd: string; env: Record<string, string> }) {
  const proc = Bun.spawn([process.execPath, join(root, 'bin/oauth-https-proxy.js'), ...args], { ...options, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

