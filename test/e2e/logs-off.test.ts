/**
 * REQUEST_LOG=false: no request records are kept (nothing in /logs/search), while /metrics still counts
 * every request — the switch the bench compares against.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { waitFor } from '../support/ports.ts'

let edge: TestEdge
let backend: ReturnType<typeof Bun.serve>

beforeAll(async () => {
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('ok') })
  edge = await startTestEdge({ REQUEST_LOG: 'false' })
  await edge.createProxy('off.test', `http://127.0.0.1:${backend.port}`)
  await waitFor(async () => (await fetch(`http://127.0.0.1:${edge.httpPort}/`, { headers: { host: 'off.test' } })).status === 200, { what: 'off.test' })
})
afterAll(async () => {
  await edge.stop()
  backend.stop(true)
})

test('REQUEST_LOG=false: requests are served and counted in /metrics, and none is recorded', async () => {
  for (let i = 0; i < 5; i++) expect((await fetch(`http://127.0.0.1:${edge.httpPort}/n${i}`, { headers: { host: 'off.test' } })).status).toBe(200)
  await edge.server.requestLog.flush()
  const search = await edge.api('GET', '/logs/search?host=off.test')
  expect(search.status).toBe(200)
  expect(((await search.json()) as { records: unknown[] }).records).toEqual([])
  const metrics = await (await edge.api('GET', '/metrics')).text()
  const counted = metrics
    .split('\n')
    .filter((line) => line.startsWith('ohp_requests_total{') && line.includes('host="off.test"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
  expect(counted).toBeGreaterThanOrEqual(6)
})
