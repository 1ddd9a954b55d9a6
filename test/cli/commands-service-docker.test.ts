/**
 * `oauth-https-proxy service …` for Docker services as a user runs it, against a real server and a real
 * dockerd: create from a YAML spec with flags over it, list (table and --json), show, logs (both streams,
 * --json, --follow), stats, ports, stop/start, delete; and the failures: a usage error (2), a missing
 * service (4), a user token on a write (3), the API's 400 naming the field (1).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BUSYBOX_IMAGE, ensureBusyboxImage, removeTestContainers, requireDocker } from '../support/docker.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { viaHttp } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'
import { baseEnv } from '../support/serve.ts'
import { spawnCli, stopCliProcesses } from './cli-process.ts'
import { apiJson, createCliRunner, expectFailure, issueToken, type CliRunner } from './commands-cli.ts'

const FILE = 'commands-service-docker'
const NAME = 'cli-web'

let edge: TestEdge
let cli: CliRunner
let userToken: string
let dir: string

beforeAll(async () => {
  await requireDocker()
  await ensureBusyboxImage()
  edge = await startTestEdge({ BASE_DOMAIN: 'svc-cli.test' })
  cli = createCliRunner(edge.server.apiUrl, edge.adminToken)
  userToken = await issueToken(edge, ['user'])
  dir = mkdtempSync(join(tmpdir(), 'ohp-cli-service-'))
}, 120_000)
afterEach(() => stopCliProcesses())
afterAll(async () => {
  await edge?.api('DELETE', `/services/${NAME}?force=true&delete_proxy=true`).catch(() => {})
  cli?.cleanup()
  await edge?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
  await removeTestContainers(`ohp-test.file=${FILE}`)
}, 60_000)

describe('service (Docker)', () => {
  test('create --file spec.yaml with flags over it and --auto-proxy; list, show and ports print what the API holds', async () => {
    // The command has an argument with spaces: only the spec file can say it.
    const spec = join(dir, 'web.yaml')
    writeFileSync(
      spec,
      [
        `service_name: ${NAME}`,
        `image: ${BUSYBOX_IMAGE}`,
        'command: [sh, -c, "trap \'exit 0\' TERM; echo hello from stdout; usleep 50000; echo hello from stderr >&2; httpd -f -v -p 8080 -h /www & wait"]',
        'internal_port: 8080',
        'memory_limit: 512m',
        'labels:',
        '  ohp-test: "true"',
        `  ohp-test.file: ${FILE}`,
        '',
      ].join('\n'),
    )
    const created = await cli.json<{ service: Record<string, unknown>; proxy: Record<string, unknown> }>(['service', 'create', '--file', spec, '--memory-limit', '48m', '--auto-proxy', '--json'])
    expect(created.service).toMatchObject({ service_name: NAME, memory_limit: '48m', status: 'running' })
    expect(created.proxy).toMatchObject({ proxy_hostname: `${NAME}.svc-cli.test`, target_url: `service://${NAME}` })

    const [table, json, show] = await Promise.all([cli.run(['service', 'list', '--owned-only']), cli.json(['service', 'list', '--json']), cli.json(['service', 'show', NAME, '--json'])])
    expect(json).toEqual(await apiJson(edge, '/services'))
    expect(show).toEqual(await apiJson(edge, `/services/${NAME}`))
    const port = (show as { ports: { host_port: number }[] }).ports[0]!.host_port
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^NAME\s+IMAGE\s+STATUS\s+PORTS\s+CREATED$/)
    expect(lines[1]).toMatch(new RegExp(`^${NAME}\\s+${BUSYBOX_IMAGE.replace(/[/.]/g, '\\$&')}\\s+running\\s+http 127\\.0\\.0\\.1:${port}->8080\\s+\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}$`))
    const ports = await cli.run(['service', 'ports', 'list'])
    expect(ports.stdout).toMatch(new RegExp(`^${port}\\s+${NAME}\\s+http\\s+127\\.0\\.0\\.1\\s+tcp$`, 'm'))
  }, 60_000)

  test('logs: stdout lines on stdout and stderr lines on stderr; --json gives both in order; --follow prints a new line', async () => {
    const plain = await waitFor(async () => {
      const result = await cli.run(['service', 'logs', NAME])
      return result.stdout.includes('hello from stdout') && result.stderr.includes('hello from stderr') ? result : null
    }, { timeoutMs: 10_000, intervalMs: 200, what: 'both lines' })
    expect(plain.code).toBe(0)
    expect(plain.stdout).toBe('hello from stdout\n')
    expect(plain.stderr).toBe('hello from stderr\n')
    const json = await cli.json<{ logs: { stream: string; text: string }[] }>(['service', 'logs', NAME, '--json'])
    expect(json.logs).toEqual([
      { stream: 'stdout', text: 'hello from stdout' },
      { stream: 'stderr', text: 'hello from stderr' },
    ])

    const follow = spawnCli(['service', 'logs', NAME, '--follow', '--tail', '0', '--json', '--url', edge.server.apiUrl, '--token', edge.adminToken], { ...baseEnv(), NO_COLOR: '1', XDG_CONFIG_HOME: dir })
    await follow.waitForStderr(/^following cli-web's output; Ctrl-C to stop$/m)
    // httpd -v writes a line on stderr for each answer: a request through the proxy makes the container write.
    await waitFor(async () => {
      await (await viaHttp(edge, `${NAME}.svc-cli.test`)).arrayBuffer()
      return follow.stdout().includes('response:200')
    }, { timeoutMs: 15_000, intervalMs: 500, what: 'a followed line' })
    const followed = follow.stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { stream: string; text: string })
    expect(followed.find((line) => line.text.includes('response:200'))).toMatchObject({ stream: 'stderr' })
    follow.proc.kill('SIGINT')
    expect((await follow.finished()).code).toBe(0)
  }, 60_000)

  test('stats, stop and start', async () => {
    const stats = await cli.json<Record<string, number>>(['service', 'stats', NAME, '--json'])
    expect(stats.memory_limit).toBe(48 * 1024 * 1024)
    expect(stats.pids).toBeGreaterThanOrEqual(1)
    const stopped = await cli.run(['service', 'stop', NAME])
    expect(stopped).toMatchObject({ code: 0, stdout: '', stderr: `service ${NAME}: stopped\n` })
    expect(await cli.json(['service', 'start', NAME, '--json'])).toMatchObject({ service_name: NAME, status: 'running' })
  }, 30_000)

  test('update: the fields given change; the others, and the host port, stay', async () => {
    const before = await apiJson<{ ports: { host_port: number }[]; command: string[]; labels: Record<string, string> }>(edge, `/services/${NAME}`)
    const updated = await cli.json<Record<string, unknown>>(['service', 'update', NAME, '--memory-limit', '64m', '--env', 'GREETING=hi', '--json'])
    expect(updated).toMatchObject({ memory_limit: '64m', environment: { GREETING: 'hi' }, command: before.command, labels: before.labels, status: 'running', ports: [{ name: 'http', host_port: before.ports[0]!.host_port }] })
    const nothing = await cli.run(['service', 'update', NAME])
    expectFailure(nothing, 2, /nothing to change/)
  }, 30_000)

  test('failures: a usage error (2), a missing service (4), a user token on a write (3), a refused field (1, naming it)', async () => {
    const [noName, volume, missing, user, privileged] = await Promise.all([
      cli.run(['service', 'create', '--image', BUSYBOX_IMAGE]),
      cli.run(['service', 'create', '--name', 'cli-x', '--image', BUSYBOX_IMAGE, '--volume', 'only-one-part']),
      cli.run(['service', 'logs', 'cli-nobody']),
      cli.run(['service', 'stop', NAME], { token: userToken }),
      cli.run(['service', 'create', '--name', 'cli-x', '--image', BUSYBOX_IMAGE, '--network', 'host']),
    ])
    expectFailure(noName, 2, /--name is required/)
    expectFailure(volume, 2, /--volume: expected SOURCE:TARGET/)
    expectFailure(missing, 4, /no Docker service named cli-nobody/)
    expectFailure(user, 3, /403/)
    expectFailure(privileged, 1, /400 invalid_request: field networks/)
  }, 30_000)

  test('delete: refused while its proxy points at it (naming --force), then with --delete-proxy both go', async () => {
    const refused = await cli.run(['service', 'delete', NAME])
    expectFailure(refused, 1, new RegExp(`409 conflict: service ${NAME} is used by proxies ${NAME}\\.svc-cli\\.test; .*--force`))
    const deleted = await cli.run(['service', 'delete', NAME, '--delete-proxy'])
    expect(deleted).toMatchObject({ code: 0, stdout: '', stderr: `deleted service ${NAME}\n` })
    expect((await edge.api('GET', `/proxy/targets/${NAME}.svc-cli.test`)).status).toBe(404)
    expect((await edge.api('GET', `/services/${NAME}`)).status).toBe(404)
  }, 30_000)
})
