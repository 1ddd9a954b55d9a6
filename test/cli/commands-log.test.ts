/**
 * `oauth-https-proxy log …` against a real server: real requests through the edge (relay, HTTP and
 * HTTPS, a backend that answers, fails with 500 or is not there, one with a user's token) leave records,
 * and each command finds them — --json is the API's answer, the table has the columns people read,
 * --quiet the request ids, paging says how to go on (--cursor) or follows the cursors (--all). Plus
 * statistics (scope user), one request by its id, OAuth events from a real registration, log levels,
 * and the failures: usage (2), the API's 400 naming the parameter (1), a user token on admin data (3),
 * an unknown id (4). The live tail is in commands-log-follow.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { edgeTokens } from '../support/auth-tokens.ts'
import { viaHttp, viaHttps } from '../support/edge-clients.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { apiJson, createCliRunner, expectFailure, issueToken, type CliRunner } from './commands-cli.ts'

interface LogRecord {
  id: string
  request_id: string
  host: string
  method: string
  path: string
  status: number
  client_ip: string
  user: string | null
  client_id: string | null
  outcome: string
  backend_error: string | null
}
interface Page {
  records: LogRecord[]
  count: number
  next_cursor: string | null
}

const APP = 'cli-log.test'
const AUTH = 'auth-cli-log.test'
const DOWN = 'down-cli-log.test'

let edge: TestEdge
let cli: CliRunner
let userToken: string
let backend: ReturnType<typeof Bun.serve>
/** The X-Request-Id each request got back, by a name of ours. */
const ids = new Map<string, string>()

async function send(name: string, request: Promise<Response>): Promise<void> {
  const response = await request
  await response.arrayBuffer()
  const id = response.headers.get('x-request-id')
  if (!id) throw new Error(`${name}: no X-Request-Id`)
  ids.set(name, id)
}

beforeAll(async () => {
  edge = await startTestEdge()
  cli = createCliRunner(edge.server.apiUrl, edge.adminToken)
  userToken = await issueToken(edge, ['user'])
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => (new URL(request.url).pathname === '/boom' ? new Response('boom', { status: 500 }) : new Response('ok')) })
  await edge.createProxy(APP, `http://127.0.0.1:${backend.port}`)
  await edge.createProxy(AUTH, `http://127.0.0.1:${backend.port}`)
  await edge.createProxy(DOWN, `http://127.0.0.1:${await freePort()}`)
  const auth = await edge.api('PUT', `/proxy/targets/${AUTH}/auth`, { auth_enabled: true })
  if (auth.status !== 200) throw new Error(`auth: ${auth.status}`)
  await edge.server.edge.reconcile()
  const token = await edgeTokens(edge).valid(`http://${AUTH}`, { username: 'alice', clientId: 'cli-log-client' })

  await send('one', viaHttp(edge, APP, '/cli-log/one?x=1'))
  await send('two', viaHttp(edge, APP, '/cli-log/two', { method: 'POST', body: 'hello' }))
  await send('tls', viaHttps(edge, APP, '/cli-log/tls'))
  await send('boom', viaHttp(edge, APP, '/boom'))
  await send('down', viaHttp(edge, DOWN, '/cli-log/gone'))
  await send('alice', viaHttp(edge, AUTH, '/cli-log/private', { headers: { authorization: `Bearer ${token}` } }))
  const wanted = [...ids.values()]
  await waitFor(
    async () => {
      const page = await apiJson<Page>(edge, '/logs/search?limit=1000')
      return wanted.every((id) => page.records.some((record) => record.request_id === id))
    },
    { timeoutMs: 5_000, what: 'every request in the log' },
  )
}, 30_000)

afterAll(async () => {
  cli?.cleanup()
  await edge?.stop()
  backend?.stop(true)
})

const requestIdsOf = (records: readonly LogRecord[]) => records.map((record) => record.request_id)

