/**
 * DESIGN §5 and §6 for access tokens across nodes: each node's API caches a verified token, and a token
 * revoked through node A (RFC 7009 POST /revoke) is refused by node B's API within a second, although B
 * had it cached: the `token_revoked` event evicts it on every node.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { decodeJwt } from 'jose'
import { systemClock } from '../../src/lib/index.ts'
import { createKeyRing, issueAccessToken } from '../../src/oauth/index.ts'
import { createRedisStore } from '../../src/store/index.ts'
import { registerPublicClient, startCluster, type ClusterNode, type TestCluster } from '../support/serve-cluster.ts'

/** The acceptance bound: a revocation made on one node holds on every node within this. */
const CONVERGENCE_MS = 1_000

describe('two serve processes on one Redis', () => {
  let cluster: TestCluster
  let a: ClusterNode
  let b: ClusterNode
  let adminToken: string

  beforeAll(async () => {
    cluster = await startCluster({ nodeIds: ['node-a', 'node-b'] })
    ;[a, b] = cluster.nodes as [ClusterNode, ClusterNode]
    adminToken = cluster.adminToken
  }, 60_000)

  afterAll(async () => {
    await cluster?.stop()
  })

  /** An admin token for the API, issued to a registered public client so that client may revoke it (RFC 7009 §2.1). */
  async function tokenOfPublicClient(): Promise<{ token: string; clientId: string }> {
    const clientId = await registerPublicClient(a.url, 'revoker')
    const { iss, aud } = decodeJwt(adminToken)
    const store = createRedisStore({ url: cluster.redis.url })
    try {
      const keyRing = createKeyRing(store, systemClock, { retireAfterSec: 3600 })
      const token = await issueAccessToken(keyRing, systemClock, {
        issuer: iss!,
        audience: aud as string,
        subject: 'local:alice',
        username: 'alice',
        scopes: ['admin'],
        clientId,
        ttlSec: 600,
      })
      return { token, clientId }
    } finally {
      await store.close()
    }
  }

  const apiStatus = async (node: ClusterNode, token: string) =>
    (await fetch(`${node.url}/system/info`, { headers: { authorization: `Bearer ${token}` } })).status

  test('a token revoked through node A is refused by node B within a second, though B had it cached', async () => {
    const { token, clientId } = await tokenOfPublicClient()
    // Both nodes verify it once and cache it.
    expect(await apiStatus(a, token)).toBe(200)
    expect(await apiStatus(b, token)).toBe(200)
    expect(await apiStatus(b, token)).toBe(200)

    const revoked = await fetch(`${a.url}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, client_id: clientId }),
    })
    expect(revoked.status).toBe(200)
    const revokedAtMs = Date.now()
    expect(await apiStatus(a, token)).toBe(401)

    let status = await apiStatus(b, token)
    while (status !== 401 && Date.now() - revokedAtMs < CONVERGENCE_MS) {
      await Bun.sleep(20)
      status = await apiStatus(b, token)
    }
    expect(status).toBe(401)
    expect(Date.now() - revokedAtMs).toBeLessThan(CONVERGENCE_MS)
    // Another token stays admitted on both nodes: only the revoked jti was evicted.
    expect(await apiStatus(b, adminToken)).toBe(200)
  }, 30_000)
})
