/**
 * Docker services as targets (#14), on a whole server with the real engine: `service://name` (the first
 * port) and `service://name:port` as proxy targets, a route to a service's port, and one decision on both
 * forwarding paths (DESIGN §1): the relay (HTTP/1.1) and the hand-over server (after an absolute-form
 * request, RFC 9112 §3.2.2, has handed the connection over) answer each request the same. The target
 * resolves live: a stopped service answers 502 on both paths, and a port moved to another host port is
 * followed without touching the proxy.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { DockerService } from '../../src/docker/index.ts'
import { ensureBusyboxImage, HTTPD_PORT, INDEX_HTML, removeTestContainers, requireDocker } from '../support/docker.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { inTurnOn, openClient, type RawReply } from '../fixtures/raw-backends.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { freeServicePorts, httpdService, serviceName } from '../docker/manager-fixture.ts'

// Containers are created, stopped and recreated here: a loaded 2-core machine needs more than 5 s for some steps.
setDefaultTimeout(30_000)

const FILE_LABEL = 'ohp-test.file=docker-service-targets'
const ALT_PORT = 8081
/**
 * busybox httpd on 8080 (the image's /www) and a second one on 8081 serving "alt", under a shell that
 * exits on SIGTERM (as PID 1 httpd would ignore it, and every stop would wait the server's 10 s grace).
 */
const TWO_HTTPDS = ['sh', '-c', `trap 'exit 0' TERM; mkdir -p /tmp/alt && echo alt > /tmp/alt/index.html && httpd -p ${HTTPD_PORT} -h /www && httpd -p ${ALT_PORT} -h /tmp/alt && while :; do sleep 1; done`]

let edge: TestEdge
let service: DockerService
const name = serviceName('target')

beforeAll(async () => {
  await requireDocker()
  await ensureBusyboxImage()
  const ports = freeServicePorts(16)
  edge = await startTestEdge({ SERVICE_PORTS: `${ports.first}-${ports.last}` })
  const docker = edge.server.dockerServices!
  service = await docker.create(
    httpdService(name, {
      command: TWO_HTTPDS,
      labels: { 'ohp-test': 'true', 'ohp-test.file': 'docker-service-targets' },
      port_configs: [
        { name: 'http', container_port: HTTPD_PORT },
        { name: 'alt', container_port: ALT_PORT },
      ],
    }),
    'test',
  )
  await waitFor(async () => (await fetch(`${docker.urlOf(name, 'alt')}/`).catch(() => null))?.status === 200, { timeoutMs: 10_000, what: 'both httpds' })
  await edge.createProxy('docker.test', `service://${name}`)
  await edge.createProxy('docker-alt.test', `service://${name}:alt`)
  await edge.createProxy('carrier.test', `service://${name}`)
  await edge.createProxy('routed.test', 'http://127.0.0.1:9')
  const route = await edge.api('POST', '/routes', { path_pattern: '/alt', strip_prefix: true, target_type: 'service', target_value: `${name}:alt`, scope: 'proxy', proxy_hostnames: ['routed.test'] })
  expect(route.status).toBe(201)
  await edge.server.edge.reconcile()
}, 60_000)
afterAll(async () => {
  await edge?.stop()
  await removeTestContainers(FILE_LABEL)
})

type Run = 'relay (HTTP/1.1)' | 'hand-over server (after a hand-over)'
const RUNS: readonly Run[] = ['relay (HTTP/1.1)', 'hand-over server (after a hand-over)']

interface Outcome {
  readonly status: number
  readonly body: string
}

async function request(host: string, path: string, run: Run): Promise<Outcome> {
  const client = await openClient(edge, 'http', host)
  try {
    if (run === 'hand-over server (after a hand-over)') {
      await waitFor(() => edge.server.edge.stats().handoffs === 0, { timeoutMs: 3_000, what: 'earlier hand-overs to end' })
      await inTurnOn(client, [`GET http://carrier.test/ HTTP/1.1\r\nHost: carrier.test\r\n\r\n`])
      expect(edge.server.edge.stats().handoffs).toBe(1)
    }
    const [reply] = await inTurnOn(client, [`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: application/json\r\n\r\n`])
    if (run === 'relay (HTTP/1.1)') expect(edge.server.edge.stats().handoffs).toBe(0)
    return outcomeOf(reply!)
  } finally {
    client.close()
  }
}

/** The backend's body as it is; the edge's own answers by their JSON error code. */
function outcomeOf(reply: RawReply): Outcome {
  if (reply.status < 500) return { status: reply.status, body: reply.text }
  return { status: reply.status, body: (JSON.parse(reply.text) as { error: string }).error }
}

async function expectOnBothPaths(host: string, path: string, expected: Outcome): Promise<void> {
  for (const run of RUNS) expect({ run, ...(await request(host, path, run)) }).toEqual({ run, ...expected })
}

describe('one decision on both paths', () => {
  test('service://name reaches the first port', async () => {
    await expectOnBothPaths('docker.test', '/', { status: 200, body: INDEX_HTML })
  })

  test('service://name:alt reaches the port named alt', async () => {
    await expectOnBothPaths('docker-alt.test', '/', { status: 200, body: 'alt\n' })
  })

  test('a route whose target is the service port name:alt', async () => {
    await expectOnBothPaths('routed.test', '/alt/', { status: 200, body: 'alt\n' })
  })

  test('a stopped service answers 502 on both paths; started again, it serves', async () => {
    await edge.server.dockerServices!.stop(name)
    await expectOnBothPaths('docker.test', '/', { status: 502, body: 'bad_gateway' })
    await edge.server.dockerServices!.start(name)
    await waitFor(async () => (await request('docker.test', '/', 'relay (HTTP/1.1)')).status === 200, { timeoutMs: 10_000, what: 'the service to serve again' })
    await expectOnBothPaths('docker.test', '/', { status: 200, body: INDEX_HTML })
  }, 30_000)

  test('the service moved to another host port: the same proxy follows it at once, on both paths', async () => {
    const moved = await freePort()
    const docker = edge.server.dockerServices!
    const updated = await docker.updatePort(name, 'http', { name: 'http', container_port: HTTPD_PORT, host_port: moved, bind_address: '127.0.0.1', protocol: 'tcp', description: '' })
    expect(updated.ports.find((port) => port.name === 'http')!.host_port).toBe(moved)
    expect(docker.urlOf(name)).toBe(`http://127.0.0.1:${moved}`)
    expect(moved).not.toBe(service.ports[0]!.host_port)
    await waitFor(async () => (await request('docker.test', '/', 'relay (HTTP/1.1)')).status === 200, { timeoutMs: 10_000, what: 'the moved service to serve' })
    await expectOnBothPaths('docker.test', '/', { status: 200, body: INDEX_HTML })
  }, 30_000)

  test('a deleted service: its proxies answer 502 (the target does not exist)', async () => {
    await edge.server.dockerServices!.remove(name)
    await expectOnBothPaths('docker.test', '/', { status: 502, body: 'bad_gateway' })
  }, 30_000)
})
