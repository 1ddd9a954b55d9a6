/**
 * `oauth-https-proxy system …` against a real server: health and version without any login, info with
 * a token, and the configuration export (JSON, YAML, a 0600 file with secrets) and import (the plan as
 * a table, --json, --dry-run, --prune).
 * Then the round trip between two servers: export on A, import on a fresh B, export on B gives the same
 * document; --dry-run and a bad document (one bad field deep inside) change nothing on B.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import YAML from 'yaml'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { apiJson, createCliRunner, expectFailure, issueToken, type CliRunner } from './commands-cli.ts'

let edge: TestEdge
let cli: CliRunner
let userToken: string
let dir: string

beforeAll(async () => {
  edge = await startTestEdge()
  cli = createCliRunner(edge.server.apiUrl, edge.adminToken)
  userToken = await issueToken(edge, ['user'], 'reader')
  dir = mkdtempSync(join(tmpdir(), 'ohp-cli-config-'))
  await edge.createProxy('app.example.com', 'http://127.0.0.1:3000')
  const secret = await edge.api('POST', '/proxy/targets/app.example.com/github-oauth', { github_client_id: 'Iv1.own', github_client_secret: 'exported-secret-1' })
  expect(secret.status).toBe(200)
})
afterAll(async () => {
  cli.cleanup()
  rmSync(dir, { recursive: true, force: true })
  await edge.stop()
})

describe('system health, version, info', () => {
  test('health and version need no login (no token at all); --json is the API\'s answer', async () => {
    const [health, version, healthTable] = await Promise.all([
      cli.json(['system', 'health', '--json'], { token: null }),
      cli.json(['system', 'version', '--json'], { token: null }),
      cli.run(['system', 'health'], { token: null }),
    ])
    expect(health).toEqual(await (await fetch(`${edge.server.apiUrl}/health`)).json())
    expect(version).toEqual(await (await fetch(`${edge.server.apiUrl}/system/version`)).json())
    expect(healthTable.stdout).toMatch(/^status: +ok$/m)
    expect(healthTable.stdout).toMatch(/^store\.kind: +embedded$/m)
  })

  test('info shows who you are; --quiet the node id; without a token it exits 3 naming login', async () => {
    const info = await cli.json<{ you: { username: string; scopes: string[] }; node_id: string }>(['system', 'info', '--json'], { token: userToken })
    expect(info.you).toEqual({ username: 'reader', scopes: ['user'] })
    expect((await cli.run(['system', 'info', '-q'])).stdout).toBe(`${info.node_id}\n`)
    expectFailure(await cli.run(['system', 'info'], { token: null }), 3, /not signed in .*oauth-https-proxy login/)
  })

  test('a wrong argument exits 2', async () => {
    expectFailure(await cli.run(['system', 'version', 'extra']), 2, /unexpected argument "extra"/)
  })
})

describe('system config export', () => {
  test('JSON on stdout is the API\'s document; YAML parses to the same document', async () => {
    const [json, yaml] = await Promise.all([cli.json<Record<string, unknown>>(['system', 'config', 'export']), cli.run(['system', 'config', 'export', '--format', 'yaml'])])
    const api = await apiJson<Record<string, unknown>>(edge, '/system/config')
    const withoutTime = ({ exported_at: _, ...rest }: Record<string, unknown>) => rest
    expect(withoutTime(json)).toEqual(withoutTime(api))
    expect(yaml.stdout).toMatch(/^format: oauth-https-proxy\/config$/m)
    expect(withoutTime(YAML.parse(yaml.stdout))).toEqual(withoutTime(api))
    expect(JSON.stringify(json)).not.toContain('exported-secret-1')
  })

  test('--include-secrets --output writes a 0600 file holding the secret, and says so on stderr only', async () => {
    const path = join(dir, 'backup.json')
    writeFileSync(path, 'old and world-readable', { mode: 0o644 })
    const result = await cli.run(['system', 'config', 'export', '--include-secrets', '--output', path])
    expect(result).toMatchObject({ code: 0, stdout: '' })
    expect(result.stderr).toContain(`wrote ${path}`)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readFileSync(path, 'utf8')).toContain('exported-secret-1')
    const plain = join(dir, 'plain.yaml')
    expect((await cli.run(['system', 'config', 'export', '--format', 'yaml', '-o', plain])).code).toBe(0)
    expect(YAML.parse(readFileSync(plain, 'utf8')).proxies[0].proxy_hostname).toBe('app.example.com')
  })

  test('failures: a bad --format (2), a user-scope token (3)', async () => {
    const [format, user] = await Promise.all([
      cli.run(['system', 'config', 'export', '--format', 'toml']),
      cli.run(['system', 'config', 'export'], { token: userToken }),
    ])
    expectFailure(format, 2, /--format/)
    expectFailure(user, 3, /403/)
  })
})

describe('system config import', () => {
  let documentPath: string
  beforeAll(async () => {
    const document = await apiJson<{ proxies: Record<string, unknown>[] }>(edge, '/system/config')
    document.proxies.push({ ...document.proxies.find((proxy) => proxy.proxy_hostname === 'app.example.com'), proxy_hostname: 'new.example.com' })
    documentPath = join(dir, 'import.yaml')
    writeFileSync(documentPath, YAML.stringify(document))
  })

  test('--dry-run prints the plan per kind and the changes, and changes nothing', async () => {
    const result = await cli.run(['system', 'config', 'import', documentPath, '--dry-run'])
    expect(result.code).toBe(0)
    const lines = result.stdout.split('\n')
    expect(lines[0]!.split(/\s+/)).toEqual(['KIND', 'CREATE', 'UPDATE', 'DELETE', 'UNCHANGED'])
    expect(lines[1]!.split(/\s+/)).toEqual(['proxies', '1', '0', '0', '1'])
    expect(result.stdout).toContain('+ proxy new.example.com\n')
    expect(result.stderr).toContain('dry run: nothing was changed')
    expect((await edge.api('GET', '/proxy/targets/new.example.com')).status).toBe(404)
  })

  test('import applies it; --json is the API\'s result; --prune deletes what the document lacks', async () => {
    const applied = await cli.json<{ dry_run: boolean; changed: boolean; plan: { proxies: { create: string[] } } }>(['system', 'config', 'import', documentPath, '--json'])
    expect(applied).toMatchObject({ dry_run: false, prune: false, changed: true, plan: { proxies: { create: ['new.example.com'] } } })
    expect((await edge.api('GET', '/proxy/targets/new.example.com')).status).toBe(200)
    await edge.createProxy('extra.example.com', 'http://127.0.0.1:3002')
    const pruned = await cli.run(['system', 'config', 'import', documentPath, '--prune', '-q'])
    expect(pruned).toMatchObject({ code: 0, stdout: 'extra.example.com\n' })
    expect((await edge.api('GET', '/proxy/targets/extra.example.com')).status).toBe(404)
  })

  test('failures: a missing file (2), a file that is not a document (1), an invalid document (1, naming the path), a user token (3)', async () => {
    const notJson = join(dir, 'broken.json')
    writeFileSync(notJson, '{"format": ')
    const invalid = join(dir, 'invalid.json')
    writeFileSync(invalid, JSON.stringify({ format: 'something-else' }))
    const [missing, broken, rejected, user] = await Promise.all([
      cli.run(['system', 'config', 'import', join(dir, 'absent.yaml')]),
      cli.run(['system', 'config', 'import', notJson]),
      cli.run(['system', 'config', 'import', invalid]),
      cli.run(['system', 'config', 'import', documentPath, '--dry-run'], { token: userToken }),
    ])
    expectFailure(missing, 2, /cannot read .*absent\.yaml: ENOENT/)
    expectFailure(broken, 1, /broken\.json is not valid JSON/)
    expectFailure(rejected, 1, /400 invalid_request: the document was not imported \(nothing changed\): format: /)
    expectFailure(user, 3, /403/)
  })
})

describe('config round trip through the CLI: export on A, import on a fresh B, export on B', () => {
  type Document = Record<string, unknown> & { exported_at: string; proxies: Record<string, unknown>[]; routes: Record<string, unknown>[] }
  let fresh: TestEdge
  let onB: CliRunner
  let aPath: string
  let aDocument: Document
  type Timeless = Omit<Document, 'exported_at'>
  const withoutTime = ({ exported_at: _, ...rest }: Document): Timeless => rest
  const exportB = async (): Promise<Timeless> => withoutTime(await onB.json<Document>(['system', 'config', 'export', '--include-secrets']))

  beforeAll(async () => {
    // A gets every kind: an external service, a proxy to it, routes of each scope referenced by a
    // selective proxy, and registered OAuth clients (one confidential, one public).
    const created = async (path: string, body: unknown) => {
      const response = await edge.api('POST', path, body)
      expect({ path, status: response.status }).toEqual({ path, status: 201 })
      return (await response.json()) as Record<string, unknown>
    }
    await created('/services/external', { service_name: 'api', target_url: 'http://127.0.0.1:4000', description: 'the API' })
    await edge.createProxy('svc.example.com', 'service://api', { custom_headers: { 'X-Env': 'prod' }, hsts_max_age: 300 })
    const global = await created('/routes', { path_pattern: '/health', target_type: 'port', target_value: '9100', methods: ['GET'] })
    const scoped = await created('/routes', { path_pattern: '^/v[0-9]+/', is_regex: true, target_type: 'service', target_value: 'api', scope: 'proxy', proxy_hostnames: ['svc.example.com'], priority: 80 })
    await created('/routes', { path_pattern: '/app', target_type: 'hostname', target_value: 'app.example.com', strip_prefix: true })
    const routing = await edge.api('PUT', '/proxy/targets/svc.example.com/routes', { route_mode: 'selective', enabled_routes: [global.route_id, scoped.route_id] })
    expect(routing.status).toBe(200)
    for (const client of [
      { client_name: 'confidential app', redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic' },
      { client_name: 'public app', redirect_uris: ['http://127.0.0.1:7000/cb'], token_endpoint_auth_method: 'none' },
    ]) {
      const registered = await fetch(`${edge.server.apiUrl}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(client) })
      expect(registered.status).toBe(201)
    }
    aPath = join(dir, 'a.json')
    const exported = await cli.run(['system', 'config', 'export', '--include-secrets', '--output', aPath])
    expect(exported).toMatchObject({ code: 0, stdout: '' })
    aDocument = JSON.parse(readFileSync(aPath, 'utf8')) as Document
    expect({
      proxies: aDocument.proxies.length,
      routes: aDocument.routes.length,
      services: (aDocument.services as { external: unknown[] }).external.length,
      clients: (aDocument.oauth_clients as unknown[]).length,
    }).toEqual({ proxies: 3, routes: 3, services: 1, clients: 2 })
    // The secrets travel too, so B's equal export proves that they arrived.
    expect(JSON.stringify(aDocument)).toContain('exported-secret-1')
    expect((aDocument.oauth_clients as Record<string, unknown>[]).some((client) => typeof client.client_secret_hash === 'string')).toBe(true)
    // B: a new server with an empty store (its own :memory: SQLite, its own keys: A's token means nothing there).
    fresh = await startTestEdge()
    onB = createCliRunner(fresh.server.apiUrl, fresh.adminToken)
  })
  afterAll(async () => {
    onB.cleanup()
    await fresh.stop()
  })

  test('--dry-run on the empty B plans every entry of A and changes nothing', async () => {
    const empty = await exportB()
    expect(empty).toMatchObject({ proxies: [], routes: [], services: { external: [] }, oauth_clients: [] })
    const planned = await onB.run(['system', 'config', 'import', aPath, '--dry-run'])
    expect(planned.code).toBe(0)
    expect(planned.stdout.split('\n').slice(1, 5).map((line) => line.split(/\s{2,}/).slice(0, 2))).toEqual([
      ['proxies', '3'],
      ['routes', '3'],
      ['external services', '1'],
      ['oauth clients', '2'],
    ])
    expect(planned.stderr).toBe('dry run: nothing was changed\n')
    expect(await exportB()).toEqual(empty)
  })

  test('import a.json on B; B\'s export is A\'s document apart from exported_at, with and without secrets', async () => {
    const imported = await onB.run(['system', 'config', 'import', aPath])
    expect({ code: imported.code, stderr: imported.stderr }).toEqual({ code: 0, stderr: 'applied\n' })
    expect(await exportB()).toEqual(withoutTime(aDocument))
    const [plainA, plainB] = await Promise.all([cli.json<Document>(['system', 'config', 'export']), onB.json<Document>(['system', 'config', 'export'])])
    expect(withoutTime(plainB)).toEqual(withoutTime(plainA))
    // The same document again changes and announces nothing.
    expect(await onB.json(['system', 'config', 'import', aPath, '--json'])).toMatchObject({ dry_run: false, changed: false })
  })

  test('a document with one bad field deep inside (and valid changes elsewhere) exits 1 naming its path; B is unchanged', async () => {
    const before = await exportB()
    const bad = structuredClone(aDocument)
    bad.proxies.find((proxy) => proxy.proxy_hostname === 'app.example.com')!.target_url = 'http://127.0.0.1:3999'
    bad.routes.push({ ...bad.routes[0]!, route_id: 'extra-0000aaaa', path_pattern: '/extra' })
    const index = bad.proxies.findIndex((proxy) => proxy.proxy_hostname === 'svc.example.com')
    bad.proxies[index]!.custom_headers = { 'X-Env': 'prod', 'X-Bad': 'line\nbreak' }
    const badPath = join(dir, 'bad.json')
    writeFileSync(badPath, JSON.stringify(bad))
    const result = await onB.run(['system', 'config', 'import', badPath])
    expectFailure(result, 1, new RegExp(`nothing changed\\): proxies\\[${index}\\]\\.custom_headers\\.X-Bad: must not contain control characters`))
    expect(await exportB()).toEqual(before)
  })
})
