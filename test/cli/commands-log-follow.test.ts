/**
 * `oauth-https-proxy log follow` as a user runs it, against a real server: a line per real request
 * through the edge, soon after it, with the filters; --json and --quiet; Ctrl-C (SIGINT) ends it with
 * exit 0. Between the CLI and the API a TCP relay of the test's own cuts the connection the way a
 * network or a load balancer would: the tail reconnects once, and a stream that drops again at once,
 * or a server that is gone, ends it with exit 1 and one line.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { viaHttp } from '../support/edge-clients.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { waitFor } from '../support/ports.ts'
import { baseEnv } from '../support/serve.ts'
import { spawnCli, stopCliProcesses, type CliProcess } from './cli-process.ts'
import { apiJson, createCliRunner, expectFailure, issueToken } from './commands-cli.ts'

const APP = 'follow-cli.test'
const OTHER = 'other-follow-cli.test'

let edge: TestEdge
let backend: ReturnType<typeof Bun.serve>
let configHome: string

beforeAll(async () => {
  edge = await startTestEdge()
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => new Response('ok', { status: new URL(request.url).pathname === '/boom' ? 500 : 200 }) })
  await edge.createProxy(APP, `http://127.0.0.1:${backend.port}`)
  await edge.createProxy(OTHER, `http://127.0.0.1:${backend.port}`)
  configHome = mkdtempSync(join(tmpdir(), 'ohp-cli-follow-'))
})
afterEach(() => stopCliProcesses())
afterAll(async () => {
  await edge?.stop()
  backend?.stop(true)
  if (configHome) rmSync(configHome, { recursive: true, force: true })
})

function follow(args: readonly string[], url = edge.server.apiUrl, token = edge.adminToken): CliProcess {
  return spawnCli(['log', 'follow', ...args, '--url', url, '--token', token], { ...baseEnv(), NO_COLOR: '1', XDG_CONFIG_HOME: configHome })
}

/** A request through the edge; its X-Request-Id. */
async function request(host: string, path: string): Promise<string> {
  const response = await viaHttp(edge, host, path)
  await response.arrayBuffer()
  return response.headers.get('x-request-id')!
}

const waitForStdout = (tail: CliProcess, text: string, timeoutMs = 5_000) => waitFor(() => tail.stdout().includes(text), { timeoutMs, what: `${JSON.stringify(text)} on stdout` })

/** A TCP relay to the API whose connections the test can cut, or that can go away altogether. */
interface Relay {
  readonly url: string
  /** Ends every connection open now; new ones still go through. */
  cut(): void
  close(): Promise<void>
}

async function startRelay(targetPort: number): Promise<Relay> {
  const open = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    const drop = () => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
    }
    open.add(client)
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const cut = () => {
    for (const socket of [...open]) socket.destroy()
  }
  return {
    url: `http://127.0.0.1:${port}`,
    cut,
    close: () => {
      cut()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

describe('log follow', () => {
  test('a line per request with the filters, within a second or two of it; Ctrl-C: exit 0, nothing else said', async () => {
    const tail = follow(['--host', APP])
    await tail.waitForStderr(/following http:\/\/127\.0\.0\.1:\d+\/logs\/follow; Ctrl-C to stop\n/)
    const sentAt = Date.now()
    await request(APP, '/follow/one?x=1')
    await request(APP, '/boom')
    await request(OTHER, '/follow/elsewhere')
    await waitForStdout(tail, '/boom')
    expect(Date.now() - sentAt).toBeLessThan(2_500)
    tail.proc.kill('SIGINT')
    const { code, stdout, stderr } = await tail.finished()
    expect(code).toBe(0)
    expect(stderr).toMatch(/^following \S+; Ctrl-C to stop\n$/)
    const lines = stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} 200 GET {5}${APP} /follow/one\\?x=1 [\\d.]+ms 127\\.0\\.0\\.1 -$`))
    expect(lines[1]).toMatch(new RegExp(` 500 GET {5}${APP} /boom `))
    expect(stdout).not.toContain(OTHER)
  })

  test('--json: one JSON line per record, the record as /logs/request/{id} has it; --quiet: the request ids', async () => {
    const json = follow(['--host', APP, '--json'])
    const quiet = follow(['--host', APP, '-q'])
    await Promise.all([json.waitForStderr(/following/), quiet.waitForStderr(/following/)])
    const id = await request(APP, '/follow/json')
    await Promise.all([waitForStdout(json, id), waitForStdout(quiet, id)])
    json.proc.kill('SIGINT')
    quiet.proc.kill('SIGINT')
    const [jsonDone, quietDone] = await Promise.all([json.finished(), quiet.finished()])
    expect([jsonDone.code, quietDone.code]).toEqual([0, 0])
    const lines = jsonDone.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    const { records } = await apiJson<{ records: unknown[] }>(edge, `/logs/request/${id}`)
    expect(JSON.parse(lines[0]!)).toEqual(records[0])
    expect(quietDone.stdout).toBe(`${id}\n`)
  })

  test('a dropped stream is reopened once and goes on; dropping again at once ends it: exit 1, one line', async () => {
    const relay = await startRelay(Number(new URL(edge.server.apiUrl).port))
    try {
      const tail = follow(['--host', APP], relay.url)
      await tail.waitForStderr(/following/)
      relay.cut()
      await tail.waitForStderr(/the live tail dropped; reconnecting\nfollowing \S+ again\n/)
      await request(APP, '/follow/after-reconnect')
      await waitForStdout(tail, '/follow/after-reconnect')
      relay.cut()
      const { code, stdout, stderr } = await tail.finished()
      expect(code).toBe(1)
      expect(stdout).toContain('/follow/after-reconnect')
      expect(stderr.trimEnd().split('\n').at(-1)).toMatch(/^oauth-https-proxy: the live tail from http:\/\/127\.0\.0\.1:\d+\/logs\/follow dropped again within 60 s of reconnecting$/)
    } finally {
      await relay.close()
    }
  })

  test('a server that is gone when the tail reconnects: exit 1, one line naming it', async () => {
    const relay = await startRelay(Number(new URL(edge.server.apiUrl).port))
    const tail = follow(['--host', APP], relay.url)
    await tail.waitForStderr(/following/)
    await relay.close()
    const { code, stderr } = await tail.finished()
    expect(code).toBe(1)
    expect(stderr.trimEnd().split('\n').at(-1)).toBe(`oauth-https-proxy: the live tail dropped and could not be reopened: cannot reach ${relay.url}: connection refused`)
  })

  test('failures before any stream: a user token (3), a bad filter is the API\'s 400 naming it (1), an unknown flag (2)', async () => {
    const cli = createCliRunner(edge.server.apiUrl, edge.adminToken)
    try {
      const userToken = await issueToken(edge, ['user'])
      expectFailure(await cli.run(['log', 'follow'], { token: userToken }), 3, /403/)
      expectFailure(await cli.run(['log', 'follow', '--status', '6xx']), 1, /400 invalid_request: .*status/)
      expectFailure(await cli.run(['log', 'follow', '--limit', '5']), 2, /unknown flag --limit/)
    } finally {
      cli.cleanup()
    }
  })
})