describe('log search', () => {
  test('--json: the records of the API\'s answer for the same filters; the table: TIME STATUS METHOD HOST PATH … one row per record', async () => {
    const [json, table] = await Promise.all([cli.json<Page>(['log', 'search', '--host', APP, '--json']), cli.run(['log', 'search', '--host', APP])])
    const api = await apiJson<Page>(edge, `/logs/search?host=${APP}`)
    expect(json.records).toEqual(api.records)
    expect(new Set(requestIdsOf(json.records))).toEqual(new Set(['one', 'two', 'tls', 'boom'].map((name) => ids.get(name)!)))
    expect(table.code).toBe(0)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^TIME +STATUS +METHOD +HOST +PATH +DURATION +CLIENT IP +USER +OUTCOME +REQUEST ID$/)
    expect(lines).toHaveLength(5)
    expect(lines.find((line) => line.includes('/cli-log/one'))).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} +200 +GET +${APP} +/cli-log/one\\?x=1 +[\\d.]+ms +127\\.0\\.0\\.1 +- +forwarded +${ids.get('one')}$`))
    expect(lines.find((line) => line.includes('/cli-log/two'))).toMatch(/ 200 +POST /)
    expect(table.stderr).toBe('')
  })

  test('filters carry the API\'s names: --status 5xx, --method, --path, --user, --client-id, --outcome, --backend-error, --query (q)', async () => {
    const run = async (...args: string[]) => requestIdsOf((await cli.json<Page>(['log', 'search', ...args, '--json'])).records).sort()
    const sorted = (...names: string[]) => names.map((name) => ids.get(name)!).sort()
    expect(await run('--status', '5xx')).toEqual(sorted('boom', 'down'))
    expect(await run('--method', 'post')).toEqual(sorted('two'))
    expect(await run('--path', '/cli-log/t')).toEqual(sorted('two', 'tls'))
    expect(await run('--user', 'alice')).toEqual(sorted('alice'))
    expect(await run('--client-id', 'cli-log-client')).toEqual(sorted('alice'))
    expect(await run('--backend-error', 'refused')).toEqual(sorted('down'))
    expect(await run('--outcome', 'backend_error', '--host', DOWN)).toEqual(sorted('down'))
    expect(await run('--query', `host:${APP} status:500`)).toEqual(sorted('boom'))
    expect(await run('--host', APP, '--from', '1h', '--to', 'now', '--ip', '127.0.0.0/8')).toEqual(sorted('one', 'two', 'tls', 'boom'))
  })

  test('--quiet prints the request ids; a page with more says so on stderr with the --cursor, and that cursor continues', async () => {
    const first = await cli.run(['log', 'search', '--host', APP, '--limit', '3', '-q'])
    expect(first.code).toBe(0)
    const firstIds = first.stdout.trimEnd().split('\n')
    expect(firstIds).toHaveLength(3)
    const hint = /^more records: continue with --cursor (\S+) \(or --all\)\n$/.exec(first.stderr)
    expect(hint).not.toBeNull()
    const second = await cli.run(['log', 'search', '--host', APP, '--limit', '3', '-q', '--cursor', hint![1]!])
    expect(second.code).toBe(0)
    expect(second.stderr).toBe('')
    const all = requestIdsOf((await apiJson<Page>(edge, `/logs/search?host=${APP}`)).records)
    expect([...firstIds, ...second.stdout.trimEnd().split('\n')]).toEqual(all)
  })

  test('--all follows the cursors: every record of the window, with --json in the API\'s page shape and next_cursor null', async () => {
    const all = await cli.json<Page>(['log', 'search', '--host', APP, '--limit', '1', '--all', '--json'])
    const api = await apiJson<Page>(edge, `/logs/search?host=${APP}`)
    expect(requestIdsOf(all.records)).toEqual(requestIdsOf(api.records))
    expect(all).toMatchObject({ count: 4, next_cursor: null })
    const table = await cli.run(['log', 'search', '--host', APP, '--limit', '1', '--all'])
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(5)
    expect(table.stderr).toBe('')
  })

  test('an empty window: no rows, a line on stderr, exit 0', async () => {
    const result = await cli.run(['log', 'search', '--host', 'nobody.test'])
    expect(result).toEqual({ code: 0, stdout: '', stderr: 'no records in the window\n' })
  })

  test('failures: a bad number or an unknown flag (2), the API\'s 400 naming the parameter (1), a user token (3), no token (3)', async () => {
    const [limit, unknown, status, cidr, user, anonymous] = await Promise.all([
      cli.run(['log', 'search', '--limit', 'ten']),
      cli.run(['log', 'search', '--hostname', APP]),
      cli.run(['log', 'search', '--status', '6xx']),
      cli.run(['log', 'search', '--ip', 'not-an-address']),
      cli.run(['log', 'search'], { token: userToken }),
      cli.run(['log', 'search'], { token: null }),
    ])
    expectFailure(limit, 2, /--limit: expected a whole number/)
    expectFailure(unknown, 2, /unknown flag --hostname/)
    expectFailure(status, 1, /400 invalid_request: .*status.*expected a status/)
    expectFailure(cidr, 1, /400 invalid_request: .*ip/)
    expectFailure(user, 3, /403/)
    expectFailure(anonymous, 3, /not signed in/)
  })
})

describe('the listings', () => {
  test('ip, host, proxy, user, client and errors answer what their API path answers', async () => {
    const cases: [string[], string][] = [
      [['ip', '127.0.0.1', '--host', APP], `/logs/ip/127.0.0.1?host=${APP}`],
      [['host', APP], `/logs/host/${APP}`],
      [['proxy', DOWN], `/logs/proxy/${DOWN}`],
      [['user', 'alice'], '/logs/user/alice'],
      [['client', 'cli-log-client'], '/logs/client/cli-log-client'],
      [['errors', '--host', APP], `/logs/errors?host=${APP}`],
    ]
    for (const [args, path] of cases) {
      const [json, api] = await Promise.all([cli.json<Page>(['log', ...args, '--json']), apiJson<Page>(edge, path)])
      expect(json.records).toEqual(api.records)
      expect(json.records.length).toBeGreaterThan(0)
    }
    expect(requestIdsOf((await cli.json<Page>(['log', 'errors', '--json'])).records).sort()).toEqual([ids.get('boom')!, ids.get('down')!].sort())
  })

  test('errors: the table names the backend\'s failure (refused) where the outcome was backend_error', async () => {
    const table = await cli.run(['log', 'errors'])
    expect(table.code).toBe(0)
    expect(table.stdout.split('\n').find((line) => line.includes(DOWN))).toMatch(/ 502 +GET +down-cli-log\.test +\/cli-log\/gone .* refused +\S+$/)
  })

  test('the path\'s own filter is not a flag as well; the value is one path segment; a bad address is the API\'s 400', async () => {
    expectFailure(await cli.run(['log', 'ip', '127.0.0.1', '--ip', '10.0.0.1']), 2, /unknown flag --ip/)
    expectFailure(await cli.run(['log', 'user']), 2, /username/i)
    expectFailure(await cli.run(['log', 'host', '..']), 2, /is not a name/)
    expectFailure(await cli.run(['log', 'ip', 'nowhere']), 1, /400 invalid_request: .*ip/)
  })
})

describe('log request', () => {
  test('one request by its id: key: value lines, --json the API\'s answer, --quiet the id; an unknown id is exit 4', async () => {
    const id = ids.get('one')!
    const [record, json, quiet, missing] = await Promise.all([
      cli.run(['log', 'request', id]),
      cli.json(['log', 'request', id, '--json']),
      cli.run(['log', 'request', id, '-q']),
      cli.run(['log', 'request', 'no-such-request-id']),
    ])
    expect(json).toEqual(await apiJson(edge, `/logs/request/${id}`))
    expect(record.stdout).toMatch(new RegExp(`^request_id: +${id}$`, 'm'))
    expect(record.stdout).toMatch(/^path: +\/cli-log\/one\?x=1$/m)
    expect(record.stdout).toMatch(/^status: +200$/m)
    expect(quiet.stdout).toBe(`${id}\n`)
    expectFailure(missing, 4, /404 not_found: no request no-such-request-id/)
  })
})

describe('log stats', () => {
  interface Stats {
    requests: number
    errors: number
    status: Record<string, number>
    top_hosts: { value: string; requests: number }[]
  }

  test('--json is the API\'s statistics; the summary and the tables for people; a user-scope token may read them', async () => {
    const [json, api] = await Promise.all([cli.json<Stats>(['log', 'stats', '--host', APP, '--json'], { token: userToken }), apiJson<Stats>(edge, `/logs/stats?host=${APP}`)])
    const { from: _from, to: _to, ...numbers } = json as Stats & { from: string; to: string }
    const { from: _f, to: _t, ...apiNumbers } = api as Stats & { from: string; to: string }
    expect(numbers).toEqual(apiNumbers)
    expect(json).toMatchObject({ requests: 4, errors: 1, status: { '200': 3, '500': 1 } })
    const table = await cli.run(['log', 'stats', '--host', APP, '--bucket', 'minute'])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/^requests: +4$/m)
    expect(table.stdout).toMatch(/^errors: +1 \(25\.0%\)$/m)
    expect(table.stdout).toMatch(/^status: +200: 3, 500: 1$/m)
    expect(table.stdout).toMatch(/^latency ms: +p50 [\d.]+, p90 [\d.]+, p99 [\d.]+, max [\d.]+, mean [\d.]+$/m)
    expect(table.stdout).toMatch(new RegExp(`^TOP HOST +REQUESTS\\n${APP.replaceAll('.', '\\.')} +4$`, 'm'))
    expect(table.stdout).toMatch(/^MINUTE \(UTC\) +REQUESTS +ERRORS +P50 MS +P99 MS$/m)
    expect((await cli.run(['log', 'stats', '--host', APP, '-q'])).stdout).toBe('4\n')
  })

  test('failures: a caller filter is not a stats flag (2), a bad bucket (2), a bad --top is the API\'s 400 naming top (1)', async () => {
    expectFailure(await cli.run(['log', 'stats', '--ip', '127.0.0.1']), 2, /unknown flag --ip/)
    expect((await cli.run(['log', 'stats', '--bucket', 'day'])).code).toBe(2)
    expectFailure(await cli.run(['log', 'stats', '--top', '1000']), 1, /400 invalid_request: .*top/)
  })
})

describe('log oauth', () => {
  test('a real registration is a client_registered event: --json the API\'s page, the table, --type filters', async () => {
    const registered = await fetch(`${edge.server.apiUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:33419/cb'], client_name: 'cli-log', token_endpoint_auth_method: 'none' }),
    })
    expect(registered.status).toBe(201)
    const { client_id: clientId } = (await registered.json()) as { client_id: string }
    await waitFor(async () => ((await apiJson<{ events: unknown[] }>(edge, `/oauth/events?client_id=${clientId}`)).events.length > 0 ? true : null), { timeoutMs: 5_000, what: 'the event' })
    const [json, api, table, none] = await Promise.all([
      cli.json<{ events: { id: string; type: string }[] }>(['log', 'oauth', '--client-id', clientId, '--json']),
      apiJson<{ events: { id: string; type: string }[] }>(edge, `/oauth/events?client_id=${clientId}`),
      cli.run(['log', 'oauth', '--client-id', clientId, '--type', 'client_registered', '--type', 'client_updated']),
      cli.run(['log', 'oauth', '--client-id', clientId, '--type', 'login']),
    ])
    expect(json).toEqual(api)
    expect(json.events.map((event) => event.type)).toEqual(['client_registered'])
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^TIME +TYPE +USER +CLIENT ID +IP +GRANT +REASON +RESOURCE$/)
    expect(lines[1]).toMatch(new RegExp(` client_registered +- +${clientId} `))
    expect(none).toEqual({ code: 0, stdout: '', stderr: 'no OAuth events\n' })
    expect((await cli.run(['log', 'oauth', '--client-id', clientId, '-q'])).stdout).toBe(`${json.events[0]!.id}\n`)
  })

  test('failures: an unknown type is the API\'s 400 naming type (1); a user token (3)', async () => {
    expectFailure(await cli.run(['log', 'oauth', '--type', 'nonsense']), 1, /400 invalid_request: .*type/)
    expectFailure(await cli.run(['log', 'oauth'], { token: userToken }), 3, /403/)
  })
})

