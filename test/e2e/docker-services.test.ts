/**
 * Docker services end to end (#14 acceptance), on a real server and a real dockerd with the offline
 * busybox image: a service created with auto_proxy answers through its hostname within 10 s over HTTP
 * and over HTTPS with the proxy's own certificate; its logs give both streams in order, and a follow
 * (Server-Sent Events) delivers a new line within 1 s; stats are real; stopped it answers 502, started
 * and restarted it serves again; deleted with delete_proxy, nothing of it is left. auto_proxy leaves
 * nothing behind when the proxy cannot be made (the hostname taken while the container was made), nor a
 * proxy when the service cannot be.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createCertificateSource } from '../../src/certs/index.ts'
import { systemClock } from '../../src/lib/index.ts'
import { verifiedGet } from '../support/acme-e2e.ts'
import { BUSYBOX_IMAGE, docker, ensureBusyboxImage, INDEX_HTML, removeTestContainers, requireDocker, TEST_LABELS } from '../support/docker.ts'
import { viaHttp } from '../support/edge-clients.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { waitFor } from '../support/ports.ts'

const FILE = 'docker-services-e2e'
const LABELS = { ...TEST_LABELS, 'ohp-test.file': FILE }
const BASE_DOMAIN = 'svc-e2e.test'
const WEB = 'e2e-web'
const HOST = `${WEB}.${BASE_DOMAIN}`

/**
 * Two lines on each stream, a moment apart so the engine stamps them in order, then httpd, whose -v logs
 * each answer on stderr. The shell stays PID 1 and exits on SIGTERM (a PID 1 without a handler ignores it,
 * and stop would wait for its 10 s timeout).
 */
const WEB_COMMAND = ['sh', '-c', 'echo out-1; usleep 50000; echo err-1 >&2; usleep 50000; echo out-2; usleep 50000; echo err-2 >&2; httpd -f -v -p 8080 -h /www & wait']

let edge: TestEdge
let created: { service: Record<string, unknown>; proxy: Record<string, unknown>; warnings: string[] }
let createdAtMs: number

