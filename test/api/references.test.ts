/**
 * What points at services and proxies, as the real server wires it: deletes refused while proxies or
 * routes point at the target, the routes that apply to a proxy, and switching one route for a proxy.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Route } from '../../src/routes/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { viaHttp } from '../support/edge-clients.ts'

let edge: TestEdge
let backend: ReturnType<typeof Bun.serve>
beforeAll(async () => {
  edge = await startTestEdge()
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => new Response(`backend ${new URL(request.url).pathname}`) })
})
afterAll(async () => {
  await edge.stop()
  await backend.stop(true)
})

async function ok(response: Promise<Response>, status = 201): Promise<unknown> {
  const answered = await response
  if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status} ${await answered.text()}`)
  return answered.status === 204 ? null : answered.json()
}
const errorOf = async (response: Response) => ((await response.json()) as { error_description: string }).error_description
const createRoute = async (body: Record<string, unknown>) => (await ok(edge.api('POST', '/routes', body))) as Route

describe('deleting what others point at', () => {
  test('a service used by a proxy (service://) and a route → 409 naming both; ?force=true deletes, and the proxy answers 502', async () => {
    await ok(edge.api('POST', '/services/external', { service_name: 'billing', target_url: `127.0.0.1:${backend.port}` }))
    await edge.createProxy('billing.example.com', 'service://billing')
    await edge.createProxy('shop.example.com', `http://127.0.0.1:${backend.port}`)
    const route = await createRoute({ path_pattern: '/pay/', target_type: 'service', target_value: 'billing', scope: 'proxy', proxy_hostnames: ['shop.example.com'] })
    expect(await (await viaHttp(edge, 'billing.example.com', '/x')).text()).toBe('backend /x')

    const refused = await edge.api('DELETE', '/services/external/billing')
    expect(refused.status).toBe(409)
    expect(await errorOf(refused)).toStartWith(`service billing is used by proxies billing.example.com and routes ${route.route_id};`)
    expect((await edge.api('GET', '/services/external/billing')).status).toBe(200)

    await ok(edge.api('DELETE', '/services/external/billing?force=true'), 204)
    expect((await edge.api('GET', '/proxy/targets/billing.example.com')).status).toBe(200)
    expect((await edge.api('GET', `/routes/${route.route_id}`)).status).toBe(200)
    expect((await viaHttp(edge, 'billing.example.com', '/x')).status).toBe(502)
  })

  test('a proxy targeted by a route (target_type hostname) → 409 naming it; ?force=true deletes', async () => {
    await edge.createProxy('inner.example.com', `http://127.0.0.1:${backend.port}`)
    const route = await createRoute({ path_pattern: '/inner/', target_type: 'hostname', target_value: 'inner.example.com' })
    const refused = await edge.api('DELETE', '/proxy/targets/inner.example.com')
    expect(refused.status).toBe(409)
    expect(await errorOf(refused)).toStartWith(`proxy inner.example.com is used by routes ${route.route_id};`)
    await ok(edge.api('DELETE', '/proxy/targets/inner.example.com?force=true'), 204)
    expect((await edge.api('GET', '/proxy/targets/inner.example.com')).status).toBe(404)
    await ok(edge.api('DELETE', `/routes/${route.route_id}`), 204)
  })
})

describe('/proxy/targets/{hostname}/routes over the route store', () => {
  test('applicable routes in the order they are tried, following route_mode and single switches', async () => {
    await edge.createProxy('modes.example.com', `http://127.0.0.1:${backend.port}`)
    const low = await createRoute({ path_pattern: '/low/', target_type: 'port', target_value: String(backend.port), priority: 10 })
    const high = await createRoute({ path_pattern: '/high/', target_type: 'port', target_value: String(backend.port), priority: 90, scope: 'proxy', proxy_hostnames: ['modes.example.com'] })
    const elsewhere = await createRoute({ path_pattern: '/other/', target_type: 'port', target_value: String(backend.port), scope: 'proxy', proxy_hostnames: ['shop.example.com'] })
    const off = await createRoute({ path_pattern: '/off/', target_type: 'port', target_value: String(backend.port), enabled: false })
    const ours = [high.route_id, low.route_id]
    const applicable = async () => {
      const view = (await ok(edge.api('GET', '/proxy/targets/modes.example.com/routes'), 200)) as { applicable_routes: Route[] }
      return view.applicable_routes.map((route) => route.route_id).filter((id) => [...ours, elsewhere.route_id, off.route_id].includes(id))
    }

    expect(await applicable()).toEqual(ours)
    await ok(edge.api('POST', `/proxy/targets/modes.example.com/routes/${high.route_id}/disable`), 200)
    expect(await applicable()).toEqual([low.route_id])
    await ok(edge.api('PUT', '/proxy/targets/modes.example.com/routes', { route_mode: 'selective', enabled_routes: [] }), 200)
    expect(await applicable()).toEqual([])
    await ok(edge.api('POST', `/proxy/targets/modes.example.com/routes/${high.route_id}/enable`), 200)
    expect(await applicable()).toEqual([high.route_id])
    expect((await edge.api('POST', '/proxy/targets/modes.example.com/routes/no-such-route-1/enable')).status).toBe(404)
    await ok(edge.api('PUT', '/proxy/targets/modes.example.com/routes', { route_mode: 'none' }), 200)
    expect(await applicable()).toEqual([])
    expect((await edge.api('POST', `/proxy/targets/modes.example.com/routes/${high.route_id}/enable`)).status).toBe(400)
  })
})

test('RunningServer.services is the store the API serves', async () => {
  await edge.server.services.create({ service_name: 'direct', target_url: 'http://127.0.0.1:9', description: 'made in-process' }, 'test')
  expect(await ok(edge.api('GET', '/services/external/direct'), 200)).toMatchObject({ description: 'made in-process', created_by: 'test' })
})
