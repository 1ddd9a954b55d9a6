/**
 * Two `serve` processes on one Redis behind a real haproxy running examples/haproxy.cfg (issue #15): TCP
 * mode, PROXY v2 to both nodes, health checks on each node's GET /health (200 only while its store
 * answers). Addresses as in a deployment, where each is a host of its own: haproxy connects to the nodes
 * from 127.0.0.2 (PROXY_PROTOCOL_TRUSTED, and not exempt from the API's rate limits); its client connects
 * from 127.0.0.5; the test's own API calls come from 127.0.0.1 (RATE_LIMIT_EXEMPT). Direct connections to a
 * node from 127.0.0.5 are plain clients there (not trusted, so no PROXY header), which is how one node is
 * asked on its own.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { systemClock } from '../../src/lib/index.ts'
import { createKeyRing } from '../../src/oauth/index.ts'
import { createRedisStore } from '../../src/store/index.ts'
import { lowFreePort, normalSerial, trustFile, verifiedGet } from '../support/acme-e2e.ts'
import { tokenMinter } from '../support/auth-tokens.ts'
import { readHaproxyExample, runnableHaproxyExample } from '../support/haproxy-example.ts'
import { haproxyServerStatus, startHaproxyWithConfig, type TestHaproxy } from '../support/haproxy.ts'
import { httpFrom } from '../support/http-from.ts'
import { startLoadLoop } from '../support/load-loop.ts'
import { startPebble, type TestPebble } from '../support/pebble.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { waitFor } from '../support/ports.ts'
import { makeTempDir } from '../support/serve.ts'
import { registerPublicClient, startCluster, type ClusterNode, type TestCluster } from '../support/serve-cluster.ts'
import { httpsRequest } from '../support/tls-client.ts'

/** haproxy's client. */
const CLIENT = '127.0.0.5'
/** haproxy itself, towards the nodes: its data connections and its health checks. */
const BALANCER = '127.0.0.2'
/** Served through the balancer; its backend answers with the path. */
const APP = 'lb.test'
/** Protected with auth_enabled: a bearer token for http://auth.test is needed. */
const PROTECTED = 'auth.test'
/** The acceptance bound: a revocation made on one node holds on every node within this. */
const CONVERGENCE_MS = 1_000
/** The load loop's connections: at most this many requests are in flight at any moment. */
const CONCURRENCY = 8

let cluster: TestCluster
let a: ClusterNode
let b: ClusterNode
let haproxy: TestHaproxy
let statsSocket: string
let balancer: { http: number; https: number }
let backend: ReturnType<typeof Bun.serve>
let pebble: TestPebble
/** The token the revocation test revoked, for the restarted node to refuse. */
let revokedToken = ''

