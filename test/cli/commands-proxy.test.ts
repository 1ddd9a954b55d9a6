/**
 * `oauth-https-proxy proxy …` against a real server: every command once with --json compared with the
 * API, the table and --quiet forms, and the failures (2 for a wrong argument, 4 for a missing proxy,
 * 3 for a user-scope token on a write, 1 with the API's field for its 400).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { apiJson, createCliRunner, expectFailure, issueToken, type CliRunner } from './commands-cli.ts'

let edge: TestEdge
let cli: CliRunner
let userToken: string

beforeAll(async () => {
  edge = await startTestEdge()
  cli = createCliRunner(edge.server.apiUrl, edge.adminToken)
  userToken = await issueToken(edge, ['user'])
})
afterAll(async () => {
  cli.cleanup()
  await edge.stop()
})

type Proxy = Record<string, unknown> & { proxy_hostname: string }

describe('proxy create, show, list, update, delete', () => {
  test('create sends exactly the flags given (repeatable headers, --no- booleans) and prints the API\'s proxy', async () => {
    const created = await cli.json<Proxy>([
      'proxy', 'create', '--hostname', 'app.example.com', '--target-url', 'http://127.0.0.1:3000',
      '--custom-header', 'X-One=1', '--custom-header', 'X-Two=a=b', '--custom-response-header', 'X-Served-By=edge',
      '--no-enable-http', '--hsts-max-age', '300', '--upstream-timeout', '30', '--proxy-protocol', 'v1', '--json',
    ])
    expect(created).toEqual(await apiJson<Proxy>(edge, '/proxy/targets/app.example.com'))
    expect(created).toMatchObject({
      target_url: 'http://127.0.0.1:3000',
      custom_headers: { 'X-One': '1', 'X-Two': 'a=b' },
      custom_response_headers: { 'X-Served-By': 'edge' },
      enable_http: false,
      enable_https: true,
      hsts_max_age: 300,
      upstream_timeout: 30,
      proxy_protocol: 'v1',
      enabled: true,
    })
  })

  test('show --json is the API\'s proxy; show prints key: value lines', async () => {
    expect(await cli.json(['proxy', 'show', 'app.example.com', '--json'])).toEqual(await apiJson(edge, '/proxy/targets/app.example.com'))
    const shown = await cli.run(['proxy', 'show', 'app.example.com'])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(/^proxy_hostname: +app\.example\.com$/m)
    expect(shown.stdout).toMatch(/^custom_headers\.X-One: +1$/m)
  })

  test('list: a table with HOSTNAME TARGET HTTP HTTPS AUTH ENABLED, --json the API\'s list, --quiet the hostnames', async () => {
    const [table, json, quiet] = await Promise.all([
      cli.run(['proxy', 'list']),
      cli.json(['proxy', 'list', '--json']),
      cli.run(['proxy', 'list', '-q']),
    ])
    expect(table.code).toBe(0)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]!.split(/\s+/)).toEqual(['HOSTNAME', 'TARGET', 'HTTP', 'HTTPS', 'AUTH', 'ENABLED'])
    expect(lines.find((line) => line.startsWith('app.example.com'))!.split(/\s+/)).toEqual(['app.example.com', 'http://127.0.0.1:3000', 'no', 'yes', 'no', 'yes'])
    const api = await apiJson<Proxy[]>(edge, '/proxy/targets')
    expect(json).toEqual(api)
    expect(quiet.stdout).toBe(api.map((proxy) => `${proxy.proxy_hostname}\n`).join(''))
  })

  test('update changes only what is given; "none" empties a nullable field and a header set', async () => {
    const updated = await cli.json<Proxy>(['proxy', 'update', 'app.example.com', '--no-enabled', '--custom-header', 'none', '--hsts-max-age', 'none', '--cert-name', 'app-cert', '--json'])
    expect(updated).toEqual(await apiJson<Proxy>(edge, '/proxy/targets/app.example.com'))
    expect(updated).toMatchObject({ enabled: false, custom_headers: {}, hsts_max_age: null, cert_name: 'app-cert', custom_response_headers: { 'X-Served-By': 'edge' }, upstream_timeout: 30 })
  })

  test('delete is refused while a route targets the proxy, naming --force; --force deletes; --quiet prints the hostname', async () => {
    await edge.createProxy('gone.example.com', 'http://127.0.0.1:3001')
    const route = await edge.api('POST', '/routes', { path_pattern: '/to-gone', target_type: 'hostname', target_value: 'gone.example.com' })
    expect(route.status).toBe(201)
    expectFailure(await cli.run(['proxy', 'delete', 'gone.example.com']), 1, /^oauth-https-proxy: 409 conflict: .*--force/)
    const deleted = await cli.run(['proxy', 'delete', 'gone.example.com', '--force', '--quiet'])
    expect(deleted).toEqual({ code: 0, stdout: 'gone.example.com\n', stderr: '' })
    expect((await edge.api('GET', '/proxy/targets/gone.example.com')).status).toBe(404)
  })
})

describe('proxy failures', () => {
  test('wrong arguments exit 2 with one line, before any request', async () => {
    const cases: [string[], RegExp][] = [
      [['proxy', 'create', '--target-url', 'http://127.0.0.1:1'], /--hostname/],
      [['proxy', 'create', '--hostname', 'x.example.com'], /--target-url/],
      [['proxy', 'update', 'app.example.com'], /nothing to change/],
      [['proxy', 'update', 'app.example.com', '--upstream-timeout', 'soon'], /--upstream-timeout: expected a whole number/],
      [['proxy', 'update', 'app.example.com', '--custom-header', 'novalue'], /--custom-header: expected NAME=VALUE/],
      [['proxy', 'update', 'app.example.com', '--proxy-protocol', 'v3'], /--proxy-protocol/],
      [['proxy', 'update', 'app.example.com', '--hostnme', 'x'], /unknown flag --hostnme/],
      [['proxy', 'show', 'app.example.com', 'extra'], /unexpected argument "extra"/],
      [['proxy', 'list', '--json', '--quiet'], /--json and --quiet cannot be combined/],
    ]
    const results = await Promise.all(cases.map(([args]) => cli.run(args)))
    results.forEach((result, i) => expectFailure(result, 2, cases[i]![1]))
  })

  test("the API's 400 exits 1 with its message naming the field", async () => {
    expectFailure(await cli.run(['proxy', 'create', '--hostname', 'bad.example.com', '--target-url', 'ftp://x']), 1, /^oauth-https-proxy: 400 invalid_request: field target_url: /)
  })

  test('a missing proxy exits 4; a user-scope token reads but a write exits 3', async () => {
    const [missing, read, write] = await Promise.all([
      cli.run(['proxy', 'show', 'nope.example.com']),
      cli.run(['proxy', 'list', '-q'], { token: userToken }),
      cli.run(['proxy', 'delete', 'app.example.com'], { token: userToken }),
    ])
    expectFailure(missing, 4, /404 not_found: no proxy for nope\.example\.com/)
    expect(read.code).toBe(0)
    expectFailure(write, 3, /^oauth-https-proxy: 403 /)
    expect((await edge.api('GET', '/proxy/targets/app.example.com')).status).toBe(200)
  })
})

describe('proxy routes', () => {
  let routeId: string
  beforeAll(async () => {
    const response = await edge.api('POST', '/routes', { path_pattern: '/api', target_type: 'port', target_value: 4000 })
    routeId = ((await response.json()) as { route_id: string }).route_id
  })

  test('show --json is the API\'s view; show prints the settings and the routes that apply', async () => {
    expect(await cli.json(['proxy', 'routes', 'show', 'app.example.com', '--json'])).toEqual(await apiJson(edge, '/proxy/targets/app.example.com/routes'))
    const shown = await cli.run(['proxy', 'routes', 'show', 'app.example.com'])
    expect(shown.stdout).toMatch(/^route_mode: +all$/m)
    expect(shown.stdout).toMatch(new RegExp(`^${routeId} +50 +/api +any +port:4000 +global +yes$`, 'm'))
  })

  test('set, disable and enable change the lists; the answer is the API\'s view', async () => {
    const set = await cli.json<{ route_mode: string; enabled_routes: string[] }>(['proxy', 'routes', 'set', 'app.example.com', '--route-mode', 'selective', '--enabled-route', routeId, '--json'])
    expect(set).toMatchObject({ route_mode: 'selective', enabled_routes: [routeId] })
    const disabled = await cli.json<{ enabled_routes: string[]; applicable_routes: unknown[] }>(['proxy', 'routes', 'disable', 'app.example.com', routeId, '--json'])
    expect(disabled).toMatchObject({ enabled_routes: [], applicable_routes: [] })
    const enabled = await cli.run(['proxy', 'routes', 'enable', 'app.example.com', routeId, '-q'])
    expect(enabled).toEqual({ code: 0, stdout: `${routeId}\n`, stderr: '' })
    expect(await cli.json(['proxy', 'routes', 'set', 'app.example.com', '--enabled-route', 'none', '--json'])).toEqual(await apiJson(edge, '/proxy/targets/app.example.com/routes'))
  })

  test('failures: nothing to set (2), an unknown route (4), a user token (3), none mode (1, naming route_mode)', async () => {
    const [nothing, unknown, user] = await Promise.all([
      cli.run(['proxy', 'routes', 'set', 'app.example.com']),
      cli.run(['proxy', 'routes', 'enable', 'app.example.com', 'no-such-route']),
      cli.run(['proxy', 'routes', 'set', 'app.example.com', '--route-mode', 'none'], { token: userToken }),
    ])
    expectFailure(nothing, 2, /nothing to change/)
    expectFailure(unknown, 4, /no route no-such-route/)
    expectFailure(user, 3, /403/)
    await cli.json(['proxy', 'routes', 'set', 'app.example.com', '--route-mode', 'none', '--json'])
    expectFailure(await cli.run(['proxy', 'routes', 'enable', 'app.example.com', routeId]), 1, /400 invalid_request: field route_mode: /)
  })
})

describe('proxy github', () => {
  const SECRET = 'gh-secret-value-1234'

  test('set reads the secret from stdin and never prints it; show and clear answer the API\'s view', async () => {
    const set = await cli.run(['proxy', 'github', 'set', 'app.example.com', '--client-id', 'Iv1.own', '--client-secret-stdin', '--json'], { stdin: `${SECRET}\n` })
    expect(set.code).toBe(0)
    expect(set.stdout + set.stderr).not.toContain(SECRET)
    expect(JSON.parse(set.stdout)).toEqual({ proxy_hostname: 'app.example.com', github_client_id: 'Iv1.own', github_client_secret_set: true })
    expect(await cli.json(['proxy', 'github', 'show', 'app.example.com', '--json'])).toEqual(await apiJson(edge, '/proxy/targets/app.example.com/github-oauth'))
    const stored = await edge.server.targets.gitHubApp('app.example.com')
    expect(stored?.clientSecret).toBe(SECRET)
    const cleared = await cli.json(['proxy', 'github', 'clear', 'app.example.com', '--json'])
    expect(cleared).toEqual({ proxy_hostname: 'app.example.com', github_client_id: null, github_client_secret_set: false })
  })

  test('without a terminal or --client-secret-stdin it exits 2; empty stdin exits 2; a user token exits 3; a missing proxy 4', async () => {
    const [noTerminal, empty, user, missing] = await Promise.all([
      cli.run(['proxy', 'github', 'set', 'app.example.com', '--client-id', 'Iv1.own']),
      cli.run(['proxy', 'github', 'set', 'app.example.com', '--client-id', 'Iv1.own', '--client-secret-stdin'], { stdin: '' }),
      cli.run(['proxy', 'github', 'clear', 'app.example.com'], { token: userToken }),
      cli.run(['proxy', 'github', 'show', 'nope.example.com']),
    ])
    expectFailure(noTerminal, 2, /--client-secret-stdin/)
    expectFailure(empty, 2, /standard input was empty/)
    expectFailure(user, 3, /403/)
    expectFailure(missing, 4, /404/)
  })
})
