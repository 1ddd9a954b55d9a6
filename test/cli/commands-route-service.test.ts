/**
 * `oauth-https-proxy route …` and `service external …` against a real server: every command once with
 * --json compared with the API, and per group a wrong argument (2), a missing object (4), a user-scope
 * token on a write (3) and the API's 400 (1, naming the field).
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
  await edge.createProxy('app.example.com', 'http://127.0.0.1:3000')
})
afterAll(async () => {
  cli.cleanup()
  await edge.stop()
})

type Route = Record<string, unknown> & { route_id: string }

describe('service external', () => {
  test('create, show, list, update: --json is the API\'s service; the table has NAME TARGET DESCRIPTION', async () => {
    const created = await cli.json<Record<string, unknown>>(['service', 'external', 'create', '--name', 'api', '--target-url', '127.0.0.1:4000', '--description', 'the API', '--json'])
    expect(created).toMatchObject({ service_name: 'api', target_url: 'http://127.0.0.1:4000', description: 'the API' })
    expect(await cli.json(['service', 'external', 'show', 'api', '--json'])).toEqual(await apiJson(edge, '/services/external/api'))
    const updated = await cli.json(['service', 'external', 'update', 'api', '--target-url', 'http://127.0.0.1:4001', '--json'])
    expect(updated).toEqual(await apiJson(edge, '/services/external/api'))
    expect(updated).toMatchObject({ target_url: 'http://127.0.0.1:4001', description: 'the API' })
    const [table, json] = await Promise.all([cli.run(['service', 'external', 'list']), cli.json(['service', 'external', 'list', '--json'])])
    expect(table.stdout).toBe('NAME  TARGET                 DESCRIPTION\napi   http://127.0.0.1:4001  the API\n')
    expect(json).toEqual(await apiJson(edge, '/services/external'))
  })

  test('failures: no change given (2), a missing service (4), a user token (3), a reserved name (1, naming service_name)', async () => {
    const [nothing, missing, user, reserved] = await Promise.all([
      cli.run(['service', 'external', 'update', 'api']),
      cli.run(['service', 'external', 'show', 'nope']),
      cli.run(['service', 'external', 'create', '--name', 'other', '--target-url', 'http://127.0.0.1:1'], { token: userToken }),
      cli.run(['service', 'external', 'create', '--name', 'proxy', '--target-url', 'http://127.0.0.1:1']),
    ])
    expectFailure(nothing, 2, /nothing to change/)
    expectFailure(missing, 4, /no service named nope/)
    expectFailure(user, 3, /403/)
    expectFailure(reserved, 1, /400 invalid_request: field service_name: is reserved/)
  })
})

describe('route', () => {
  let urlRoute: Route
  let serviceRoute: Route

  test('create with each kind of target: --to-url, --to-service with --proxy (scope proxy), --to-port, --to-proxy', async () => {
    urlRoute = await cli.json<Route>(['route', 'create', '--path', '/api', '--to-url', 'http://127.0.0.1:4000', '--strip-prefix', '--method', 'get', '--method', 'POST', '--description', 'api', '--json'])
    expect(urlRoute).toMatchObject({ path_pattern: '/api', target_type: 'url', target_value: 'http://127.0.0.1:4000', strip_prefix: true, methods: ['GET', 'POST'], scope: 'global', priority: 50 })
    serviceRoute = await cli.json<Route>(['route', 'create', '--path', '^/v[0-9]+/', '--regex', '--to-service', 'api', '--proxy', 'app.example.com', '--priority', '80', '--disabled', '--json'])
    expect(serviceRoute).toMatchObject({ is_regex: true, target_type: 'service', target_value: 'api', scope: 'proxy', proxy_hostnames: ['app.example.com'], priority: 80, enabled: false })
    const port = await cli.run(['route', 'create', '--path', '/metrics', '--to-port', '9100', '-q'])
    expect(port.code).toBe(0)
    expect(await apiJson(edge, `/routes/${port.stdout.trim()}`)).toMatchObject({ target_type: 'port', target_value: '9100' })
    expect(await cli.json(['route', 'create', '--path', '/other', '--to-proxy', 'app.example.com', '--json'])).toMatchObject({ target_type: 'hostname', target_value: 'app.example.com' })
  })

  test('list: the table in matching order, --json the API\'s list, --enabled/--disabled filter, --quiet the ids', async () => {
    const [table, json, disabled, enabledIds] = await Promise.all([
      cli.run(['route', 'list']),
      cli.json<Route[]>(['route', 'list', '--json']),
      cli.json<Route[]>(['route', 'list', '--disabled', '--json']),
      cli.run(['route', 'list', '--enabled', '-q']),
    ])
    const api = await apiJson<Route[]>(edge, '/routes')
    expect(json).toEqual(api)
    expect(disabled.map((route) => route.route_id)).toEqual([serviceRoute.route_id])
    expect(enabledIds.stdout).toBe(api.filter((route) => route.enabled).map((route) => `${route.route_id}\n`).join(''))
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]!.split(/\s+/)).toEqual(['ID', 'PRIORITY', 'PATH', 'METHODS', 'TARGET', 'SCOPE', 'ENABLED'])
    expect(lines[1]!.split(/\s+/)).toEqual([serviceRoute.route_id, '80', '~^/v[0-9]+/', 'any', 'service:api', 'app.example.com', 'no'])
    expect(lines.find((line) => line.startsWith(urlRoute.route_id))!.split(/\s+/)).toEqual([urlRoute.route_id, '50', '/api', 'GET,POST', 'http://127.0.0.1:4000', 'global', 'yes'])
  })

  test('show and update: only the fields given change; --method "*" is any method; --scope global empties the proxies', async () => {
    expect(await cli.json(['route', 'show', urlRoute.route_id, '--json'])).toEqual(await apiJson(edge, `/routes/${urlRoute.route_id}`))
    const updated = await cli.json<Route>(['route', 'update', urlRoute.route_id, '--priority', '90', '--to-port', '4001', '--method', '*', '--no-strip-prefix', '--json'])
    expect(updated).toEqual(await apiJson(edge, `/routes/${urlRoute.route_id}`))
    expect(updated).toMatchObject({ priority: 90, target_type: 'port', target_value: '4001', methods: null, strip_prefix: false, description: 'api', path_pattern: '/api' })
    const global = await cli.json<Route>(['route', 'update', serviceRoute.route_id, '--scope', 'global', '--enabled', '--json'])
    expect(global).toMatchObject({ scope: 'global', proxy_hostnames: [], enabled: true, priority: 80 })
  })

  test('delete prints the id with --quiet; the route is gone', async () => {
    expect(await cli.run(['route', 'delete', urlRoute.route_id, '-q'])).toEqual({ code: 0, stdout: `${urlRoute.route_id}\n`, stderr: '' })
    expect((await edge.api('GET', `/routes/${urlRoute.route_id}`)).status).toBe(404)
  })

  test('wrong arguments exit 2 with one line, before any request', async () => {
    const cases: [string[], RegExp][] = [
      [['route', 'create', '--to-port', '80'], /--path/],
      [['route', 'create', '--path', '/x'], /a target is required/],
      [['route', 'create', '--path', '/x', '--to-port', '80', '--to-url', 'http://a'], /--to-url and --to-port cannot be combined/],
      [['route', 'create', '--path', '/x', '--to-port', 'eighty'], /--to-port: expected a whole number/],
      [['route', 'create', '--path', '/x', '--to-port', '80', '--priority', 'high'], /--priority: expected a whole number/],
      [['route', 'create', '--path', '/x', '--to-port', '80', '--scope', 'global', '--proxy', 'app.example.com'], /--proxy and --scope global/],
      [['route', 'create', '--path', '/x', '--to-port', '80', '--scope', 'everywhere'], /--scope/],
      [['route', 'update', serviceRoute.route_id], /nothing to change/],
      [['route', 'update', serviceRoute.route_id, '--enabled', '--disabled'], /--enabled and --disabled cannot be combined/],
      [['route', 'list', '--enabled', '--disabled'], /cannot be combined/],
    ]
    const results = await Promise.all(cases.map(([args]) => cli.run(args)))
    results.forEach((result, i) => expectFailure(result, 2, cases[i]![1]))
  })

  test('the API\'s 400 (1, naming the field), a missing route (4), a user token on a write (3)', async () => {
    const [badRegex, missing, missingUpdate, user] = await Promise.all([
      cli.run(['route', 'create', '--path', '(?=x)', '--regex', '--to-port', '80']),
      cli.run(['route', 'show', 'no-such-route']),
      cli.run(['route', 'update', 'no-such-route', '--priority', '1']),
      cli.run(['route', 'delete', serviceRoute.route_id], { token: userToken }),
    ])
    expectFailure(badRegex, 1, /400 invalid_request: field path_pattern: /)
    expectFailure(missing, 4, /404/)
    expectFailure(missingUpdate, 4, /404/)
    expectFailure(user, 3, /403/)
  })

  test('service delete is refused while a route points at it, naming --force; --force deletes', async () => {
    expectFailure(await cli.run(['service', 'external', 'delete', 'api']), 1, /409 conflict: .*--force/)
    const deleted = await cli.run(['service', 'external', 'delete', 'api', '--force'])
    expect(deleted).toEqual({ code: 0, stdout: '', stderr: 'deleted external service api\n' })
    expect((await edge.api('GET', '/services/external/api')).status).toBe(404)
  })
})
