/**
 * The CLI walked through as a person uses it, with the stored login (never --token): a real `serve` with
 * the GitHub fake, device-flow login, then a proxy and a route created, listed as a table and as JSON
 * (parsed and compared with the API), updated, deleted, and logout, after which a command exits 3 with
 * one line. Then the README's "Command line" walk-through, run by bash exactly as written.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import YAML from 'yaml'
import { cleanupSpawned, makeTempDir, REPO_ROOT } from '../support/serve.ts'
import { stopCliProcesses } from './cli-process.ts'
import { startDeviceLoginServer, type DeviceLoginServer } from './device-login.ts'

let edge: DeviceLoginServer
/** An admin token from `token issue`, only for asking the API directly what the CLI should have printed. */
let adminToken: string

beforeAll(async () => {
  edge = await startDeviceLoginServer()
  adminToken = await edge.issueAdminToken()
})
afterAll(async () => {
  await stopCliProcesses()
  await cleanupSpawned()
  await edge.fake.stop()
})

async function api<T = unknown>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${edge.loopbackUrl}${path}`, { headers: { authorization: `Bearer ${adminToken}` } })
  return { status: response.status, body: (response.status === 204 ? null : await response.json()) as T }
}

/** A command against PUBLIC_URL with the stored login: exit 0, nothing on stderr unless `stderr` says what. */
async function ok(args: string[], stderr = ''): Promise<string> {
  const result = await edge.cli([...args, '--url', edge.publicUrl])
  if (existsSync(edge.credentialsFile())) edge.stored() // notes the tokens in use, which no output may hold
  expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code: 0, stderr })
  // Into a pipe (the CLI is spawned with pipes, without NO_COLOR) nothing is coloured: no ESC byte at all.
  expect(result.stdout).not.toContain('\x1b')
  return result.stdout
}

const json = async <T = unknown>(args: string[]): Promise<T> => JSON.parse(await ok([...args, '--json'])) as T
const rows = (table: string) => table.trimEnd().split('\n').map((line) => line.split(/\s+/))

type Proxy = Record<string, unknown> & { proxy_hostname: string }
type Route = Record<string, unknown> & { route_id: string }

describe('the walk-through with the stored login', () => {
  let route: Route

  test('login through the device flow', async () => {
    const result = await edge.login(edge.publicUrl)
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(`✓ Signed in to ${edge.publicUrl} as alice (scopes: admin)`)
  })

  test('proxy create and route create: --json is what the API then holds', async () => {
    const proxy = await json<Proxy>(['proxy', 'create', '--hostname', 'walk.example.com', '--target-url', 'http://127.0.0.1:3000'])
    expect(proxy).toMatchObject({ proxy_hostname: 'walk.example.com', target_url: 'http://127.0.0.1:3000', created_by: 'alice' })
    expect(proxy).toEqual((await api<Proxy>('/proxy/targets/walk.example.com')).body)
    route = await json<Route>(['route', 'create', '--path', '/walk', '--to-url', 'http://127.0.0.1:4000', '--proxy', 'walk.example.com', '--strip-prefix'])
    expect(route).toMatchObject({ path_pattern: '/walk', target_type: 'url', target_value: 'http://127.0.0.1:4000', scope: 'proxy', proxy_hostnames: ['walk.example.com'], strip_prefix: true })
    expect(route).toEqual((await api<Route>(`/routes/${route.route_id}`)).body)
  })

  test('proxy list and route list as tables: the columns, then one row per object with its values', async () => {
    const proxies = rows(await ok(['proxy', 'list']))
    expect(proxies[0]).toEqual(['HOSTNAME', 'TARGET', 'HTTP', 'HTTPS', 'AUTH', 'ENABLED'])
    // By hostname: the built-in localhost proxy (to the API itself), then ours.
    expect(proxies.slice(1)).toEqual([
      ['localhost', edge.loopbackUrl, 'yes', 'yes', 'no', 'yes'],
      ['walk.example.com', 'http://127.0.0.1:3000', 'yes', 'yes', 'no', 'yes'],
    ])
    expect(rows(await ok(['route', 'list']))).toEqual([
      ['ID', 'PRIORITY', 'PATH', 'METHODS', 'TARGET', 'SCOPE', 'ENABLED'],
      [route.route_id, '50', '/walk', 'any', 'http://127.0.0.1:4000', 'walk.example.com', 'yes'],
    ])
  })

  test('proxy list and route list --json: parsed, equal to the API\'s lists', async () => {
    const proxies = await json<Proxy[]>(['proxy', 'list'])
    expect(proxies.map((proxy) => proxy.proxy_hostname).sort()).toEqual(['localhost', 'walk.example.com'])
    expect(proxies).toEqual((await api<Proxy[]>('/proxy/targets')).body)
    const routes = await json<Route[]>(['route', 'list'])
    expect(routes.map((each) => each.route_id)).toEqual([route.route_id])
    expect(routes).toEqual((await api<Route[]>('/routes')).body)
  })

  test('proxy update and route update change what is given, and the lists show it', async () => {
    const proxy = await json<Proxy>(['proxy', 'update', 'walk.example.com', '--target-url', 'http://127.0.0.1:3001', '--no-enable-http'])
    expect(proxy).toMatchObject({ target_url: 'http://127.0.0.1:3001', enable_http: false, enable_https: true })
    expect(proxy).toEqual((await api<Proxy>('/proxy/targets/walk.example.com')).body)
    const updated = await json<Route>(['route', 'update', route.route_id, '--priority', '70', '--method', 'GET', '--disabled'])
    expect(updated).toMatchObject({ route_id: route.route_id, priority: 70, methods: ['GET'], enabled: false, path_pattern: '/walk' })
    expect(updated).toEqual((await api<Route>(`/routes/${route.route_id}`)).body)
    expect(rows(await ok(['proxy', 'list'])).find(([hostname]) => hostname === 'walk.example.com')).toEqual(['walk.example.com', 'http://127.0.0.1:3001', 'no', 'yes', 'no', 'yes'])
    expect(rows(await ok(['route', 'list']))[1]).toEqual([route.route_id, '70', '/walk', 'GET', 'http://127.0.0.1:4000', 'walk.example.com', 'no'])
  })

  test('route delete, then proxy delete: a line each on stderr, and the API no longer has them', async () => {
    expect(await ok(['route', 'delete', route.route_id], `deleted route ${route.route_id}\n`)).toBe('')
    expect((await api(`/routes/${route.route_id}`)).status).toBe(404)
    expect(await ok(['proxy', 'delete', 'walk.example.com'], 'deleted proxy walk.example.com\n')).toBe('')
    expect((await api('/proxy/targets/walk.example.com')).status).toBe(404)
    expect(await json(['route', 'list'])).toEqual([])
  })

  test('logout; then proxy list exits 3 with nothing on stdout and exactly one line on stderr', async () => {
    expect(await ok(['logout'], `✓ Signed out of ${edge.publicUrl} (tokens revoked)\n`)).toBe('')
    const after = await edge.cli(['proxy', 'list', '--url', edge.publicUrl])
    expect(after).toEqual({
      code: 3,
      stdout: '',
      stderr: `oauth-https-proxy: not signed in to ${edge.publicUrl}; run: oauth-https-proxy login --url ${edge.publicUrl}\n`,
    })
  })
})

describe('README "Command line"', () => {
  test('its walk-through runs in bash exactly as written, against this server', async () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('\n## Command line\n'))
    const script = /```sh\n([\s\S]*?)```/.exec(section)![1]!
    for (const step of ['login', 'proxy create', 'route create', 'proxy list', 'system config export', 'logout']) expect(script).toContain(`oauth-https-proxy ${step}`)
    // `oauth-https-proxy` on PATH is this checkout; the README's example server is this server.
    const bin = makeTempDir('ohp-readme-bin-')
    writeFileSync(join(bin, 'oauth-https-proxy'), `#!/bin/sh\nexec '${process.execPath}' '${join(REPO_ROOT, 'src/main.ts')}' "$@"\n`)
    chmodSync(join(bin, 'oauth-https-proxy'), 0o755)
    const cwd = makeTempDir('ohp-readme-cwd-')
    const env = edge.cliEnv({ PATH: `${bin}:${edge.cliEnv().PATH}` })
    const proc = Bun.spawn(['bash', '-eu', '-o', 'pipefail', '-c', script.replaceAll('https://api.example.com', edge.publicUrl)], { cwd, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    let stderr = ''
    const decoder = new TextDecoder()
    // The person at the keyboard: approves the code at GitHub (the fake) once login prints it.
    const approved = (async () => {
      let isApproved = false
      for await (const chunk of proc.stderr) {
        stderr += decoder.decode(chunk, { stream: true })
        const userCode = /one-time code: ([A-Z]{4}-[A-Z]{4})/.exec(stderr)?.[1]
        if (userCode && !isApproved) {
          edge.fake.approveDevice(userCode, 'alice')
          isApproved = true
        }
      }
    })()
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited, approved])
    edge.outputs.push(stdout, stderr)
    expect({ code, stderr }).toMatchObject({ code: 0 })
    expect(stderr).toContain(`✓ Signed out of ${edge.publicUrl} (tokens revoked)`)
    expect(stdout).toMatch(/^user: +alice$/m)
    expect(stdout).toMatch(/^app\.example\.com +http:\/\/127\.0\.0\.1:3000 /m)
    const exported = YAML.parse(readFileSync(join(cwd, 'edge.yaml'), 'utf8'))
    expect(exported.proxies.map((proxy: Proxy) => proxy.proxy_hostname)).toEqual(['app.example.com'])
    expect(exported.routes).toMatchObject([{ path_pattern: '/api', target_type: 'url', target_value: 'http://127.0.0.1:4000', strip_prefix: true }])
    expect(existsSync(edge.credentialsFile())).toBe(true)
    expect(Object.values(edge.stored().servers).every((entry) => entry.tokens === undefined)).toBe(true)
  }, 30_000)
})

test('no token ever appeared on stdout or stderr', () => {
  const texts = edge.outputs.join('\n')
  expect(edge.seenTokens.size).toBeGreaterThanOrEqual(2)
  for (const token of edge.seenTokens) expect(texts).not.toContain(token)
  expect(texts).not.toMatch(/ey[A-Za-z0-9_-]{10,}\.ey[A-Za-z0-9_-]{10,}\./)
})
