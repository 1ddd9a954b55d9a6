/**
 * Issue #13 across nodes: two serve processes on one Redis with OAUTH_REGISTRATION=token share the
 * per-address registration count and the initial access tokens. Tokens come from the CLI
 * (`oauth registration-token create`) through one node and are used at the other; a single-use one works
 * once in the whole cluster; registrations alternating between the nodes get exactly
 * OAUTH_REGISTRATIONS_PER_HOUR clients, then 429 on both.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { freePort } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { cleanupSpawned, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'
import { createCliRunner, type CliRunner } from '../cli/commands-cli.ts'

const PER_HOUR = 10
const HOUR_MS = 3_600_000
const CLIENT = JSON.stringify({ client_name: 'node test', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none' })

describe('two serve processes on one Redis, OAUTH_REGISTRATION=token', () => {
  let redis: TestRedis
  let a: ServedProcess
  let b: ServedProcess
  let cliA: CliRunner
  let cliB: CliRunner

  beforeAll(async () => {
    redis = await startRedis()
    const shared = {
      REDIS_URL: redis.url,
      PUBLIC_URL: 'https://edge.test',
      LISTEN_ADDRESS: '127.0.0.1',
      LOG_LEVEL: 'warn',
      OAUTH_REGISTRATION: 'token',
      OAUTH_REGISTRATIONS_PER_HOUR: String(PER_HOUR),
      // Loopback is what this test has: count it, and leave the general AS limit out of the way.
      RATE_LIMIT_EXEMPT: 'none',
      RATE_LIMIT_OAUTH: 'off',
      ...isolatedPortRanges(),
    }
    const node = async (nodeId: string) => startServe({ env: await serveEnv({ ...shared, NODE_ID: nodeId, HTTP_PORT: String(await freePort()), HTTPS_PORT: String(await freePort()) }) })
    a = await node('node-a')
    b = await node('node-b')
    const issued = await runCli(['token', 'issue', '--user', 'alice', '--scope', 'admin'], { env: await serveEnv(shared) })
    if (issued.code !== 0) throw new Error(`token issue exited ${issued.code}: ${issued.stderr}`)
    cliA = createCliRunner(a.url, issued.stdout.trim())
    cliB = createCliRunner(b.url, issued.stdout.trim())
    // The count is per clock hour: do not straddle one.
    const leftMs = HOUR_MS - (Date.now() % HOUR_MS)
    if (leftMs < 60_000) await Bun.sleep(leftMs + 1_000)
  }, 120_000)

  afterAll(async () => {
    cliA?.cleanup()
    cliB?.cleanup()
    await cleanupSpawned()
    await redis?.dispose()
  })

  const register = async (node: ServedProcess, token: string | null) => {
    const response = await fetch(`${node.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      body: CLIENT,
    })
    const body = (await response.json()) as { error?: string }
    return { status: response.status, error: body.error ?? null, retryAfter: response.headers.get('retry-after') }
  }

  async function createToken(cli: CliRunner, args: string[] = []): Promise<string> {
    const created = await cli.run(['oauth', 'registration-token', 'create', '--quiet', ...args])
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: 0, stderr: '' })
    const token = created.stdout.trim()
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    return token
  }

  test('RFC 7591 §3: without an initial access token both nodes answer 401 invalid_token', async () => {
    for (const node of [a, b]) expect(await register(node, null)).toMatchObject({ status: 401, error: 'invalid_token' })
  })

  test('a single-use token from node B admits one registration at node A, and none more at either node', async () => {
    const token = await createToken(cliB)
    expect(await register(a, token)).toMatchObject({ status: 201 })
    expect(await register(b, token)).toMatchObject({ status: 401, error: 'invalid_token' })
    expect(await register(a, token)).toMatchObject({ status: 401, error: 'invalid_token' })
  })

  test(`registrations alternating between the nodes share one count: ${PER_HOUR} clients in all, then 429 on both`, async () => {
    const token = await createToken(cliA, ['--reusable', '--expires-in', '600'])
    // One registration was counted by the test before.
    const statuses: number[] = []
    for (let i = 0; i < PER_HOUR + 3; i++) statuses.push((await register(i % 2 === 0 ? a : b, token)).status)
    expect(statuses).toEqual([...Array(PER_HOUR - 1).fill(201), 429, 429, 429, 429])
    for (const node of [a, b]) {
      const refused = await register(node, token)
      expect(refused).toMatchObject({ status: 429, error: 'temporarily_unavailable' })
      expect(Number(refused.retryAfter)).toBeGreaterThan(0)
    }
    const listed = (await cliB.json<{ client_id: string; expires_at: number | null }[]>(['oauth', 'client', 'list', '--json'])).length
    expect(listed).toBe(PER_HOUR)
  })

  test('registration-token create: 400 naming the field for a bad --expires-in, and the CLI says so', async () => {
    const bad = await cliA.run(['oauth', 'registration-token', 'create', '--expires-in', '5'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('expires_in: expected at least 60 seconds')
  })
})
