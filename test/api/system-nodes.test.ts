/**
 * GET /system/nodes: the nodes sharing one store, from their heartbeats (store/node-heartbeats.ts).
 * Two nodes beat into one embedded store under a manual clock: both listed, one goes stale after two
 * missed beats and drops out after three (the document's TTL), a clean stop removes a node at once.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { systemNodeRoutes } from '../../src/api/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createNodeHeartbeats, HEARTBEAT_INTERVAL_MS, type NodeHeartbeats } from '../../src/store/index.ts'
import { bearer, createTestApi } from '../support/api.ts'

let api: Awaited<ReturnType<typeof createTestApi>>
let clock: ReturnType<typeof createManualClock>
let first: NodeHeartbeats
let second: NodeHeartbeats
let connections = 3

const node = (id: string, startedAtMs: number) => ({ node_id: id, version: '9.9.9', runtime: 'bun test', started_at: new Date(startedAtMs).toISOString() })

beforeAll(async () => {
  let heartbeats: NodeHeartbeats | null = null
  api = await createTestApi({ extraRoutes: systemNodeRoutes({ nodes: () => heartbeats!.list(), nodeId: 'node-a', clock: { nowMs: () => clock.nowMs() } }) })
  clock = api.clock as ReturnType<typeof createManualClock>
  const options = { store: api.store, clock, logger: createLogger('silent'), connections: () => connections }
  first = heartbeats = createNodeHeartbeats({ ...options, node: node('node-a', clock.nowMs() - 90_000) })
  second = createNodeHeartbeats({ ...options, node: node('node-b', clock.nowMs()), connections: () => null })
  await first.start()
  await second.start()
})
afterAll(async () => {
  await first.stop()
  await second.stop()
  api.close()
})

const list = async (token: string) => (await api.app.request('/system/nodes', { headers: bearer(token) })).json()

test('RFC 6750: no token is 401 with a bare challenge; a token without the user scope (mcp) is 403 insufficient_scope', async () => {
  const anonymous = await api.app.request('/system/nodes')
  expect(anonymous.status).toBe(401)
  expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="oauth-https-proxy"')
  const mcp = await api.app.request('/system/nodes', { headers: bearer(await api.issue(['mcp'])) })
  expect(mcp.status).toBe(403)
  expect(await mcp.json()).toEqual({ error: 'insufficient_scope', error_description: 'this endpoint requires the user scope' })
})

test('a user sees every node that beats into the store: version, start, last beat, connections, uptime, which one answered', async () => {
  const body = await list(await api.issue(['user']))
  expect(body.count).toBe(2)
  expect(body.nodes).toEqual([
    { ...node('node-a', clock.nowMs() - 90_000), store: 'embedded', last_seen_at: new Date(clock.nowMs()).toISOString(), connections: 3, status: 'up', uptime_sec: 90, this_node: true },
    { ...node('node-b', clock.nowMs()), store: 'embedded', last_seen_at: new Date(clock.nowMs()).toISOString(), connections: null, status: 'up', uptime_sec: 0, this_node: false },
  ])
})

test('two missed beats make a node stale; after the third its heartbeat has expired and it is gone; a clean stop leaves at once', async () => {
  const token = await api.issue(['admin'])
  clock.advanceMs(2 * HEARTBEAT_INTERVAL_MS + 1)
  expect((await list(token)).nodes.map((entry: { status: string }) => entry.status)).toEqual(['stale', 'stale'])
  clock.advanceMs(HEARTBEAT_INTERVAL_MS)
  expect(await list(token)).toEqual({ nodes: [], count: 0 })
  // Beating again brings them back; stopping one removes it without waiting for the TTL.
  connections = 5
  await first.start()
  await second.start()
  await second.stop()
  const after = await list(token)
  expect(after.nodes.map((entry: { node_id: string; connections: number }) => [entry.node_id, entry.connections])).toEqual([['node-a', 5]])
})

test('the OpenAPI document lists GET /system/nodes under the user scope', async () => {
  const document = await (await api.app.request('/openapi.json')).json()
  expect(document.paths['/system/nodes'].get.security).toEqual([{ bearerAuth: ['user'] }])
})
