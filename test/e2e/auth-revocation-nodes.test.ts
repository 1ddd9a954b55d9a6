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
import { waitFor } from '../support/ports.ts'
import { registerPublicClient, startCluster, type ClusterNode, type TestCluster } from '../support/serve-cluster.ts'

/** The acceptance bound: a revocation made on one node holds on every node within this. */
const CONVERGENCE_MS = 1_000
const ISSUER = 'https://edge.test'
const APP = 'app.test'
const AUDIENCE = `http://${APP}`

describe('two serve processes on one Redis: revocation reaches every edge', () => {
  let cluster: TestCluster
  let a: ClusterNode
  let b: ClusterNode
  let backend: ReturnType<typeof Bun.serve>
  let backendHits = 0

  beforeAll(async () => {
    backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => (backendHits++, new Response('backend')) })
    cluster = await startCluster({ nodeIds: ['node-a', 'node-b'], env: { PUBLIC_URL: ISSUER } })
    ;[a, b] = cluster.nodes as [ClusterNode, ClusterNode]
    expect((await cluster.api(a, 'POST', '/proxy/targets', { proxy_hostname: APP, target_url: `http://127.0.0.1:${backend.port}` })).status).toBe(201)
    expect((await cluster.api(a, 'PUT', `/proxy/targets/${APP}/auth`, { auth_enabled: true })).status).toBe(200)
    // Both edges have the protected proxy (created through A, announced to B).
    for (const node of [a, b]) await waitFor(async () => (await edgeStatus(node, null)) === 401, { timeoutMs: 10_000, what: `the protected proxy on ${node.url}` })
  }, 60_000)

  afterAll(async () => {
    await cluster?.stop()
    backend?.stop(true)
  })

  async function edgeStatus(node: ClusterNode, token: string | null): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${node.httpPort}/x`, { headers: { host: APP, connection: 'close', ...(token ? { authorization: `Bearer ${token}` } : {}) } })
    await response.arrayBuffer()
    return response.status
  }

  /** Tokens for the proxy, signed with the cluster's key ring, issued to a public client registered on A (so it may revoke them, RFC 7009 §2.1). */
  async function tokensOfPublicClient(count: number): Promise<{ tokens: string[]; clientId: string }> {
    const clientId = await registerPublicClient(a.url, 'edge revoker')
    const store = createRedisStore({ url: cluster.redis.url })
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
    const store = createRedisStore({ url: cluster.redis.url })
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

    const revoked = await fetch(`${a.url}/revoke`, {
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
