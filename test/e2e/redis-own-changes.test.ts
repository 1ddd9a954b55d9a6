/**
 * On Redis, a change made through a node's API applies on that node before the API answers, as on the
 * embedded store: the node's own event comes back to it through the stream, and the publish waits for it
 * (src/events/redis-streams.ts). Before, the 201 came first and the node served the proxy only when its
 * event came back, tens of milliseconds later; twenty rounds with no retry make that show every time.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { viaHttp, viaHttps } from '../support/edge-clients.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'

const ROUNDS = 20

let redis: TestRedis
let edge: TestEdge
let backend: ReturnType<typeof Bun.serve>

beforeAll(async () => {
  redis = await startRedis()
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => new Response(`backend ${new URL(request.url).pathname}`) })
  edge = await startTestEdge({ REDIS_URL: redis.url, NODE_ID: 'own-changes' })
}, 30_000)
afterAll(async () => {
  await edge?.stop()
  backend?.stop(true)
  await redis?.dispose()
})

describe('a server on Redis applies its own API changes before answering', () => {
  test(`a proxy serves over HTTP and HTTPS right after its 201, and stops right after its 204 (${ROUNDS} rounds, no retry)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const hostname = `own-${round}.test`
      const created = await edge.api('POST', '/proxy/targets', { proxy_hostname: hostname, target_url: `http://127.0.0.1:${backend.port}` })
      expect(created.status).toBe(201)
      const overHttp = await viaHttp(edge, hostname, `/r${round}`)
      expect(`${overHttp.status} ${await overHttp.text()}`).toBe(`200 backend /r${round}`)
      const overHttps = await viaHttps(edge, hostname, `/s${round}`)
      expect(`${overHttps.status} ${await overHttps.text()}`).toBe(`200 backend /s${round}`)

      expect((await edge.api('DELETE', `/proxy/targets/${hostname}`)).status).toBe(204)
      const gone = await viaHttp(edge, hostname, '/')
      expect(gone.status).toBe(404)
      await gone.body?.cancel()
    }
  }, 30_000)
})