const api = async <T>(method: string, path: string, body?: unknown, status = 200): Promise<T> => {
  const response = await edge.api(method, path, body)
  const text = await response.text()
  if (response.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${response.status} ${text}`)
  return (text === '' ? null : JSON.parse(text)) as T
}
const containersOf = async (name: string) => (await docker('ps', '-aq', '--filter', `label=io.oauth-https-proxy.service=${name}`)).split('\n').filter(Boolean)
const httpAnswer = async (host: string) => {
  const response = await viaHttp(edge, host)
  return { status: response.status, body: await response.text() }
}

beforeAll(async () => {
  await requireDocker()
  await ensureBusyboxImage()
  edge = await startTestEdge({ BASE_DOMAIN })
  createdAtMs = Date.now()
  created = await api('POST', '/services?auto_proxy=true', { service_name: WEB, image: BUSYBOX_IMAGE, command: WEB_COMMAND, internal_port: 8080, memory_limit: '32m', labels: LABELS }, 201)
}, 120_000)

afterAll(async () => {
  for (const name of [WEB, 'e2e-race', 'e2e-noimage']) await edge?.api('DELETE', `/services/${name}?force=true&delete_proxy=true`).catch(() => {})
  await edge?.stop()
  await removeTestContainers(`ohp-test.file=${FILE}`)
}, 60_000)

describe('auto_proxy', () => {
  test('one call: the service runs, its proxy <name>.<BASE_DOMAIN> points at service://<name>, and it answers within 10 s over HTTP and HTTPS', async () => {
    expect(created.service).toMatchObject({ service_name: WEB, status: 'running', ports: [{ name: 'http', container_port: 8080, bind_address: '127.0.0.1', auto: true }] })
    expect(created.proxy).toMatchObject({ proxy_hostname: HOST, target_url: `service://${WEB}`, enable_http: true, enable_https: true })
    expect(created.warnings.some((warning) => warning.includes('self-signed'))).toBe(true)
    const deadline = createdAtMs + 10_000

    const overHttp = await waitFor(async () => ((await httpAnswer(HOST)).status === 200 ? httpAnswer(HOST) : null), { timeoutMs: deadline - Date.now(), intervalMs: 50, what: `http://${HOST}/` })
    expect(overHttp.body).toBe(INDEX_HTML)

    // The proxy's own certificate (self-signed: no ACME email here) is the only trust anchor, and the name is checked.
    const certificate = await createCertificateSource(edge.server.store, systemClock)({ proxy_hostname: HOST, cert_name: null })
    const overHttps = await waitFor(() => verifiedGet(edge.httpsPort, HOST, [certificate.certPem]).catch(() => null), { timeoutMs: Math.max(100, deadline - Date.now()), intervalMs: 50, what: `https://${HOST}/` })
    expect({ status: overHttps.status, body: overHttps.body }).toEqual({ status: 200, body: INDEX_HTML })
    expect(Date.now()).toBeLessThanOrEqual(deadline)

    // It is listed as ours, with the unified view leading to its bound port.
    const unified = await api<{ services: { service_name: string; service_type: string; target_url: string | null }[] }>('GET', '/services/unified?service_type=docker')
    const port = (created.service.ports as { host_port: number }[])[0]!.host_port
    expect(unified.services.find((service) => service.service_name === WEB)).toMatchObject({ service_type: 'docker', target_url: `http://127.0.0.1:${port}` })
  }, 30_000)

  test('the hostname taken while the container was being made: 409, and the service, its container and its port claims are gone again', async () => {
    const name = 'e2e-race'
    const host = `${name}.${BASE_DOMAIN}`
    // A Dockerfile build widens the window between the hostname check and the proxy's creation.
    const creating = edge.api('POST', '/services?auto_proxy=true', { service_name: name, dockerfile: `FROM ${BUSYBOX_IMAGE}\nRUN echo built > /built\n`, command: ['httpd', '-f', '-p', '8080'], internal_port: 8080, memory_limit: '32m', labels: LABELS })
    // Its container exists before it is started and stored, and the proxy is made only after both.
    await waitFor(async () => (await containersOf(name)).length > 0, { timeoutMs: 30_000, intervalMs: 10, what: `${name}'s container` })
    await edge.createProxy(host, 'http://127.0.0.1:9')
    const answer = await creating
    expect(answer.status).toBe(409)
    expect((await answer.json()) as { error_description: string }).toMatchObject({ error_description: expect.stringContaining(host) })
    expect(await containersOf(name)).toEqual([])
    expect((await edge.api('GET', `/services/${name}`)).status).toBe(404)
    const held = await api<{ service_name: string }[]>('GET', '/services/ports')
    expect(held.filter((port) => port.service_name === name)).toEqual([])
    expect(await api<{ target_url: string }>('GET', `/proxy/targets/${host}`)).toMatchObject({ target_url: 'http://127.0.0.1:9' })
  }, 60_000)

  test('a service that cannot be made leaves no proxy', async () => {
    const answer = await edge.api('POST', '/services?auto_proxy=true', { service_name: 'e2e-noimage', image: 'ohp-test/no-such-image:1', labels: LABELS })
    expect(answer.status).toBe(400)
    expect(((await answer.json()) as { error_description: string }).error_description).toStartWith('field image:')
    expect((await edge.api('GET', `/proxy/targets/e2e-noimage.${BASE_DOMAIN}`)).status).toBe(404)
    expect(await containersOf('e2e-noimage')).toEqual([])
  })
})

