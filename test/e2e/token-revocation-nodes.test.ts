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
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { freePort } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { cleanupSpawned, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

/** The acceptance bound: a revocation made on one node holds on every node within this. */
const CONVERGENCE_MS = 1_000

describe('two serve processes on one Redis', () => {
  let redis: TestRedis
  let a: ServedProcess
  let b: ServedProcess
  let adminToken: string

  beforeAll(async () => {
    redis = await startRedis()
    const shared = { REDIS_URL: redis.url, PUBLIC_URL: 'https://edge.test', LISTEN_ADDRESS: '127.0.0.1', LOG_LEVEL: 'warn', ...isolatedPortRanges() }
    const node = async (nodeId: string) => startServe({ env: await serveEnv({ ...shared, NODE_ID: nodeId, HTTP_PORT: String(await freePort()), HTTPS_PORT: String(await freePort()) }) })
    a = await node('node-a')
    b = await node('node-b')
    const issued = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin'], { env: await serveEnv(shared) })
    if (issued.code !== 0) throw new Error(`token issue exited ${issued.code}: ${issued.stderr}`)
    adminToken = issued.stdout.trim()
  }, 60_000)

  afterAll(async () => {
    await cleanupSpawned()
    await redis?.dispose()
  })

  /** An admin token for the API, issued to a registered public client so that client may revoke it (RFC 7009 §2.1). */
  async function tokenOfPublicClient(): Promise<{ token: string; clientId: string }> {
    const registered = await fetch(`${a.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none', client_name: 'revoker' }),
    })
    expect(registered.status).toBe(201)
    const clientId = ((await registered.json()) as { client_id: string }).client_id
    const { iss, aud } = decodeJwt(adminToken)
    const store = createRedisStore({ url: redis.url })
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

  const apiStatus = async (node: ServedProcess, token: string) =>
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
