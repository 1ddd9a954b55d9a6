/**
 * Docker services attacked (#14) on a whole server with a real dockerd, as a hostile caller and a careless
 * admin would: oversized and malformed bodies, reserved labels and names, ports that are not ours to give,
 * bad log queries, racing creates and deletes, many log followers. Every user input is a 400 naming the
 * field (or 401/403/404/409), never a 500, and nothing is left behind.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { tokenWith } from '../support/configured-edge.ts'
import { BUSYBOX_IMAGE, docker, ensureBusyboxImage, HTTPD_COMMAND, HTTPD_PORT, removeTestContainers, requireDocker, TEST_LABELS } from '../support/docker.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

setDefaultTimeout(30_000)

const FILE = 'docker-attack'
const LABELS = { ...TEST_LABELS, 'ohp-test.file': FILE }
let edge: TestEdge
let userToken: string
let webPort: number

const spec = (name: string, extra: Record<string, unknown> = {}) => ({ service_name: name, image: BUSYBOX_IMAGE, command: [...HTTPD_COMMAND], internal_port: HTTPD_PORT, memory_limit: '16m', labels: LABELS, ...extra })
const call = (method: string, path: string, body?: unknown, token: string | null = edge.adminToken, raw?: string) =>
  fetch(`${edge.server.apiUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  })
const described = async (response: Response) => ({ status: response.status, text: ((await response.json().catch(() => ({}))) as { error_description?: string }).error_description ?? '' })
const containersOf = async (name: string) => (await docker('ps', '-aq', '--filter', `label=io.oauth-https-proxy.service=${name}`)).split('\n').filter(Boolean)

beforeAll(async () => {
  await requireDocker()
  await ensureBusyboxImage()
  edge = await startTestEdge()
  userToken = await tokenWith(edge, ['user'])
  const created = await call('POST', '/services', spec('atk-web'))
  if (created.status !== 201) throw new Error(`creating atk-web: ${created.status} ${await created.text()}`)
  webPort = ((await created.json()) as { service: { ports: { host_port: number }[] } }).service.ports[0]!.host_port
}, 120_000)

afterAll(async () => {
  for (const name of ['atk-web', 'atk-race']) await call('DELETE', `/services/${name}?force=true`).catch(() => {})
  await edge?.stop()
  await removeTestContainers(`ohp-test.file=${FILE}`)
}, 60_000)

describe('bad input is a 400 naming the field, never a 500', () => {
  test('bodies', async () => {
    const apiPort = Number(new URL(edge.server.apiUrl).port)
    const cases: [string, unknown, string][] = [
      ['a 100 KB Dockerfile', { ...spec('atk-a'), image: undefined, dockerfile: `FROM ${BUSYBOX_IMAGE}\n${'RUN true\n'.repeat(12_000)}` }, 'field dockerfile'],
      ['10,000 environment variables', spec('atk-a', { environment: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`V${i}`, 'x'])) }), 'field environment'],
      ['100 variables of 32 KiB (3.2 MiB, beyond what exec takes)', spec('atk-a', { environment: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`V${i}`, 'x'.repeat(32_768)])) }), 'field environment'],
      ['a label under our prefix', spec('atk-a', { labels: { ...LABELS, 'io.oauth-https-proxy.deployment': 'x' } }), 'field labels'],
      ['a unicode name', spec('atk-é'), 'field service_name'],
      ['an upper-case name', spec('Atk'), 'field service_name'],
      ['.. in a volume target', spec('atk-a', { volumes: [{ source: 'atk-data', target: '/data/../etc' }] }), 'field volumes[0].target'],
      ['host_port 0', spec('atk-a', { internal_port: undefined, port_configs: [{ name: 'http', container_port: 8080, host_port: 0 }] }), 'field port_configs[0].host_port'],
      ['host_port 65536', spec('atk-a', { internal_port: undefined, port_configs: [{ name: 'http', container_port: 8080, host_port: 65_536 }] }), 'field port_configs[0].host_port'],
      ['a null body', null, ''],
      ['an array body', [], ''],
      ['a string as memory', spec('atk-a', { memory_limit: 5 }), 'field memory_limit'],
      ['a NUL in the command', spec('atk-a', { command: ['sh', '-c', 'echo \u0000'] }), 'field command'],
      ['a NUL in an environment value', spec('atk-a', { environment: { A: 'x\u0000y' } }), 'field environment'],
    ]
    for (const [what, body, field] of cases) {
      const answer = await described(await call('POST', '/services', body))
      expect({ what, status: answer.status, named: answer.text.startsWith(field) }).toEqual({ what, status: 400, named: true })
    }
    const notJson = await call('POST', '/services', undefined, edge.adminToken, '{"service_name": ')
    expect(notJson.status).toBe(400)
    // Ports that are not ours to give: another service's, the API's own (in use on this host).
    for (const [what, hostPort] of [['another service\u2019s', webPort], ['the API\u2019s', apiPort]] as const) {
      const answer = await described(await call('POST', '/services', spec('atk-a', { internal_port: undefined, port_configs: [{ name: 'http', container_port: 8080, host_port: hostPort }] })))
      expect({ what, status: answer.status }).toEqual({ what, status: 409 })
    }
    expect(await containersOf('atk-a')).toEqual([])
  })

  test('log and stats queries', async () => {
    for (const query of ['tail=1000000000', 'tail=-1', 'tail=abc', 'since=-5', 'since=yesterday', 'follow=maybe', 'timestamps=2']) {
      const answer = await described(await call('GET', `/services/atk-web/logs?${query}`))
      expect({ query, status: answer.status, named: answer.text.startsWith(`query parameter ${query.split('=')[0]}:`) }).toEqual({ query, status: 400, named: true })
    }
    // A time in the future is a valid query for nothing yet.
    const future = await call('GET', `/services/atk-web/logs?since=${Math.floor(Date.now() / 1000) + 3600}`)
    expect(future.status).toBe(200)
    expect(((await future.json()) as { logs: unknown[] }).logs).toEqual([])
    expect((await call('GET', '/services/no-such/logs')).status).toBe(404)
    expect((await call('GET', '/services/atk-web/stats', undefined, null)).status).toBe(401)
    expect((await call('GET', '/services/atk-web/stats', undefined, userToken)).status).toBe(200)
    // Stats of a stopped service: zeros, not an error.
    expect((await call('POST', '/services/atk-web/stop')).status).toBe(200)
    const stopped = await call('GET', '/services/atk-web/stats')
    expect(stopped.status).toBe(200)
    expect(await stopped.json()).toMatchObject({ cpu_percent: 0, memory_usage: 0, pids: 0 })
    expect((await call('POST', '/services/atk-web/start')).status).toBe(200)
  })
})

describe('races and load', () => {
  test('a create and a delete of one name racing: each answers 201/204/404/409, never 500; afterwards the name is free or the service whole', async () => {
    const statuses = await Promise.all([call('POST', '/services', spec('atk-race')), Bun.sleep(30).then(() => call('DELETE', '/services/atk-race?force=true')), call('POST', '/services', spec('atk-race'))].map(async (response) => (await response).status))
    for (const status of statuses) expect([201, 204, 404, 409]).toContain(status)
    expect(statuses.filter((status) => status === 201).length).toBeLessThanOrEqual(1)
    const after = await call('GET', '/services/atk-race')
    if (after.status === 200) expect((await containersOf('atk-race')).length).toBe(1)
    else expect(await containersOf('atk-race')).toEqual([])
  })

  test('200 log followers at once, then gone: the server keeps serving and its descriptors come back', async () => {
    const fds = () => readdirSync('/proc/self/fd').length
    const before = fds()
    const controllers = Array.from({ length: 200 }, () => new AbortController())
    const responses = await Promise.all(controllers.map((controller) => fetch(`${edge.server.apiUrl}/services/atk-web/logs?follow=true&tail=1`, { headers: { authorization: `Bearer ${edge.adminToken}` }, signal: controller.signal })))
    const statuses = new Map<number, number>()
    for (const response of responses) statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
    expect(Object.fromEntries(statuses)).toEqual({ 200: 200 })
    expect((await call('GET', '/services/atk-web')).status).toBe(200)
    for (const controller of controllers) controller.abort()
    const deadline = Date.now() + 10_000
    while (fds() > before + 20 && Date.now() < deadline) await Bun.sleep(100)
    expect(fds()).toBeLessThanOrEqual(before + 20)
  })
})