describe('log level', () => {
  interface Levels {
    default: string
    components: { name: string; level: string; own: boolean }[]
  }
  const levelOf = (levels: Levels, name: string) => levels.components.find((entry) => entry.name === name)

  test('show, set COMPONENT LEVEL, set default LEVEL, reset COMPONENT: the API\'s table each time', async () => {
    const shown = await cli.json<Levels>(['log', 'level', 'show', '--json'])
    expect(shown).toEqual(await apiJson(edge, '/logs/level'))
    const set = await cli.json<Levels>(['log', 'level', 'set', 'oauth', 'debug', '--json'])
    expect(levelOf(set, 'oauth')).toEqual({ name: 'oauth', level: 'debug', own: true })
    const table = await cli.run(['log', 'level', 'show'])
    expect(table.stdout).toMatch(/^node: +\S+\ndefault: +\w+\n\nCOMPONENT +LEVEL +SET\n/)
    expect(table.stdout).toMatch(/^oauth +debug +own$/m)
    const reset = await cli.json<Levels>(['log', 'level', 'reset', 'oauth', '--json'])
    expect(levelOf(reset, 'oauth')).toMatchObject({ own: false, level: reset.default })
    const before = shown.default
    expect((await cli.json<Levels>(['log', 'level', 'set', 'default', 'error', '--json'])).default).toBe('error')
    expect((await cli.json<Levels>(['log', 'level', 'set', 'default', before, '--json'])).default).toBe(before)
    expect((await cli.run(['log', 'level', 'show', '-q'])).stdout.split('\n')).toContain('oauth')
  })

  test('failures: a bad level is the API\'s 400 naming level (1), an unknown component (4), reset default (2), a user token (3)', async () => {
    expectFailure(await cli.run(['log', 'level', 'set', 'oauth', 'loud']), 1, /400 invalid_request: .*level/)
    expectFailure(await cli.run(['log', 'level', 'set', 'nosuch', 'info']), 4, /no log component nosuch/)
    expectFailure(await cli.run(['log', 'level', 'reset', 'default']), 2, /set default LEVEL/)
    expectFailure(await cli.run(['log', 'level', 'show'], { token: userToken }), 3, /403/)
  })
})
