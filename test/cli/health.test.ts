/**
 * `oauth-https-proxy health` (the image's HEALTHCHECK) against real servers: exit 0 when the server on
 * this host and its store answer, 1 when the store is down, nothing listens or something else answers,
 * 2 for a bad API_PORT. It finds the server from API_HOST/API_PORT and never from PUBLIC_URL.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { freePort, waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { cleanupSpawned, runCli, serveEnv, startServe } from '../support/serve.ts'

// Each test spawns processes or containers: room for a loaded machine (bun's default is 5 s).
setDefaultTimeout(30_000)

let redis: TestRedis
let redisEnv: Record<string, string>

beforeAll(async () => {
  redis = await startRedis()
  redisEnv = await serveEnv({ REDIS_URL: redis.url })
  await startServe({ env: redisEnv })
})
afterAll(async () => {
  await cleanupSpawned()
  await redis.dispose()
})

describe('health', () => {
  test('with the server\'s own environment (API_HOST=0.0.0.0, a PUBLIC_URL nobody here can reach): exit 0, one line naming the store', async () => {
    const env = await serveEnv({ API_HOST: '0.0.0.0', PUBLIC_URL: 'https://edge.invalid' })
    await startServe({ env })
    expect(await runCli(['health'], { env })).toEqual({ code: 0, stdout: 'ok: embedded store ok\n', stderr: '' })
  })

  test('the Redis store down: exit 1 naming the 503 and the store; back up: exit 0 again', async () => {
    expect(await runCli(['health'], { env: redisEnv })).toEqual({ code: 0, stdout: 'ok: redis store ok\n', stderr: '' })
    await redis.stop()
    try {
      const down = await runCli(['health'], { env: redisEnv })
      expect(down.code).toBe(1)
      expect(down.stdout).toBe('')
      expect(down.stderr).toBe(`oauth-https-proxy: unhealthy: http://127.0.0.1:${redisEnv.API_PORT}/health answered 503 (redis store unavailable)\n`)
    } finally {
      await redis.start()
    }
    await waitFor(async () => (await runCli(['health'], { env: redisEnv })).code === 0, { timeoutMs: 15_000, intervalMs: 250, what: 'health after Redis is back' })
  })

  test('nothing listening on API_PORT: exit 1, "cannot reach"', async () => {
    const port = await freePort()
    const result = await runCli(['health'], { env: await serveEnv({ API_PORT: String(port) }) })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(new RegExp(`^oauth-https-proxy: cannot reach http://127\\.0\\.0\\.1:${port}: `))
  })

  test('something other than this API answers 200: exit 1', async () => {
    using other = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('hello') })
    const result = await runCli(['health', '--url', `http://127.0.0.1:${other.port}`], { env: await serveEnv() })
    expect(result).toEqual({ code: 1, stdout: '', stderr: `oauth-https-proxy: unhealthy: http://127.0.0.1:${other.port}/health answered 200\n` })
  })

  test('--url names the API to check instead', async () => {
    const result = await runCli(['health', '--url', `http://127.0.0.1:${redisEnv.API_PORT}/`], { env: await serveEnv() })
    expect(result).toEqual({ code: 0, stdout: 'ok: redis store ok\n', stderr: '' })
  })

  test('a bad API_PORT: exit 2 naming it', async () => {
    for (const port of ['http', '0', '70000']) {
      const result = await runCli(['health'], { env: await serveEnv({ API_PORT: port }) })
      expect(result).toEqual({ code: 2, stdout: '', stderr: `oauth-https-proxy: API_PORT: expected a port 1-65535, got "${port}"\n` })
    }
  })
})
