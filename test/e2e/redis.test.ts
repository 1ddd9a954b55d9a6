/**
 * serve on a real Redis: health reports the store, a Redis outage is survived and reported as 503,
 * recovery needs no restart, and nodes sharing Redis share signing keys.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { cleanupSpawned, runCli, serveEnv, startServe } from '../support/serve.ts'

let redis: TestRedis

beforeAll(async () => {
  redis = await startRedis()
})
afterEach(cleanupSpawned)
afterAll(async () => {
  await cleanupSpawned()
  await redis.dispose()
})

async function health(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(4_000) })
  return { status: response.status, body: await response.json() }
}

async function issue(env: Record<string, string>, ...args: string[]): Promise<string> {
  const result = await runCli(['token', 'issue', ...args], { env })
  if (result.code !== 0) throw new Error(`token issue exited ${result.code}: ${result.stderr}`)
  return result.stdout.trim()
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })

describe('serve on Redis', () => {
  test('with REDIS_URL, /health reports store kind redis, status ok', async () => {
    const server = await startServe({ env: await serveEnv({ REDIS_URL: redis.url }) })
    const { status, body } = await health(server.url)
    expect(status).toBe(200)
    expect(body).toMatchObject({ status: 'ok', store: { kind: 'redis', status: 'ok' } })
  })

  test('a token issued by the CLI with REDIS_URL works against the Redis-backed server', async () => {
    const env = await serveEnv({ REDIS_URL: redis.url })
    const server = await startServe({ env })
    // The CLI gets no DATA_DIR: the key can only come from Redis.
    const { DATA_DIR: _unused, ...cliEnv } = env
    const token = await issue(cliEnv, '--user', 'alice', '--scope', 'admin')
    const response = await fetch(`${server.url}/system/info`, { headers: bearer(token) })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ store: 'redis', you: { username: 'alice' } })
  })

  test('two servers on the same REDIS_URL (different API ports and NODE_IDs) accept the same token, also after a rotation', async () => {
    // Nodes behind one edge share one PUBLIC_URL: it is the issuer and audience of every token.
    const publicUrl = 'https://edge.test'
    const a = await startServe({ env: await serveEnv({ REDIS_URL: redis.url, NODE_ID: 'node-a', PUBLIC_URL: publicUrl }) })
    const b = await startServe({ env: await serveEnv({ REDIS_URL: redis.url, NODE_ID: 'node-b', PUBLIC_URL: publicUrl }) })
    expect(a.port).not.toBe(b.port)
    const cliEnv = await serveEnv({ REDIS_URL: redis.url, PUBLIC_URL: publicUrl })
    const token = await issue(cliEnv, '--user', 'alice', '--scope', 'admin')

    const nodeOf = async (url: string, jwt: string) => {
      const response = await fetch(`${url}/system/info`, { headers: bearer(jwt) })
      expect(response.status).toBe(200)
      return ((await response.json()) as { node_id: string }).node_id
    }
    expect(await nodeOf(a.url, token)).toBe('node-a')
    expect(await nodeOf(b.url, token)).toBe('node-b')

    // Both publish the same key set.
    const jwksOf = async (url: string) => ((await (await fetch(`${url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid).sort()
    expect(await jwksOf(a.url)).toEqual(await jwksOf(b.url))

    // Rotating on A: a token signed with the new key verifies on B without a restart.
    const rotate = await fetch(`${a.url}/oauth/keys/rotate`, { method: 'POST', headers: bearer(token) })
    expect(rotate.status).toBe(200)
    const fresh = await issue(cliEnv, '--user', 'bob', '--scope', 'user')
    expect(await nodeOf(b.url, fresh)).toBe('node-b')
    expect(await nodeOf(a.url, token)).toBe('node-a')
  })
})

describe('a Redis outage is survived', () => {
  test('Redis stops: /health answers 503 {kind redis, status unavailable} within seconds and serve keeps running; Redis returns: 200 again without a restart', async () => {
    // Its own Redis: this test wipes it (redis-server runs without persistence).
    const own = await startRedis()
    try {
      const server = await startServe({ env: await serveEnv({ REDIS_URL: own.url }) })
      expect((await health(server.url)).status).toBe(200)

      await own.stop()
      const down = await waitFor(
        async () => {
          const result = await health(server.url)
          return result.status === 503 ? result : null
        },
        { timeoutMs: 8_000, intervalMs: 200, what: '/health to report 503 after Redis stopped' },
      )
      expect(down.body).toMatchObject({ status: 'unavailable', store: { kind: 'redis', status: 'unavailable' } })
      expect(server.proc.exitCode).toBeNull()
      expect(server.proc.signalCode).toBeNull()

      // Token-protected routes fail as 401/503, never as a crash.
      const info = await fetch(`${server.url}/system/info`, { headers: bearer('a.b.c') })
      expect([401, 503]).toContain(info.status)

      await own.start()
      const up = await waitFor(
        async () => {
          const result = await health(server.url)
          return result.status === 200 ? result : null
        },
        { timeoutMs: 15_000, intervalMs: 250, what: '/health to return 200 after Redis came back' },
      )
      expect(up.body).toMatchObject({ status: 'ok', store: { kind: 'redis', status: 'ok' } })
      expect(server.proc.exitCode).toBeNull()
      expect(await server.stop()).toBe(0)
    } finally {
      await own.dispose()
    }
  }, 45_000)

  test('serve with REDIS_URL pointing at nothing: exit 1 after its start-up wait, one line naming REDIS_URL', async () => {
    const result = await runCli(['serve'], { env: await serveEnv({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }), timeoutMs: 25_000 })
    expect(result.code).toBe(1)
    const lines = result.stderr.split('\n').filter(Boolean)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain('REDIS_URL')
  }, 30_000)
})
