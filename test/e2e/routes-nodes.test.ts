/**
 * DESIGN §5 for routes and external services across nodes and restarts: two `serve` processes on one
 * Redis apply each other's changes to their data planes within a second; a change that no event announced
 * is repaired by the reconcile (manual and periodic), and a reconcile that overlaps a change must not undo
 * it; and a server started on a store that already holds proxies serves every one of them as soon as it has
 * started, with no wait.
 *
 * `serve` has no setting for the reconcile interval (ServerOptions['edge'] is not reachable from the CLI),
 * so the reconcile is tested in-process with startTestEdge.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as v from 'valibot'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger, systemClock } from '../../src/lib/index.ts'
import { createRouteStore, type Route } from '../../src/routes/index.ts'
import { createExternalServices } from '../../src/services/index.ts'
import { createProxyTargets, CreateProxyTargetSchema } from '../../src/targets/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { httpsGet, viaHttp } from '../support/edge-clients.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { startCluster, type ClusterNode, type TestCluster } from '../support/serve-cluster.ts'

/** The acceptance bound: a change made on one node is live on every node within this. */
const CONVERGENCE_MS = 1_000

let backend: ReturnType<typeof startPathEchoBackend>
const backendUrl = (tag: string) => `http://127.0.0.1:${backend.port}/${tag}`

/** Answers with the request target it received, so `/<tag>/…` names the target (route, proxy or service) that sent it. */
function startPathEchoBackend() {
  return Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const url = new URL(request.url)
      return new Response(`${url.pathname}${url.search}`)
    },
  })
}

beforeAll(() => {
  backend = startPathEchoBackend()
})
afterAll(() => {
  backend.stop(true)
})

/** "<status> <body>" of one request to a public HTTP listener, on a connection of its own. */
async function answerOf(httpPort: number, host: string, path: string): Promise<string> {
  const response = await viaHttp({ httpPort, httpsPort: 0 }, host, path)
  return `${response.status} ${await response.text()}`
}