beforeAll(async () => {
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => new Response(`backend ${new URL(request.url).pathname}`) })
  // Pebble validates HTTP-01 on the balancer's HTTP port, as a CA reaches port 80: it must know that port
  // before the nodes start (they trust its CA from their start), so the port is below the ephemeral range.
  const ranges = isolatedPortRanges()
  balancer = { http: lowFreePort(ranges), https: lowFreePort(ranges) }
  while (balancer.https === balancer.http) balancer.https = lowFreePort(ranges)
  pebble = await startPebble({ httpPort: balancer.http })
  cluster = await startCluster({
    nodeIds: ['node-a', 'node-b'],
    env: {
      ...ranges,
      PROXY_PROTOCOL_TRUSTED: `${BALANCER}/32`,
      RATE_LIMIT_EXEMPT: '127.0.0.1/32',
      // Stricter than the default 10/s, as the default is for more nodes or balancers: a balancer checks every
      // node from its one address, which all nodes count together. /health must not be counted (it was: the
      // nodes flapped DOWN).
      RATE_LIMIT_API_ADDRESS: '1/s,2',
      NODE_EXTRA_CA_CERTS: trustFile([pebble.caCertPem]),
      ACME_DIRECTORY_URL: pebble.directoryUrl,
      ACME_STAGING_URL: pebble.altDirectoryUrl,
    },
  })
  ;[a, b] = cluster.nodes as [ClusterNode, ClusterNode]
  statsSocket = `${makeTempDir('ohp-haproxy-stats-')}/admin.sock`
  const nodePorts = (node: ClusterNode) => ({ httpPort: node.httpPort, httpsPort: node.httpsPort, apiPort: node.port })
  const config = runnableHaproxyExample(readHaproxyExample(), { httpPort: balancer.http, httpsPort: balancer.https, statsSocket, balancerAddress: BALANCER, nodes: { 'node-a': nodePorts(a), 'node-b': nodePorts(b) } })
  haproxy = await startHaproxyWithConfig(config, balancer)
  await waitFor(async () => Object.values(await haproxyServerStatus(statsSocket)).join() === 'UP,UP,UP,UP', { timeoutMs: 15_000, what: 'haproxy to see both nodes UP' })

  // Both proxies are created through node A only.
  const created = await cluster.api(a, 'POST', '/proxy/targets', { proxy_hostname: APP, target_url: `http://127.0.0.1:${backend.port}` })
  expect(created.status).toBe(201)
  expect((await cluster.api(a, 'POST', '/proxy/targets', { proxy_hostname: PROTECTED, target_url: `http://127.0.0.1:${backend.port}` })).status).toBe(201)
  expect((await cluster.api(a, 'PUT', `/proxy/targets/${PROTECTED}/auth`, { auth_enabled: true })).status).toBe(200)
  for (const node of [a, b]) {
    await waitFor(async () => (await directStatus(node, APP)) === 200, { timeoutMs: 10_000, what: `${APP} on ${node.nodeId}` })
    await waitFor(async () => (await directStatus(node, PROTECTED)) === 401, { timeoutMs: 10_000, what: `${PROTECTED} protected on ${node.nodeId}` })
  }
}, 45_000)

afterAll(async () => {
  await haproxy?.stop()
  await cluster?.stop()
  await pebble?.stop()
  backend?.stop(true)
})

/** One plain HTTP request straight to a node's public port, from a client that is not the balancer. */
async function directStatus(node: ClusterNode, host: string, token?: string): Promise<number> {
  const reply = await httpFrom(CLIENT, node.httpPort, { path: '/x', host, headers: token ? { authorization: `Bearer ${token}` } : {} })
  return reply.status
}

function throughBalancer(host: string, path = '/', token?: string) {
  return httpFrom(CLIENT, balancer.http, { path, host, headers: token ? { authorization: `Bearer ${token}` } : {} })
}

interface LogRecord {
  readonly request_id: string
  readonly status: number
  readonly node: string
  readonly scheme: string
  readonly path: string
  readonly client_ip: string
}

/** The shared request log's records on APP whose path starts with `path`, asked through node B. */
async function recordsFor(path: string): Promise<LogRecord[]> {
  const response = await cluster.api(b, 'GET', `/logs/search?host=${APP}&path=${encodeURIComponent(path)}&limit=1000&from=10m`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { records: LogRecord[] }).records
}

