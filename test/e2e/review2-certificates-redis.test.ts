/**
 * Adversarial review 2: POST /certificates on Redis, where each store read is real I/O and requests
 * interleave (on the embedded store a whole handler runs before the next request is read, which hides the
 * race). Two server processes share one Redis, as a cluster does; both CAs refuse every order (no Pebble
 * needed: only what is stored matters here).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startRefusingCa, type RefusingCa } from '../support/certificate-server.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { cleanupSpawned, runCli, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

let redis: TestRedis
let ca: RefusingCa
const nodes: ServedProcess[] = []
let adminToken = ''

beforeAll(async () => {
  redis = await startRedis()
  ca = startRefusingCa()
  for (const nodeId of ['race-a', 'race-b']) {
    const env = await serveEnv({
      REDIS_URL: redis.url,
      NODE_ID: nodeId,
      PUBLIC_URL: 'https://race.test',
      LISTEN_ADDRESS: '127.0.0.1',
      ACME_DIRECTORY_URL: ca.directoryUrl,
      ACME_STAGING_URL: ca.directoryUrl,
      ACME_EMAIL: 'certs@example.com',
      ...isolatedPortRanges(),
    })
    nodes.push(await startServe({ env }))
    if (!adminToken) {
      const issued = await runCli(['token', 'issue', '--user', 'race-admin', '--scope', 'admin'], { env })
      if (issued.code !== 0) throw new Error(`token issue failed: ${issued.stderr}`)
      adminToken = issued.stdout.trim()
    }
  }
}, 60_000)
afterAll(async () => {
  for (const node of nodes) await node.stop()
  ca?.stop()
  await redis?.dispose()
  await cleanupSpawned()
})

async function post(node: ServedProcess, body: unknown): Promise<{ status: number; body: { domains?: string[]; error?: string } }> {
  const response = await fetch(`${node.url}/certificates`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as { domains?: string[] } }
}

describe('POST /certificates: an existing name is a 409, also when requests race', () => {
  test('12 concurrent orders for one cert_name with different domains (two nodes) → exactly one 2xx, eleven 409; the stored domains are the winner\'s', async () => {
    // create() checks certificates.get(name), then calls request(), which for a name that exists by then
    // re-orders it with the new domains (202): the losers of the race silently replace the winner's order.
    for (let round = 0; round < 5; round++) {
      const name = `race${round}`
      const bodies = Array.from({ length: 12 }, (_, i) => ({ cert_name: name, domains: [`r${round}-${i}.test`], staging: true }))
      const answers = await Promise.all(bodies.map((body, i) => post(nodes[i % 2]!, body)))
      const winners = answers.filter((answer) => answer.status === 201 || answer.status === 202)
      const stored = (await (await fetch(`${nodes[0]!.url}/certificates/${name}`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { domains: string[] }
      const statuses = answers.map((answer) => `${answer.status} ${answer.body.error ?? ''}`.trim()).sort()
      expect({ round, statuses }).toEqual({ round, statuses: ['202', ...Array<string>(11).fill('409 conflict')] })
      expect(stored.domains).toEqual(winners[0]!.body.domains!)
    }
  }, 20_000)
})
