/**
 * Which address an OAuth event gets (api/client-address.ts): over a socket, the connection's peer and
 * never a header the client wrote (original-behaviour §12.1 item 7: the original believed
 * X-Forwarded-For from anyone); in-process from the edge, the X-Real-IP the edge itself set.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { clientAddressOf, defineRoute, userAgentOf } from '../../src/api/index.ts'
import { createTestApi } from '../support/api.ts'

let api: Awaited<ReturnType<typeof createTestApi>>
let server: ReturnType<typeof Bun.serve>

beforeAll(async () => {
  api = await createTestApi({
    extraRoutes: [
      defineRoute({ method: 'get', path: '/who', scope: 'public', tag: 'test', summary: 'test', responses: {}, handler: (c) => c.json({ ip: clientAddressOf(c), user_agent: userAgentOf(c) }) }),
    ],
  })
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: api.app.fetch })
})
afterAll(async () => {
  await server.stop(true)
  await api.close()
})

const FORGED = { 'x-real-ip': '203.0.113.7', 'x-forwarded-for': '203.0.113.8', forwarded: 'for=203.0.113.9' }

test('over a socket: the peer address; X-Real-IP, X-Forwarded-For and Forwarded from the client are not believed', async () => {
  const response = await fetch(`http://127.0.0.1:${server.port}/who`, { headers: { ...FORGED, 'user-agent': 'probe/1' } })
  expect(await response.json()).toEqual({ ip: '127.0.0.1', user_agent: 'probe/1' })
})

test("in-process (the edge's apiFetch has no socket): the X-Real-IP the edge set, when it is an address", async () => {
  const edgeSet = await api.app.request('/who', { headers: { 'x-real-ip': '::ffff:198.51.100.4' } })
  expect(await edgeSet.json()).toMatchObject({ ip: '198.51.100.4' })
  for (const value of ['not an address', '1.2.3.4, 5.6.7.8', '']) {
    const response = await api.app.request('/who', { headers: { 'x-real-ip': value } })
    expect(await response.json()).toMatchObject({ ip: null })
  }
  expect(await (await api.app.request('/who')).json()).toEqual({ ip: null, user_agent: null })
})

test('a long user agent is cut to 256 characters', async () => {
  const response = await fetch(`http://127.0.0.1:${server.port}/who`, { headers: { 'user-agent': 'u'.repeat(1000) } })
  expect(((await response.json()) as { user_agent: string }).user_agent).toHaveLength(256)
})