describe('logs and stats', () => {
  test('both streams, in the order they were written, with their times', async () => {
    const answer = await api<{ logs: { stream: string; text: string; time: string }[] }>('GET', `/services/${WEB}/logs?timestamps=true`)
    expect(answer.logs.slice(0, 4).map(({ stream, text }) => ({ stream, text }))).toEqual([
      { stream: 'stdout', text: 'out-1' },
      { stream: 'stderr', text: 'err-1' },
      { stream: 'stdout', text: 'out-2' },
      { stream: 'stderr', text: 'err-2' },
    ])
    const times = answer.logs.map((line) => line.time)
    expect([...times].sort()).toEqual(times)
    const tail = await api<{ logs: { stream: string; text: string; time?: string }[] }>('GET', `/services/${WEB}/logs?tail=1`)
    expect(tail.logs).toHaveLength(1)
    expect(tail.logs[0]!.time).toBeUndefined()
    // since: a time ago, an ISO time, or seconds since the epoch (Docker's forms).
    expect((await api<{ logs: unknown[] }>('GET', `/services/${WEB}/logs?since=1h`)).logs.length).toBe(answer.logs.length)
    expect((await api<{ logs: unknown[] }>('GET', `/services/${WEB}/logs?since=${new Date(Date.now() + 60_000).toISOString()}`)).logs).toEqual([])
    expect((await api<{ logs: unknown[] }>('GET', `/services/${WEB}/logs?since=${Math.floor(Date.parse(times[0]!) / 1000)}`)).logs.length).toBe(answer.logs.length)
  })

  test('follow: a line the container writes arrives as a `log` event within 1 s', async () => {
    const abort = new AbortController()
    const response = await fetch(`${edge.server.apiUrl}/services/${WEB}/logs?follow=true&tail=0`, { headers: { authorization: `Bearer ${edge.adminToken}` }, signal: abort.signal })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toStartWith('text/event-stream')
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const readUntil = async (pattern: RegExp, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs
      while (!pattern.test(text)) {
        const remaining = deadline - Date.now()
        if (remaining <= 0) throw new Error(`no ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(text)}`)
        const chunk = await Promise.race([reader.read(), Bun.sleep(remaining).then(() => null)])
        if (chunk === null) continue
        if (chunk.done) throw new Error(`the stream ended; got ${JSON.stringify(text)}`)
        text += decoder.decode(chunk.value, { stream: true })
      }
    }
    try {
      await readUntil(/^: following\n\n/, 5_000)
      // httpd -v writes one stderr line per answer: a request through the proxy makes the container write.
      const sentAtMs = Date.now()
      expect((await httpAnswer(HOST)).status).toBe(200)
      await readUntil(/event: log\ndata: \{"stream":"stderr","text":"[^"]*response:200"\}\n\n/, 1_000 - (Date.now() - sentAtMs))
      expect(Date.now() - sentAtMs).toBeLessThanOrEqual(1_000)
    } finally {
      abort.abort()
    }
  })

  test('stats have real numbers: memory used under the 32m limit, at least one process', async () => {
    const stats = await api<Record<string, number>>('GET', `/services/${WEB}/stats`)
    expect(stats.memory_usage).toBeGreaterThan(0)
    expect(stats.memory_limit).toBe(32 * 1024 * 1024)
    expect(stats.memory_usage).toBeLessThan(stats.memory_limit!)
    expect(stats.pids).toBeGreaterThanOrEqual(1)
    expect(stats.cpu_percent).toBeGreaterThanOrEqual(0)
    expect(stats.network_rx_bytes).toBeGreaterThan(0)
  })
})

describe('lifecycle', () => {
  test('stop: the proxy answers 502; start and restart: it serves again', async () => {
    expect(await api<{ status: string }>('POST', `/services/${WEB}/stop`)).toMatchObject({ status: 'stopped' })
    const stopped = await viaHttp(edge, HOST)
    expect(stopped.status).toBe(502)
    await stopped.arrayBuffer()
    expect(await api<{ status: string }>('POST', `/services/${WEB}/start`)).toMatchObject({ status: 'running' })
    await waitFor(async () => (await httpAnswer(HOST)).status === 200, { timeoutMs: 10_000, intervalMs: 50, what: `${HOST} after start` })
    const before = (await api<{ container_id: string }>('GET', `/services/${WEB}`)).container_id
    expect(await api<{ status: string }>('POST', `/services/${WEB}/restart`)).toMatchObject({ status: 'running', container_id: before })
    await waitFor(async () => (await httpAnswer(HOST)).body === INDEX_HTML, { timeoutMs: 10_000, intervalMs: 50, what: `${HOST} after restart` })
  }, 60_000)

  test('delete with delete_proxy: the container, the proxy and the port claim are gone, and the hostname is unknown', async () => {
    const port = (await api<{ ports: { host_port: number }[] }>('GET', `/services/${WEB}`)).ports[0]!.host_port
    await api('DELETE', `/services/${WEB}?delete_proxy=true`, undefined, 204)
    expect(await containersOf(WEB)).toEqual([])
    expect((await edge.api('GET', `/services/${WEB}`)).status).toBe(404)
    expect((await edge.api('GET', `/proxy/targets/${HOST}`)).status).toBe(404)
    expect((await api<{ port: number }[]>('GET', '/services/ports')).map((held) => held.port)).not.toContain(port)
    await waitFor(async () => (await httpAnswer(HOST)).status === 404, { timeoutMs: 5_000, what: `${HOST} unknown` })
  }, 30_000)
})
