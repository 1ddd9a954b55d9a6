/**
 * Rate limits (#13) across nodes: two `serve` processes on one Redis share the authorization server's
 * and the management API's counts (the buckets are in the store), so a client alternating between
 * them is refused after the one burst, on both; a proxy's data-plane rate_limit is counted on each
 * node (documented: N nodes admit N times it). The first refusal of a blocked client is logged.
 * Clients are 127.0.0.x source addresses; 127.0.0.1 (the harness) is exempt.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { httpFrom, type HttpReply } from '../support/http-from.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { cleanupSpawned, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

const OAUTH_BURST = 4
const API_ADDRESS_BURST = 6
const API_TOKEN_BURST = 5

interface Node {
  readonly served: ServedProcess
  readonly apiPort: number
  readonly httpPort: number
}

describe('two serve processes on one Redis', () => {
  let redis: TestRedis
  let a: Node
  let b: Node
  let adminToken: string
  let backend: ReturnType<typeof Bun.serve>

  beforeAll(async () => {
    redis = await startRedis()
    backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('ok') })
    const shared = {
      REDIS_URL: redis.url,
      PUBLIC_URL: 'https://edge.test',
      LISTEN_ADDRESS: '127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_EXEMPT: '127.0.0.1',
      RATE_LIMIT_OAUTH: `1/h,${OAUTH_BURST}`,
      RATE_LIMIT_API_ADDRESS: `1/h,${API_ADDRESS_BURST}`,
      RATE_LIMIT_API: `1/h,${API_TOKEN_BURST}`,
      ...isolatedPortRanges(),
    }
    const node = async (nodeId: string): Promise<Node> => {
      const httpPort = await freePort()
      const served = await startServe({ env: await serveEnv({ ...shared, NODE_ID: nodeId, HTTP_PORT: String(httpPort), HTTPS_PORT: String(await freePort()) }) })
      return { served, apiPort: served.port, httpPort }
    }
    a = await node('node-a')
    b = await node('node-b')
    const issued = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin'], { env: await serveEnv(shared) })
    if (issued.code !== 0) throw new Error(`token issue exited ${issued.code}: ${issued.stderr}`)
    adminToken = issued.stdout.trim()
  }, 60_000)

  afterAll(async () => {
    await cleanupSpawned()
    await redis?.dispose()
    backend?.stop(true)
  })

  /** Sends `times` requests from one address, alternating between node A and node B. */
  async function alternating(times: number, send: (node: Node, i: number) => Promise<HttpReply>): Promise<number[]> {
    const statuses: number[] = []
    for (let i = 0; i < times; i++) statuses.push((await send(i % 2 === 0 ? a : b, i)).status)
    return statuses
  }

  test(`the authorization server: one address gets ${OAUTH_BURST} requests across both nodes, then 429 on each`, async () => {
    const statuses = await alternating(OAUTH_BURST + 2, (node) => httpFrom('127.0.0.70', node.apiPort, { path: '/.well-known/oauth-authorization-server' }))
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429])
    const refused = await httpFrom('127.0.0.70', b.apiPort, { method: 'POST', path: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token' })
    expect({ status: refused.status, error: JSON.parse(refused.body).error }).toEqual({ status: 429, error: 'temporarily_unavailable' })
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    // Another address still has its whole burst.
    expect((await httpFrom('127.0.0.71', b.apiPort, { path: '/jwks' })).status).toBe(200)
  })

  test(`the management API per address: ${API_ADDRESS_BURST} across both nodes, then 429 on each`, async () => {
    const statuses = await alternating(API_ADDRESS_BURST + 2, (node) => httpFrom('127.0.0.72', node.apiPort, { path: '/system/version' }))
    expect(statuses).toEqual([...Array(API_ADDRESS_BURST).fill(200), 429, 429])
  })

  test(`the management API per token: one token from many addresses, on both nodes, ${API_TOKEN_BURST} then 429`, async () => {
    const statuses = await alternating(API_TOKEN_BURST + 2, (node, i) =>
      httpFrom(`127.0.0.${110 + i}`, node.apiPort, { path: '/system/info', headers: { authorization: `Bearer ${adminToken}` } }),
    )
    expect(statuses).toEqual([...Array(API_TOKEN_BURST).fill(200), 429, 429])
  })

  test('the first refusal of a blocked client is logged on the node that refused it, naming the limit and the client', async () => {
    await waitFor(() => /rate limited/.test(a.served.stderrText() + b.served.stderrText()), { what: 'a rate-limited log line' })
    const lines = (a.served.stderrText() + b.served.stderrText()).split('\n').filter((line) => line.includes('rate limited'))
    expect(lines.some((line) => line.includes('oauth') && line.includes('127.0.0.70'))).toBe(true)
    expect(lines.some((line) => line.includes('api_address') && line.includes('127.0.0.72'))).toBe(true)
    expect(lines.some((line) => line.includes('api_token') && line.includes('alice'))).toBe(true)
    // Once per block, not once per refused request.
    expect(lines.filter((line) => line.includes('127.0.0.72')).length).toBeLessThanOrEqual(2)
    expect(adminToken.length).toBeGreaterThan(0)
    for (const line of lines) expect(line).not.toContain(adminToken)
  })

  test("a proxy's rate_limit is counted on each node: each admits the burst", async () => {
    const created = await fetch(`http://127.0.0.1:${a.apiPort}/proxy/targets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ proxy_hostname: 'limited-nodes.test', target_url: `http://127.0.0.1:${backend.port}`, rate_limit: { requests_per_second: 0.001, burst: 2 } }),
    })
    expect(created.status).toBe(201)
    const viaEdge = (node: Node, from: string) => httpFrom(from, node.httpPort, { path: '/', host: 'limited-nodes.test' })
    // The harness (exempt) waits until both nodes serve the proxy.
    for (const node of [a, b]) await waitFor(async () => (await viaEdge(node, '127.0.0.1')).status === 200, { what: 'the proxy on both nodes' })
    const onA = [await viaEdge(a, '127.0.0.80'), await viaEdge(a, '127.0.0.80'), await viaEdge(a, '127.0.0.80')]
    const onB = [await viaEdge(b, '127.0.0.80'), await viaEdge(b, '127.0.0.80'), await viaEdge(b, '127.0.0.80')]
    expect({ a: onA.map((reply) => reply.status), b: onB.map((reply) => reply.status) }).toEqual({ a: [200, 200, 429], b: [200, 200, 429] })
  }, 30_000)
})