describe('two nodes behind haproxy (examples/haproxy.cfg)', () => {
  test('a proxy created through node A serves through the balancer over HTTP and HTTPS, spread over both nodes; each node logs the client\'s own address from the PROXY v2 header', async () => {
    const requestIds: string[] = []
    for (let i = 0; i < 6; i++) {
      const reply = await throughBalancer(APP, '/spread')
      expect([reply.status, reply.body]).toEqual([200, 'backend /spread'])
      requestIds.push(reply.headers['x-request-id'] ?? '')
    }
    for (let i = 0; i < 6; i++) {
      const reply = await httpsRequest(balancer.https, APP, '/spread-tls', 5_000, CLIENT)
      expect([reply.status, reply.body]).toEqual([200, 'backend /spread-tls'])
    }
    // Records reach the shared log within about a second (each node's writer flushes every 250 ms).
    // The path filter is a prefix: '/spread' finds both.
    const records = await waitFor(
      async () => {
        const all = await recordsFor('/spread')
        return all.length === 12 ? all : null
      },
      { timeoutMs: 5_000, what: 'the 12 records in the request log' },
    )
    expect(records.filter((record) => record.path === '/spread').map((record) => record.request_id).sort()).toEqual(requestIds.sort())
    const count = (scheme: string, node: string) => records.filter((record) => record.scheme === scheme && record.node === node).length
    // roundrobin over fresh connections: both nodes served each scheme.
    for (const scheme of ['http', 'https']) {
      expect([scheme, count(scheme, 'node-a') > 0, count(scheme, 'node-b') > 0]).toEqual([scheme, true, true])
    }
    expect(new Set(records.map((record) => record.client_ip))).toEqual(new Set([CLIENT]))
  }, 20_000)

  test('both nodes serve the same certificate, kept once in Redis: the proxy\'s self-signed one, and the new one after cert_name is changed through node B', async () => {
    const fingerprintsThroughBalancer = async () => {
      const seen = new Set<string>()
      for (let i = 0; i < 4; i++) seen.add((await httpsRequest(balancer.https, APP, '/cert', 5_000, CLIENT)).fingerprint)
      return seen
    }
    const directFingerprint = async (node: ClusterNode) => (await httpsRequest(node.httpsPort, APP, '/cert', 5_000, CLIENT)).fingerprint
    const before = await directFingerprint(a)
    expect(before).not.toBe('')
    expect(await directFingerprint(b)).toBe(before)
    expect(await fingerprintsThroughBalancer()).toEqual(new Set([before]))

    expect((await cluster.api(b, 'PUT', `/proxy/targets/${APP}`, { cert_name: 'lb-rotated' })).status).toBe(200)
    const after = await waitFor(
      async () => {
        const [onA, onB] = [await directFingerprint(a), await directFingerprint(b)]
        return onA !== before && onA === onB ? onA : null
      },
      { timeoutMs: 5_000, what: 'both nodes to serve the new certificate' },
    )
    expect(await fingerprintsThroughBalancer()).toEqual(new Set([after]))
  }, 20_000)

  test('a certificate ordered through node B is validated by the CA through the balancer, either node answering the HTTP-01 challenge, and both nodes serve it', async () => {
    const ordered = await cluster.api(b, 'POST', '/certificates', { cert_name: 'lb-acme', domains: [APP], email: 'ops@lb.test' })
    expect(ordered.status).toBe(202)
    const settled = await cluster.api(b, 'GET', '/certificates/lb-acme/status?wait=30')
    expect(await settled.json()).toMatchObject({ status: 'issued', error: null })
    expect((await cluster.api(a, 'PUT', `/proxy/targets/${APP}`, { cert_name: 'lb-acme' })).status).toBe(200)
    // The CA's validation requests (from several perspectives at once) were spread over both nodes, each
    // answering the challenge: the node that ran the order, and the other from the acme_challenge event.
    const validations = await waitFor(
      async () => {
        const records = await recordsFor('/.well-known/acme-challenge/')
        return records.length >= 2 && new Set(records.map((record) => record.node)).size === 2 ? records : null
      },
      { timeoutMs: 5_000, what: 'validation requests answered by both nodes' },
    )
    expect(validations.map((record) => record.status)).toEqual(validations.map(() => 200))

    const root = await pebble.issuingRootPem()
    const view = (await (await cluster.api(a, 'GET', '/certificates/lb-acme')).json()) as { serial: string }
    for (const node of [a, b]) {
      const served = await waitFor(() => verifiedGet(node.httpsPort, APP, [root], '/acme', 5_000, CLIENT), { timeoutMs: 5_000, what: `the issued certificate on ${node.nodeId}` })
      expect([node.nodeId, served.serial, served.status]).toEqual([node.nodeId, normalSerial(view.serial), 200])
    }
    for (let i = 0; i < 4; i++) expect((await verifiedGet(balancer.https, APP, [root], '/acme', 5_000, CLIENT)).serial).toBe(normalSerial(view.serial))
  }, 40_000)

  test(`a token revoked through node B is refused by both nodes within ${CONVERGENCE_MS} ms, though both had it cached; another token of the same client stays admitted`, async () => {
    // A public client registered through node A may revoke its own tokens at node B (RFC 7009 §2.1).
    const clientId = await registerPublicClient(a.url, 'balanced')
    const store = createRedisStore({ url: cluster.redis.url })
    const minter = tokenMinter(createKeyRing(store, systemClock, { retireAfterSec: 3600 }), 'https://edge.test')
    const [token, other] = await Promise.all([minter.valid(`http://${PROTECTED}`, { clientId }), minter.valid(`http://${PROTECTED}`, { clientId })])
    await store.close()

    // Verified and cached on each node, directly and through the balancer.
    for (const node of [a, b]) expect([node.nodeId, await directStatus(node, PROTECTED, token)]).toEqual([node.nodeId, 200])
    for (let i = 0; i < 4; i++) expect((await throughBalancer(PROTECTED, '/x', token)).status).toBe(200)

    const revoked = await fetch(`${b.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: token!, client_id: clientId }),
    })
    expect(revoked.status).toBe(200)
    revokedToken = token!
    const revokedAt = performance.now()
    const refusedAfterMs = async (node: ClusterNode) => {
      while ((await directStatus(node, PROTECTED, token)) !== 401 && performance.now() - revokedAt < CONVERGENCE_MS) await Bun.sleep(20)
      return performance.now() - revokedAt
    }
    const [msOnA, msOnB] = await Promise.all([refusedAfterMs(a), refusedAfterMs(b)])
    expect(await directStatus(a, PROTECTED, token)).toBe(401)
    expect(await directStatus(b, PROTECTED, token)).toBe(401)
    expect(Math.max(msOnA, msOnB)).toBeLessThan(CONVERGENCE_MS)
    for (let i = 0; i < 4; i++) expect((await throughBalancer(PROTECTED, '/x', token)).status).toBe(401)
    for (const node of [a, b]) expect([node.nodeId, await directStatus(node, PROTECTED, other)]).toEqual([node.nodeId, 200])
  }, 20_000)

  test(`SIGKILL of node A under ${CONCURRENCY} concurrent connections loses only requests in flight on A; haproxy's health check takes A out and every later request succeeds`, async () => {
    const loop = startLoadLoop({
      concurrency: CONCURRENCY,
      timeoutMs: 5_000,
      // Half the connections HTTP, half HTTPS; each request on a fresh connection, so roundrobin alternates nodes.
      async request(worker) {
        const reply = worker % 2 === 0 ? await throughBalancer(APP, '/load') : await httpsRequest(balancer.https, APP, '/load', 5_000, CLIENT)
        return reply.status === 200 && reply.body === 'backend /load' ? '' : `status ${reply.status}`
      },
    })
    try {
      await waitFor(() => loop.outcomes.filter((outcome) => outcome.ok).length >= 40, { timeoutMs: 15_000, what: '40 answered requests before the kill' })
      const killedAt = performance.now()
      const exitCode = await a.stop('SIGKILL')
      expect(exitCode).not.toBe(0)
      const exitedAt = performance.now()
      // haproxy's view, asked every 20 ms: A is DOWN after `fall 2` failed checks `inter 500` apart.
      await waitFor(async () => (await haproxyServerStatus(statsSocket))['nodes_http/node-a']?.startsWith('DOWN'), { timeoutMs: 10_000, intervalMs: 20, what: 'haproxy to take node A out' })
      const downAt = performance.now()
      // The HTTPS backend follows the same check (track).
      expect((await haproxyServerStatus(statsSocket))['nodes_https/node-a']).toStartWith('DOWN')
      // Keep the load on for a while after A is out.
      await waitFor(() => loop.outcomes.filter((outcome) => outcome.startedAt > downAt).length >= 40, { timeoutMs: 15_000, what: '40 requests after A was taken out' })
      const outcomes = await loop.stop()

      const failed = outcomes.filter((outcome) => !outcome.ok)
      const inFlightAtKill = failed.filter((outcome) => outcome.startedAt <= killedAt)
      const afterDown = outcomes.filter((outcome) => outcome.startedAt > downAt)
      const betweenExitAndDown = outcomes.filter((outcome) => outcome.startedAt > exitedAt && outcome.startedAt <= downAt)
      const problems = Object.entries(Object.groupBy(failed, (outcome) => outcome.problem)).map(([problem, list]) => `${list!.length} × ${problem}`)
      console.log(
        `nodes behind haproxy: SIGKILL of node A under ${CONCURRENCY} concurrent connections lost ${failed.length} of ${outcomes.length} requests: ` +
          `${inFlightAtKill.length} in flight at the kill, ${failed.length - inFlightAtKill.length} sent to A while the kernel closed its sockets (${Math.round(exitedAt - killedAt)} ms) [${problems.join('; ')}]; ` +
          `haproxy took A out ${Math.round(downAt - killedAt)} ms after the kill; requests started from A's exit until then: ${betweenExitAndDown.filter((outcome) => outcome.ok).length}/${betweenExitAndDown.length} answered (redispatched to B); ` +
          `after: ${afterDown.filter((outcome) => outcome.ok).length}/${afterDown.length}`,
      )
      // Lost: only requests sent to A before it was gone. Once its sockets are closed, haproxy's connection is
      // refused and `option redispatch 1` sends it to B, before any health check has noticed (without it,
      // each such request fails after 3 retries on A).
      expect(failed.filter((outcome) => outcome.startedAt > exitedAt)).toEqual([])
      // Nothing failed before the kill.
      expect(failed.filter((outcome) => outcome.endedAt < killedAt)).toEqual([])
      // Each connection had at most one request in flight at the kill. A killed process keeps its sockets
      // until the kernel has torn it down (the time from the kill to the exit), which then closes them one
      // at a time: a connection made to A meanwhile waits in the queue of A's listening socket and is reset
      // with it. So a connection whose request in flight was reset before that listening socket closed can
      // lose one more, and no connection more than 2.
      for (const [worker, list] of Object.entries(Object.groupBy(failed, (outcome) => outcome.worker))) expect([`connection ${worker}`, list!.length <= 2]).toEqual([`connection ${worker}`, true])
      expect(afterDown.filter((outcome) => !outcome.ok)).toEqual([])
    } finally {
      await loop.stop()
    }
  }, 45_000)

  test('node A started again on its ports is back in after one good check (rise 1), and serves what it reads from Redis: the proxy, its current certificate, the revocation', async () => {
    a = await cluster.restart(a)
    await waitFor(async () => (await haproxyServerStatus(statsSocket))['nodes_http/node-a'] === 'UP', { timeoutMs: 10_000, intervalMs: 20, what: 'haproxy to put node A back' })
    expect((await haproxyServerStatus(statsSocket))['nodes_https/node-a']).toBe('UP')
    // haproxy's roundrobin evens out the shares of a server that came back over the next connections
    // (about ten here: the one that served alone, or the one back, gets a run of them): send requests until
    // node A has served both kinds through the balancer, every one answered.
    const statuses: number[] = []
    await waitFor(
      async () => {
        for (let i = 0; i < 5; i++) statuses.push((await throughBalancer(APP, '/rejoined')).status)
        for (let i = 0; i < 2; i++) statuses.push((await httpsRequest(balancer.https, APP, '/rejoined', 5_000, CLIENT)).status)
        const records = (await recordsFor('/rejoined')).filter((record) => record.path === '/rejoined' && record.node === 'node-a')
        return new Set(records.map((record) => record.scheme)).size === 2
      },
      { timeoutMs: 15_000, intervalMs: 100, what: 'node A to serve HTTP and HTTPS through the balancer again' },
    )
    expect(statuses).toEqual(statuses.map(() => 200))
    const onA = await httpsRequest(a.httpsPort, APP, '/rejoined', 5_000, CLIENT)
    const onB = await httpsRequest(b.httpsPort, APP, '/rejoined', 5_000, CLIENT)
    expect(onA.fingerprint).toBe(onB.fingerprint)
    expect(revokedToken).not.toBe('')
    expect(await directStatus(a, PROTECTED, revokedToken)).toBe(401)
  }, 30_000)

  test('with Redis down, every node\'s /health answers 503 and the example\'s check takes both out (the trade-off its comment names)', async () => {
    await cluster.redis.stop()
    await waitFor(async () => Object.values(await haproxyServerStatus(statsSocket)).every((status) => status.startsWith('DOWN')), { timeoutMs: 15_000, intervalMs: 50, what: 'haproxy to take both nodes out' })
    for (const node of [a, b]) expect([node.nodeId, (await fetch(`${node.url}/health`)).status]).toEqual([node.nodeId, 503])
  }, 20_000)
})
