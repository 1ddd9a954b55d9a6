/**
 * DESIGN §5 and §6 for the edge's auth step across nodes: two `serve` processes on one Redis, each with
 * its own token verifier (cached until exp). A token revoked through node A's API (RFC 7009 POST
 * /revoke) is refused by node B's edge within a second, although B's edge had it cached: the
 * `token_revoked` event evicts it on every node. Requests carry Host app.test with no port, so the
 * audience is http://app.test on both nodes' listeners.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { systemClock } from '../../src/lib/index.ts'
import { createKeyRing } from '../../src/oauth/index.ts'
import { createRedisStore, keys } from '../../src/store/index.ts'
import { tokenMinter } from '../support/auth-tokens.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { cleanupSpawned, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

/** The acceptance bound: a revocation made on one node holds on every node within this. */
const CONVERGENCE_MS = 1_000
const ISSUER = 'https://edge.test'
const APP = 'app.test'
const AUDIENCE = `http://${APP}`

interface Node {
  readonly served: ServedProcess
  readonly httpPort: number
}

describe('two serve processes on one Redis: revocation reaches every edge', () => {
  let redis: TestRedis
  let a: Node
  let b: Node
  let adminToken: string
  let backend: ReturnType<typeof Bun.serve>
  let backendHits = 0

  beforeAll(async () => {
    redis = await startRedis()
    backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => (backendHits++, new Response('backend')) })
    const shared = { REDIS_URL: redis.url, PUBLIC_URL: ISSUER, LISTEN_ADDRESS: '127.0.0.1', LOG_LEVEL: 'warn', ...isolatedPortRanges() }
    const node = async (nodeId: string): Promise<Node> => {
      const httpPort = await freePort()
      const served = await startServe({ env: await serveEnv({ ...shared, NODE_ID: nodeId, HTTP_PORT: String(httpPort), HTTPS_PORT: String(await freePort()) }) })
      return { served, httpPort }
    }
    a = await node('node-a')
    b = await node('node-b')
    const issued = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin'], { env: await serveEnv(shared) })
    if (issued.code !== 0) throw new Error(`token issue exited ${issued.code}: ${issued.stderr}`)
    adminToken = issued.stdout.trim()
    const api = (method: string, path: string, body: unknown) =>
      fetch(`${a.served.url}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect((await api('POST', '/proxy/targets', { proxy_hostname: APP, target_url: `http://127.0.0.1:${backend.port}` })).status).toBe(201)
    expect((await api('PUT', `/proxy/targets/${APP}/auth`, { auth_enabled: true })).status).toBe(200)
    // Both edges have the protected proxy (created through A, announced to B).
    for (const node of [a, b]) await waitFor(async () => (await edgeStatus(node, null)) === 401, { timeoutMs: 10_000, what: `the protected proxy on ${node.served.url}` })
  }, 60_000)

  afterAll(async () => {
    await cleanupSpawned()
    backend?.stop(true)
    await redis?.dispose()
  })

  async function edgeStatus(node: Node, token: string | null): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${node.httpPort}/x`, { headers: { host: APP, connection: 'close', ...(token ? { authorization: `Bearer ${token}` } : {}) } })
    await response.arrayBuffer()
    return response.status
  }

  /** Tokens for the proxy, signed with the cluster's key ring, issued to a public client registered on A (so it may revoke them, RFC 7009 §2.1). */
  async function tokensOfPublicClient(count: number): Promise<{ tokens: string[]; clientId: string }> {
    const registered = await fetch(`${a.served.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none', client_name: 'edge revoker' }),
    })
    expect(registered.status).toBe(201)
    const clientId = ((await registered.json()) as { client_id: string }).client_id
    const store = createRedisStore({ url: redis.url })
    try {
      const minter = tokenMinter(createKeyRing(store, systemClock, { retireAfterSec: 3600 }), ISSUER)
      const tokens = await Promise.all(Array.from({ length: count }, () => minter.valid(AUDIENCE, { clientId })))
      return { tokens, clientId }
    } finally {
      await store.close()
    }
  }

  test('the control: B\'s edge really serves a verified token from its cache — a denylist entry written to Redis without the token_revoked event does not stop it there, while a fresh check on A refuses it', async () => {
    const { tokens: [token] } = await tokensOfPublicClient(1)
    expect(await edgeStatus(b, token!)).toBe(200)
    const jti = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString()) as { jti: string }
    const store = createRedisStore({ url: redis.url })
    try {
      await store.put(keys.revokedAccessToken(jti.jti), String(Date.now()), { ttlMs: 600_000 })
    } finally {
      await store.close()
    }
    expect(await edgeStatus(a, token!)).toBe(401)
    expect(await edgeStatus(b, token!)).toBe(200)
  }, 30_000)

  test('RFC 7009 §2: a token revoked through node A is refused by node B\'s edge within a second, though B\'s edge had it cached; another token stays admitted', async () => {
    const { tokens: [token, other], clientId } = await tokensOfPublicClient(2)
    // Both edges verify it once and cache it; the backend is reached each time.
    const hitsBefore = backendHits
    for (const node of [a, b, b]) expect(await edgeStatus(node, token!)).toBe(200)
    expect(await edgeStatus(b, other!)).toBe(200)
    expect(backendHits - hitsBefore).toBe(4)

    const revoked = await fetch(`${a.served.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: token!, client_id: clientId }),
    })
    expect(revoked.status).toBe(200)
    const revokedAtMs = Date.now()
    expect(await edgeStatus(a, token!)).toBe(401)

    let status = await edgeStatus(b, token!)
    while (status !== 401 && Date.now() - revokedAtMs < CONVERGENCE_MS) {
      await Bun.sleep(20)
      status = await edgeStatus(b, token!)
    }
    expect(status).toBe(401)
    expect(Date.now() - revokedAtMs).toBeLessThan(CONVERGENCE_MS)
    // Only the revoked jti was evicted.
    expect(await edgeStatus(b, other!)).toBe(200)
    expect(await edgeStatus(a, other!)).toBe(200)
  }, 30_000)
})