describe('two serve processes on one Redis', () => {
  let cluster: TestCluster
  let a: ClusterNode
  let b: ClusterNode

  beforeAll(async () => {
    // Nodes behind one edge share PUBLIC_URL (the tokens' issuer and audience) and the store, so the same instance port ranges.
    cluster = await startCluster({ nodeIds: ['node-a', 'node-b'] })
    ;[a, b] = cluster.nodes as [ClusterNode, ClusterNode]

    // The proxy every test routes on, created through A and waited for on B.
    expect((await apiOnA('POST', '/proxy/targets', { proxy_hostname: 'nodes.test', target_url: backendUrl('own') })).status).toBe(201)
    await waitFor(async () => (await answerOf(b.httpPort, 'nodes.test', '/')) === '200 /own/', { timeoutMs: 5_000, what: 'nodes.test on node B' })
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  const apiOnA = (method: string, path: string, body?: unknown): Promise<Response> => cluster.api(a, method, path, body)

  /**
   * Makes the change on A and returns how long after A's answer node B's data plane first gave the wanted
   * answer for the path, polling B with one request every 10 ms (bounded at 5 s: past it the change never came).
   */
  async function msUntilOnB(change: () => Promise<Response>, wantedStatus: number, path: string, wanted: string | RegExp): Promise<{ ms: number; response: Response }> {
    const response = await change()
    const answeredAt = performance.now()
    expect(response.status).toBe(wantedStatus)
    const isWanted = (answer: string) => (typeof wanted === 'string' ? answer === wanted : wanted.test(answer))
    await waitFor(async () => isWanted(await answerOf(b.httpPort, 'nodes.test', path)), { timeoutMs: 5_000, intervalMs: 10, what: `node B to answer ${wanted} for ${path}` })
    return { ms: performance.now() - answeredAt, response }
  }

  test('the nodes are two processes with their own node ids and listeners', async () => {
    const nodeIdOf = async (node: ClusterNode) => {
      const response = await fetch(`${node.url}/system/info`, { headers: { authorization: `Bearer ${cluster.adminToken}` } })
      return ((await response.json()) as { node_id: string }).node_id
    }
    expect([await nodeIdOf(a), await nodeIdOf(b)]).toEqual(['node-a', 'node-b'])
    expect(a.proc.pid).not.toBe(b.proc.pid)
    expect(a.httpPort).not.toBe(b.httpPort)
  })

  test(`a route created, updated and deleted through A applies on B's data plane within ${CONVERGENCE_MS} ms of A's answer`, async () => {
    expect(await answerOf(b.httpPort, 'nodes.test', '/r/x')).toBe('200 /own/r/x')

    const created = await msUntilOnB(() => apiOnA('POST', '/routes', { path_pattern: '/r', target_type: 'url', target_value: backendUrl('one') }), 201, '/r/x', '200 /one/r/x')
    const route = (await created.response.json()) as Route
    const updated = await msUntilOnB(() => apiOnA('PUT', `/routes/${route.route_id}`, { target_value: backendUrl('two'), strip_prefix: true }), 200, '/r/x', '200 /two/x')
    const deleted = await msUntilOnB(() => apiOnA('DELETE', `/routes/${route.route_id}`), 204, '/r/x', '200 /own/r/x')

    expect(created.ms).toBeLessThanOrEqual(CONVERGENCE_MS)
    expect(updated.ms).toBeLessThanOrEqual(CONVERGENCE_MS)
    expect(deleted.ms).toBeLessThanOrEqual(CONVERGENCE_MS)
    // A's own data plane agrees.
    expect(await answerOf(a.httpPort, 'nodes.test', '/r/x')).toBe('200 /own/r/x')
  })

  test(`an external service that a route targets: creating the route, moving the service and deleting it apply on B within ${CONVERGENCE_MS} ms`, async () => {
    expect((await apiOnA('POST', '/services/external', { service_name: 'billing', target_url: backendUrl('svc-one') })).status).toBe(201)
    const routed = await msUntilOnB(
      () => apiOnA('POST', '/routes', { path_pattern: '/bill', target_type: 'service', target_value: 'billing' }),
      201,
      '/bill/x',
      '200 /svc-one/bill/x',
    )
    const route = (await routed.response.json()) as Route
    const moved = await msUntilOnB(() => apiOnA('PUT', '/services/external/billing', { target_url: backendUrl('svc-two') }), 200, '/bill/x', '200 /svc-two/bill/x')
    // README: deleting a service a route points at needs force, and the route then answers 502 until changed.
    const gone = await msUntilOnB(() => apiOnA('DELETE', '/services/external/billing?force=true'), 204, '/bill/x', /^502 /)

    expect(routed.ms).toBeLessThanOrEqual(CONVERGENCE_MS)
    expect(moved.ms).toBeLessThanOrEqual(CONVERGENCE_MS)
    expect(gone.ms).toBeLessThanOrEqual(CONVERGENCE_MS)
    const unrouted = await msUntilOnB(() => apiOnA('DELETE', `/routes/${route.route_id}`), 204, '/bill/x', '200 /own/bill/x')
    expect(unrouted.ms).toBeLessThanOrEqual(CONVERGENCE_MS)
  })
})

/**
 * Writes through the real services, so documents are stored exactly as the API stores them (a route with
 * its duplicate claim and creation sequence), but announced on a bus no edge listens to: the edge learns
 * of them only by reading the store.
 */
function behindTheBusesBack(edge: TestEdge) {
  const { store } = edge.server
  const unheard = createMemoryBus(createLogger('silent'))
  const services = createExternalServices(store, unheard, systemClock)
  const targets = createProxyTargets(store, unheard, systemClock)
  const routes = createRouteStore(store, unheard, systemClock, {
    serviceExists: async (name) => (await services.get(name)) !== null,
    proxyExists: async (hostname) => (await targets.get(hostname)) !== null,
  })
  const createProxy = (hostname: string, targetUrl: string) => targets.create(v.parse(CreateProxyTargetSchema, { proxy_hostname: hostname, target_url: targetUrl }), 'test')
  return { services, targets, routes, createProxy }
}

const urlRoute = (path_pattern: string, tag: string) => ({
  path_pattern,
  is_regex: false,
  methods: null,
  priority: 50,
  target_type: 'url' as const,
  target_value: backendUrl(tag),
  strip_prefix: false,
  scope: 'global' as const,
  proxy_hostnames: [],
  enabled: true,
  description: '',
  auth: null,
})

async function portsListed(edge: TestEdge): Promise<{ hostname: string; http?: number; https?: number }[]> {
  const response = await edge.api('GET', '/ports')
  expect(response.status).toBe(200)
  return (await response.json()) as { hostname: string; http?: number; https?: number }[]
}

describe('a missed event is repaired by the reconcile', () => {
  let edge: TestEdge
  afterEach(async () => {
    await edge?.stop()
  })

  test('edge.reconcile(): routes, a service and proxies changed without an event are not served before it and are served after it', async () => {
    // The default 30 s interval: no periodic reconcile runs during this test, so only the call below can repair.
    edge = await startTestEdge()
    await edge.createProxy('app.test', backendUrl('app'))
    expect((await edge.api('POST', '/services/external', { service_name: 'billing', target_url: backendUrl('svc-one') })).status).toBe(201)
    const quiet = behindTheBusesBack(edge)
    const at = (path: string) => answerOf(edge.httpPort, 'app.test', path)
    const reconcile = () => edge.server.edge.reconcile()

    // A route created behind the bus's back.
    const route = await quiet.routes.create(urlRoute('/missed', 'missed'), 'test')
    const viaService = await quiet.routes.create({ ...urlRoute('/bill', 'unused'), target_type: 'service', target_value: 'billing' }, 'test')
    expect((await edge.api('GET', `/routes/${route.route_id}`)).status).toBe(200)
    expect([await at('/missed/x'), await at('/bill/x')]).toEqual(['200 /app/missed/x', '200 /app/bill/x'])
    await reconcile()
    expect([await at('/missed/x'), await at('/bill/x')]).toEqual(['200 /missed/missed/x', '200 /svc-one/bill/x'])

    // Changed behind its back: the old route and the old service URL stay until the reconcile.
    await quiet.routes.update(route.route_id, { target_value: backendUrl('changed'), strip_prefix: true })
    await quiet.services.update('billing', { target_url: backendUrl('svc-two') })
    expect([await at('/missed/x'), await at('/bill/x')]).toEqual(['200 /missed/missed/x', '200 /svc-one/bill/x'])
    await reconcile()
    expect([await at('/missed/x'), await at('/bill/x')]).toEqual(['200 /changed/x', '200 /svc-two/bill/x'])

    // Deleted behind its back.
    await quiet.routes.remove(route.route_id)
    await quiet.routes.remove(viaService.route_id)
    expect([await at('/missed/x'), await at('/bill/x')]).toEqual(['200 /changed/x', '200 /svc-two/bill/x'])
    await reconcile()
    expect([await at('/missed/x'), await at('/bill/x')]).toEqual(['200 /app/missed/x', '200 /app/bill/x'])

    // A proxy created behind its back: no instance, no ports, 404, until the reconcile.
    await quiet.createProxy('missed.test', backendUrl('missed-proxy'))
    expect(await answerOf(edge.httpPort, 'missed.test', '/')).toStartWith('404 ')
    expect((await portsListed(edge)).map((entry) => entry.hostname)).not.toContain('missed.test')
    await reconcile()
    expect(await answerOf(edge.httpPort, 'missed.test', '/')).toBe('200 /missed-proxy/')
    expect((await httpsGet(edge.httpsPort, 'missed.test')).reply.text).toBe('/missed-proxy/')
    expect(await portsListed(edge)).toContainEqual({ hostname: 'missed.test', http: expect.any(Number), https: expect.any(Number) })

    // And deleted behind its back: served until the reconcile, then gone with its ports.
    await quiet.targets.remove('missed.test')
    expect(await answerOf(edge.httpPort, 'missed.test', '/')).toBe('200 /missed-proxy/')
    await reconcile()
    expect(await answerOf(edge.httpPort, 'missed.test', '/')).toStartWith('404 ')
    expect((await portsListed(edge)).map((entry) => entry.hostname)).not.toContain('missed.test')
  })

  test('with a short reconcileIntervalMs, a route and a proxy written without an event are served within a few intervals, with no call', async () => {
    const intervalMs = 100
    edge = await startTestEdge({}, { reconcileIntervalMs: intervalMs })
    await edge.createProxy('app.test', backendUrl('app'))
    const quiet = behindTheBusesBack(edge)
    // "Not before": proven by the test above, where nothing but the reconcile could repair. Checking it here
    // would race the timer.
    await quiet.routes.create(urlRoute('/ticked', 'ticked'), 'test')
    await quiet.createProxy('ticked.test', backendUrl('ticked-proxy'))
    const started = performance.now()
    await waitFor(async () => (await answerOf(edge.httpPort, 'app.test', '/ticked')) === '200 /ticked/ticked', { timeoutMs: 5_000, intervalMs: 10, what: 'the route after a periodic reconcile' })
    await waitFor(async () => (await answerOf(edge.httpPort, 'ticked.test', '/')) === '200 /ticked-proxy/', { timeoutMs: 5_000, intervalMs: 10, what: 'the proxy after a periodic reconcile' })
    expect(performance.now() - started).toBeLessThan(10 * intervalMs)
  })
})

describe('a reconcile that overlaps a change (Redis store: every read is a round trip)', () => {
  let redis: TestRedis
  let edge: TestEdge
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterEach(async () => {
    await edge?.stop()
  })
  afterAll(async () => {
    await redis?.dispose()
  })

  /**
   * Starts a reconcile, makes `change` while it is still reading the store, waits (≤ 5 s) until the change's
   * event has reached the data plane, lets the reconcile finish, and returns what the data plane answers
   * up to 1 s later: the change must still be there (the periodic reconcile does exactly this every 30 s).
   */
  async function answerAfterOverlap(change: () => Promise<Response>, ask: () => Promise<string>, wanted: string): Promise<string> {
    const reconciling = edge.server.edge.reconcile()
    const response = await change()
    expect(response.status).toBe(200)
    await waitFor(async () => (await ask()) === wanted, { timeoutMs: 5_000, intervalMs: 2, what: `the event to apply ${wanted}` })
    await reconciling
    return waitFor(async () => ((await ask()) === wanted ? wanted : null), { timeoutMs: CONVERGENCE_MS, intervalMs: 10 }).catch(() => ask())
  }

  test('a route changed while the reconcile reads the routes stays changed: the reconcile does not put back what it read before', async () => {
    edge = await startTestEdge({ REDIS_URL: redis.url })
    await edge.createProxy('app.test', backendUrl('app'))
    const create = async (path: string, tag: string) => {
      const response = await edge.api('POST', '/routes', { path_pattern: path, target_type: 'url', target_value: backendUrl(tag) })
      expect(response.status).toBe(201)
      return (await response.json()) as Route
    }
    // Its id sorts first, so the reconcile reads it at once; the others make the rest of its read take a while.
    const raced = await create('/0race', 'v0')
    // In batches: hundreds of creations at once exhaust the sequence counter's compare-and-set retries (409, "retry").
    for (let batch = 0; batch < 300; batch += 10) await Promise.all(Array.from({ length: 10 }, (_, i) => create(`/zz-filler-${batch + i}`, 'filler')))
    await edge.server.edge.reconcile()
    const ask = () => answerOf(edge.httpPort, 'app.test', '/0race')
    expect(await ask()).toBe('200 /v0/0race')

    const seen: string[] = []
    for (const version of ['v1', 'v2', 'v3']) {
      seen.push(await answerAfterOverlap(() => edge.api('PUT', `/routes/${raced.route_id}`, { target_value: backendUrl(version) }), ask, `200 /${version}/0race`))
    }
    expect(seen).toEqual(['200 /v1/0race', '200 /v2/0race', '200 /v3/0race'])
  })

  test('a proxy changed while the reconcile reads the proxies stays changed: the reconcile does not apply what it read before', async () => {
    edge = await startTestEdge({ REDIS_URL: redis.url, ...isolatedPortRanges(128) })
    // Sorts first among the proxies; the others (HTTP only, one port each) make the rest of the read take a while.
    await edge.createProxy('a0.race.test', backendUrl('v0'))
    for (let i = 0; i < 100; i++) await edge.createProxy(`z${i}.race.test`, backendUrl('filler'), { enable_https: false })
    await edge.server.edge.reconcile()
    const ask = () => answerOf(edge.httpPort, 'a0.race.test', '/')
    expect(await ask()).toBe('200 /v0/')

    const seen: string[] = []
    for (const version of ['v1', 'v2', 'v3']) {
      seen.push(await answerAfterOverlap(() => edge.api('PUT', '/proxy/targets/a0.race.test', { target_url: backendUrl(version) }), ask, `200 /${version}/`))
    }
    expect(seen).toEqual(['200 /v1/', '200 /v2/', '200 /v3/'])
  })
})

describe('instances exist for every proxy right after start-up', () => {
  const dirs: string[] = []
  const edges: TestEdge[] = []
  afterAll(async () => {
    // stop() is idempotent: the first server is stopped by the test already, unless it failed first.
    for (const edge of edges) await edge.stop()
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  })

  test('20 proxies on an embedded store: a new server on the same DATA_DIR serves each over HTTP and HTTPS, and GET /ports lists each, as soon as it has started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ohp-boot-'))
    dirs.push(dir)
    // The same store and the same instance port ranges for both servers, as across a restart.
    const env = { DATA_DIR: join(dir, 'data'), ...isolatedPortRanges(32) }
    const hostnames = Array.from({ length: 20 }, (_, i) => `p${i}.boot.test`)

    const first = await startTestEdge(env)
    edges.push(first)
    for (const [i, hostname] of hostnames.entries()) await first.createProxy(hostname, backendUrl(`p${i}`))
    const portsBefore = await portsListed(first)
    await first.stop()

    const edge = await startTestEdge(env)
    edges.push(edge)
    // No wait loop: everything below runs the moment start-up has returned.
    const [plain, tls, ports] = await Promise.all([
      Promise.all(hostnames.map((hostname) => answerOf(edge.httpPort, hostname, '/'))),
      Promise.all(hostnames.map(async (hostname) => {
        const { reply } = await httpsGet(edge.httpsPort, hostname)
        return `${reply.status} ${reply.text}`
      })),
      portsListed(edge),
    ])
    const expected = hostnames.map((_, i) => `200 /p${i}/`)
    expect(plain).toEqual(expected)
    expect(tls).toEqual(expected)
    for (const hostname of hostnames) {
      const entry = ports.find((listed) => listed.hostname === hostname)
      expect(entry).toEqual({ hostname, http: expect.any(Number), https: expect.any(Number) })
      // Ports stay the same across the restart.
      expect(entry).toEqual(portsBefore.find((listed) => listed.hostname === hostname))
    }
    // 20 proxies and the built-in localhost proxy.
    expect(edge.server.edge.stats().instances).toBe(hostnames.length + 1)
  })
})
