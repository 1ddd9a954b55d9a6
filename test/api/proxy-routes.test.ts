/**
 * /proxy/targets/{hostname}/routes: which routes apply to a proxy, switching single routes on and off,
 * and DELETE /proxy/targets/{hostname} while routes target the proxy.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { proxyRouteRoutes, proxyTargetRoutes } from '../../src/api/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import type { Route } from '../../src/routes/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'
import { createProxyTargets, CreateProxyTargetSchema, type ProxyTarget } from '../../src/targets/index.ts'
import { routeWith } from '../fixtures/route.ts'
import { bearer, createTestApi } from '../support/api.ts'

const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const targets = createProxyTargets(store, createMemoryBus(createLogger('silent')), clock)

const routeOf = (route_id: string, priority: number): Route =>
  routeWith({ route_id, path_pattern: `/${route_id}`, priority, target_value: 'http://127.0.0.1:9', created_by: 'alice', created_at: '2026-11-27T12:00:00.000Z', updated_at: '2026-11-27T12:00:00.000Z', sequence: priority })
/** The routes that exist; the server supplies routeExists and applicableRoutes from the route store. */
const existingRoutes = [routeOf('api-1', 90), routeOf('docs-2', 50), routeOf('web-3', 10)]
/** Which routes point at which proxy (target_type hostname); the server computes it, here the test sets it. */
let pointing: Record<string, string[]> = {}
let askedFor: ProxyTarget[] = []

let api: Awaited<ReturnType<typeof createTestApi>>
let admin: string
let user: string
beforeAll(async () => {
  api = await createTestApi({
    extraRoutes: [
      ...proxyTargetRoutes(targets, { dependentsOfProxy: async (hostname) => ({ routes: pointing[hostname] ?? [] }), deleteCertificate: async () => false }),
      ...proxyRouteRoutes(targets, {
        applicableRoutes: async (target) => {
          askedFor.push(target)
          return target.route_mode === 'none' ? [] : existingRoutes
        },
        routeExists: async (id) => existingRoutes.some((route) => route.route_id === id),
      }),
    ],
  })
  admin = await api.issue(['admin'])
  user = await api.issue(['user'])
})
afterAll(() => api.close())
beforeEach(async () => {
  for (const target of await targets.list()) await targets.remove(target.proxy_hostname)
  await targets.create(v.parse(CreateProxyTargetSchema, { proxy_hostname: 'app.example.com', target_url: 'http://127.0.0.1:9' }), 'alice')
  pointing = {}
  askedFor = []
})

const call = (method: string, path: string, options: { body?: unknown; token?: string | null } = {}) => {
  const token = options.token === undefined ? admin : options.token
  const headers: Record<string, string> = { ...(token ? bearer(token) : {}), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) }
  return api.app.request(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) })
}
const errorOf = async (response: Response) => (await response.json()) as { error: string; error_description: string }
const settings = async () => {
  const { route_mode, enabled_routes, disabled_routes, config_version } = (await targets.get('app.example.com'))!
  return { route_mode, enabled_routes, disabled_routes, config_version }
}
const BASE = '/proxy/targets/app.example.com/routes'

describe('GET /proxy/targets/{hostname}/routes', () => {
  test('the settings (every route applies by default) and the applicable routes in the order they are tried', async () => {
    const response = await call('GET', BASE, { token: user })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ route_mode: 'all', enabled_routes: [], disabled_routes: [], applicable_routes: existingRoutes })
    expect(askedFor.map((target) => target.proxy_hostname)).toEqual(['app.example.com'])
  })

  test('unknown proxy → 404; a bad hostname → 400 naming the path parameter', async () => {
    expect((await call('GET', '/proxy/targets/missing.example.com/routes')).status).toBe(404)
    const bad = await call('GET', '/proxy/targets/bad_name!/routes')
    expect(bad.status).toBe(400)
    expect((await errorOf(bad)).error_description).toStartWith('path parameter hostname:')
  })
})

describe('PUT /proxy/targets/{hostname}/routes', () => {
  test('applies the fields given, keeps the others, and answers with the routes that apply now', async () => {
    const response = await call('PUT', BASE, { body: { route_mode: 'selective', enabled_routes: ['api-1', 'api-1', 'docs-2'] } })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ route_mode: 'selective', enabled_routes: ['api-1', 'docs-2'], disabled_routes: [] })
    expect(askedFor.at(-1)).toMatchObject({ route_mode: 'selective' })
    await call('PUT', BASE, { body: { disabled_routes: ['web-3'] } })
    expect(await settings()).toEqual({ route_mode: 'selective', enabled_routes: ['api-1', 'docs-2'], disabled_routes: ['web-3'], config_version: 3 })
  })

  test('bad bodies → 400 naming the field, and nothing changes', async () => {
    const before = await settings()
    const cases: [unknown, string][] = [
      [{ route_mode: 'some' }, 'field route_mode:'],
      [{ enabled_routes: 'api-1' }, 'field enabled_routes:'],
      [{ enabled_routes: ['Bad_ID'] }, 'field enabled_routes[0]:'],
      [{ disabled_routes: ['ok', ''] }, 'field disabled_routes[1]:'],
      [{ disabled_routes: ['x'.repeat(101)] }, 'field disabled_routes[0]:'],
      [{ disabled_routes: Array.from({ length: 1001 }, (_, i) => `r-${i}`) }, 'field disabled_routes:'],
      [{ target_url: 'http://elsewhere.test' }, 'field target_url:'],
    ]
    for (const [body, prefix] of cases) {
      const response = await call('PUT', BASE, { body })
      expect(response.status).toBe(400)
      expect((await errorOf(response)).error_description).toStartWith(prefix)
    }
    expect(await settings()).toEqual(before)
    expect((await call('PUT', '/proxy/targets/missing.example.com/routes', { body: { route_mode: 'none' } })).status).toBe(404)
  })
})

