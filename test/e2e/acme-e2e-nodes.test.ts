/**
 * ACME across two `serve` processes on one Redis (same PUBLIC_URL, own NODE_ID and ports). Pebble validates
 * HTTP-01 on ONE port, node A's HTTP listener, as a load balancer would send port 80 to any one node: an
 * order that node B runs is proven by A's answer, which A has only from B's `acme_challenge` event. Each
 * name is ordered once however many nodes see its proxy (Pebble's own count of new-order requests), and
 * both nodes serve the issued certificate (certificate_ready through the stream).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { clusterEnv, createApiClient, issueAdminToken, lowFreePort, normalSerial, pebbleOrderCount, startAcmeNode, startHostEchoBackend, trustFile, verifiedGet, type AcmeNode, type RecordedAnswer, type VerifiedAnswer } from '../support/acme-e2e.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { startPebble, type TestPebble } from '../support/pebble.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { cleanupSpawned } from '../support/serve.ts'

const EMAIL = 'ops@acme-e2e.test'

let redis: TestRedis
let pebble: TestPebble
let a: AcmeNode
let b: AcmeNode
let backend: Server<undefined>
let pebbleRoot: string
let apiOn: Map<AcmeNode, ReturnType<typeof createApiClient>>
const answers: RecordedAnswer[] = []

beforeAll(async () => {
  redis = await startRedis()
  const ranges = isolatedPortRanges()
  const httpPortA = lowFreePort(ranges)
  pebble = await startPebble({ httpPort: httpPortA })
  const shared = clusterEnv({ redisUrl: redis.url, trustPath: trustFile([pebble.caCertPem]), directoryUrl: pebble.directoryUrl, stagingUrl: pebble.altDirectoryUrl, ranges })
  a = await startAcmeNode({ nodeId: 'node-a', httpPort: httpPortA, shared })
  let httpPortB = lowFreePort(ranges)
  while (httpPortB === httpPortA) httpPortB = lowFreePort(ranges)
  b = await startAcmeNode({ nodeId: 'node-b', httpPort: httpPortB, shared })
  const token = await issueAdminToken(shared)
  apiOn = new Map([a, b].map((node) => [node, createApiClient(node.url, token, answers)]))
  backend = startHostEchoBackend()
  pebbleRoot = await pebble.issuingRootPem()
}, 40_000)

afterAll(async () => {
  await cleanupSpawned()
  await pebble?.stop()
  backend?.stop(true)
  await redis?.dispose()
})

const api = (node: AcmeNode) => apiOn.get(node)!

async function createProxy(node: AcmeNode, hostname: string, fields: Record<string, unknown> = {}): Promise<void> {
  const created = await api(node)('POST', '/proxy/targets', { proxy_hostname: hostname, target_url: `http://127.0.0.1:${backend.port}`, ...fields })
  expect([hostname, created.status]).toEqual([hostname, 201])
}

function servedOn(node: AcmeNode, hostname: string, timeoutMs = 30_000): Promise<VerifiedAnswer> {
  return waitFor(
    async () => {
      const answer = await verifiedGet(node.httpsPort, hostname, [pebbleRoot])
      if (answer.status !== 200 || answer.body !== `backend:${hostname}`) throw new Error(`${hostname} on ${node.nodeId}: ${answer.status} ${answer.body}`)
      return answer
    },
    { timeoutMs, intervalMs: 100, what: `a verified certificate for ${hostname} on ${node.nodeId}` },
  )
}

/** The nodes whose log says they started an order for `name`. */
const ordersStartedFor = (name: string) =>
  [a, b].flatMap((node) => node.logs().filter((line) => line.msg === 'certificate order started' && line.cert_name === name).map(() => node.nodeId))

describe('two serve processes on one Redis, Pebble validating on node A only', () => {
  test('the nodes are two processes with their own HTTP listeners; Pebble knows only A\'s', () => {
    expect(a.proc.pid).not.toBe(b.proc.pid)
    expect(a.httpPort).not.toBe(b.httpPort)
    expect(pebble.httpPort).toBe(a.httpPort)
  })

  test('an order B runs (POST /certificates on B) is validated through A, which answers the challenge B published', async () => {
    const ordersBefore = pebbleOrderCount(pebble.log())
    expect((await api(b)('POST', '/certificates', { domains: ['from-b.test'], email: EMAIL })).status).toBe(202)
    const settled = await api(b)<{ status: string; error: string | null }>('GET', '/certificates/from-b.test/status?wait=30')
    expect(settled.json).toMatchObject({ status: 'issued', error: null })
    // Only B ran it (a certificate request is not an event: A never kicks it), and the CA saw one order.
    expect(ordersStartedFor('from-b.test')).toEqual(['node-b'])
    expect(pebbleOrderCount(pebble.log())).toBe(ordersBefore + 1)

    // A proxy of that name on either node serves it: both nodes, one serial, the one the API shows.
    await createProxy(a, 'from-b.test')
    const [onA, onB] = await Promise.all([servedOn(a, 'from-b.test', 5_000), servedOn(b, 'from-b.test', 5_000)])
    expect(onA.serial).toBe(onB.serial)
    const view = await api(a)<{ serial: string }>('GET', '/certificates/from-b.test')
    expect(onA.serial).toBe(normalSerial(view.json.serial))
  }, 40_000)

  test('proxies with cert_email created on both nodes at once: one order per name at the CA, every name served by both nodes', async () => {
    const names = ['n1.test', 'n2.test', 'n3.test', 'n4.test']
    const ordersBefore = pebbleOrderCount(pebble.log())
    // Every node calls ensureForProxy for every proxy (its own API's and the other's, from the proxy_created event).
    await Promise.all(names.map((name, index) => createProxy(index % 2 === 0 ? a : b, name, { cert_email: EMAIL })))
    const served = await Promise.all(names.flatMap((name) => [servedOn(a, name), servedOn(b, name)]))
    for (const [index, name] of names.entries()) expect([name, served[2 * index]!.serial]).toEqual([name, served[2 * index + 1]!.serial])

    expect(pebbleOrderCount(pebble.log())).toBe(ordersBefore + names.length)
    const ranBy = names.map((name) => ordersStartedFor(name))
    console.info(`[acme-e2e-nodes] orders ran on: ${names.map((name, index) => `${name} → ${ranBy[index]!.join('+')}`).join(', ')}`)
    for (const nodes of ranBy) expect(nodes).toHaveLength(1)
    for (const node of [a, b]) expect(node.logs().filter((line) => line.msg === 'certificate order failed')).toEqual([])
  }, 40_000)

  test('neither node printed key material, and no API answer carried any', () => {
    for (const node of [a, b]) expect(node.stderrText()).not.toContain('PRIVATE KEY')
    for (const answer of answers) expect(answer.text).not.toContain('PRIVATE KEY')
  })
})