describe('POST /proxy/targets/{hostname}/routes/{route_id}/enable and /disable', () => {
  test('all mode: disable adds to disabled_routes (once), enable removes it', async () => {
    for (let i = 0; i < 2; i++) expect((await call('POST', `${BASE}/docs-2/disable`)).status).toBe(200)
    expect(await settings()).toMatchObject({ route_mode: 'all', enabled_routes: [], disabled_routes: ['docs-2'] })
    const enabled = await call('POST', `${BASE}/docs-2/enable`)
    expect(await enabled.json()).toMatchObject({ route_mode: 'all', disabled_routes: [], applicable_routes: existingRoutes })
  })

  test('selective mode: enable adds to enabled_routes (once), disable removes it', async () => {
    await call('PUT', BASE, { body: { route_mode: 'selective' } })
    for (let i = 0; i < 2; i++) expect((await call('POST', `${BASE}/api-1/enable`)).status).toBe(200)
    await call('POST', `${BASE}/web-3/enable`)
    expect(await settings()).toMatchObject({ enabled_routes: ['api-1', 'web-3'], disabled_routes: [] })
    await call('POST', `${BASE}/api-1/disable`)
    expect(await settings()).toMatchObject({ enabled_routes: ['web-3'], disabled_routes: [] })
  })

  test('concurrent switches of different routes all apply', async () => {
    await Promise.all(existingRoutes.map((route) => call('POST', `${BASE}/${route.route_id}/disable`)))
    expect((await settings()).disabled_routes.toSorted()).toEqual(['api-1', 'docs-2', 'web-3'])
  })

  test('none mode → 400 saying route_mode must change first, and nothing changes', async () => {
    await call('PUT', BASE, { body: { route_mode: 'none' } })
    const before = await settings()
    for (const verb of ['enable', 'disable']) {
      const response = await call('POST', `${BASE}/api-1/${verb}`)
      expect(response.status).toBe(400)
      expect(await errorOf(response)).toEqual({ error: 'invalid_request', error_description: 'field route_mode: is "none", so no route applies; change it to "all" or "selective" first' })
    }
    expect(await settings()).toEqual(before)
  })

  test('unknown route or proxy → 404; bad ids in the path → 400 naming the parameter; nothing changes', async () => {
    const before = await settings()
    const unknownRoute = await call('POST', `${BASE}/nope/enable`)
    expect(unknownRoute.status).toBe(404)
    expect((await errorOf(unknownRoute)).error_description).toBe('no route nope')
    expect((await call('POST', '/proxy/targets/missing.example.com/routes/api-1/disable')).status).toBe(404)
    const badRoute = await call('POST', `${BASE}/Bad_ID/enable`)
    expect(badRoute.status).toBe(400)
    expect((await errorOf(badRoute)).error_description).toStartWith('path parameter route_id:')
    const badHost = await call('POST', '/proxy/targets/bad_name!/routes/api-1/enable')
    expect((await errorOf(badHost)).error_description).toStartWith('path parameter hostname:')
    expect(await settings()).toEqual(before)
  })
})

describe('DELETE /proxy/targets/{hostname} while routes target it', () => {
  test('→ 409 naming the routes; the proxy stays', async () => {
    pointing['app.example.com'] = ['api-1', 'docs-2']
    const response = await call('DELETE', '/proxy/targets/app.example.com')
    expect(response.status).toBe(409)
    expect((await errorOf(response)).error_description).toStartWith('proxy app.example.com is used by routes api-1, docs-2;')
    expect(await targets.get('app.example.com')).not.toBeNull()
  })

  test('?force=true deletes anyway; without dependents it needs no force; unknown → 404', async () => {
    pointing['app.example.com'] = ['api-1']
    expect((await call('DELETE', '/proxy/targets/app.example.com?force=true')).status).toBe(204)
    expect(await targets.get('app.example.com')).toBeNull()
    expect((await call('DELETE', '/proxy/targets/app.example.com')).status).toBe(404)
    expect((await call('DELETE', '/proxy/targets/app.example.com?force=true')).status).toBe(404)
    await targets.create(v.parse(CreateProxyTargetSchema, { proxy_hostname: 'free.example.com', target_url: 'http://127.0.0.1:9' }), 'alice')
    expect((await call('DELETE', '/proxy/targets/free.example.com')).status).toBe(204)
  })
})

describe('authorization', () => {
  test('no token → 401; a user token reads but every write → 403 and changes nothing', async () => {
    const before = await settings()
    const writes: [string, string, unknown][] = [
      ['PUT', BASE, { route_mode: 'none' }],
      ['POST', `${BASE}/api-1/enable`, undefined],
      ['POST', `${BASE}/api-1/disable`, undefined],
      ['DELETE', '/proxy/targets/app.example.com', undefined],
    ]
    for (const [method, path, body] of writes) {
      expect((await call(method, path, { body, token: null })).status).toBe(401)
      expect((await call(method, path, { body, token: user })).status).toBe(403)
    }
    expect((await call('GET', BASE, { token: null })).status).toBe(401)
    expect(await settings()).toEqual(before)
    expect(await targets.get('app.example.com')).not.toBeNull()
  })
})
