/** /routes: admin writes, user reads, every bad field named, duplicates refused, nothing stored changed by a refused write. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { AppEvent } from '../../src/events/index.ts'
import { systemClock } from '../../src/lib/index.ts'
import { apiResource, issueAccessToken } from '../../src/oauth/index.ts'
import type { Route } from '../../src/routes/index.ts'
import { createExternalServices } from '../../src/services/index.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

let edge: TestEdge
beforeAll(async () => {
  edge = await startTestEdge()
  await edge.createProxy('app.example.com', 'http://127.0.0.1:9')
  await createExternalServices(edge.server.store, edge.server.bus, systemClock).create({ service_name: 'billing', target_url: 'http://127.0.0.1:9', description: '' }, 'test')
})
afterAll(() => edge.stop())

const base = { path_pattern: '/api/', target_type: 'url', target_value: 'http://127.0.0.1:9' }
const create = (body: unknown) => edge.api('POST', '/routes', body)
const describeError = async (response: Response) => ((await response.json()) as { error_description: string }).error_description
const read = async (id: string) => (await (await edge.api('GET', `/routes/${id}`)).json()) as Route
async function created(body: Record<string, unknown>): Promise<Route> {
  const response = await create(body)
  if (response.status !== 201) throw new Error(`creating failed: ${response.status} ${await response.text()}`)
  return (await response.json()) as Route
}
let unique = 0
/** A path no other test uses, so tests do not collide on duplicates. */
const fresh = (prefix = '/t') => `${prefix}${++unique}/`

describe('POST /routes', () => {
  test('creates a route with the documented defaults, a readable id and a Location', async () => {
    const response = await create({ ...base, path_pattern: '/api/v1/' })
    expect(response.status).toBe(201)
    const route = (await response.json()) as Route
    expect(route.route_id).toMatch(/^api-v1-[0-9a-f]{8}$/)
    expect(response.headers.get('location')).toBe(`/routes/${route.route_id}`)
    expect(route).toMatchObject({
      path_pattern: '/api/v1/',
      is_regex: false,
      methods: null,
      priority: 50,
      target_type: 'url',
      target_value: 'http://127.0.0.1:9',
      strip_prefix: false,
      scope: 'global',
      proxy_hostnames: [],
      enabled: true,
      description: '',
      auth: null,
      created_by: 'test-admin',
    })
    expect(await read(route.route_id)).toEqual(route)
    expect((await created({ ...base, path_pattern: '/' })).route_id).toMatch(/^root-[0-9a-f]{8}$/)
  })

  test('normalises what the original accepted: a URL without scheme, a port as text, methods in any case, "*" = any', async () => {
    expect(await created({ ...base, path_pattern: fresh(), target_value: 'backend.internal:8080' })).toMatchObject({ target_value: 'http://backend.internal:8080' })
    expect(await created({ ...base, path_pattern: fresh(), target_type: 'port', target_value: '8080' })).toMatchObject({ target_value: '8080' })
    expect(await created({ ...base, path_pattern: fresh(), target_type: 'port', target_value: 8081 })).toMatchObject({ target_value: '8081' })
    expect(await created({ ...base, path_pattern: fresh(), methods: ['get', 'Post', 'GET'] })).toMatchObject({ methods: ['GET', 'POST'] })
    expect(await created({ ...base, path_pattern: fresh(), methods: ['GET', '*'] })).toMatchObject({ methods: null })
    expect(await created({ ...base, path_pattern: fresh(), target_type: 'service', target_value: 'billing' })).toMatchObject({ target_value: 'billing' })
    expect(await created({ ...base, path_pattern: fresh(), target_type: 'hostname', target_value: 'App.Example.com' })).toMatchObject({ target_value: 'app.example.com' })
    expect(await created({ ...base, path_pattern: fresh(), scope: 'proxy', proxy_hostnames: ['b.example.com', 'A.example.com'] })).toMatchObject({ proxy_hostnames: ['a.example.com', 'b.example.com'] })
    expect(await created({ ...base, path_pattern: '^/v[0-9]+/', is_regex: true })).toMatchObject({ is_regex: true })
  })

  test('bad input → 400 naming the field, and nothing is stored', async () => {
    const before = (await (await edge.api('GET', '/routes')).json()) as Route[]
    const cases: [Record<string, unknown>, string][] = [
      // RE2 syntax (linear-time engine): unbalanced groups and backreferences are refused.
      [{ path_pattern: '(', is_regex: true }, 'path_pattern'],
      [{ path_pattern: '(a)\\1', is_regex: true }, 'path_pattern'],
      [{ path_pattern: 'api/' }, 'path_pattern'],
      [{ path_pattern: '/a b' }, 'path_pattern'],
      [{ path_pattern: 7 }, 'path_pattern'],
      [{ priority: 1000 }, 'priority'],
      [{ priority: -1 }, 'priority'],
      [{ priority: 1.5 }, 'priority'],
      [{ priority: '5' }, 'priority'],
      [{ target_type: 'docker' }, 'target_type'],
      [{ target_value: 'ftp://x.test' }, 'target_value'],
      [{ target_value: 'http://user:pw@x.test' }, 'target_value'],
      [{ target_value: 'http://x.test/#frag' }, 'target_value'],
      [{ target_value: 'http://x .test' }, 'target_value'],
      [{ target_value: '' }, 'target_value'],
      [{ target_value: true }, 'target_value'],
      [{ target_type: 'port', target_value: 0 }, 'target_value'],
      [{ target_type: 'port', target_value: 70000 }, 'target_value'],
      [{ target_type: 'port', target_value: '80a' }, 'target_value'],
      [{ target_type: 'port', target_value: 80.5 }, 'target_value'],
      [{ target_type: 'service', target_value: 'nobody' }, 'target_value'],
      [{ target_type: 'service', target_value: 'Bad Name' }, 'target_value'],
      [{ target_type: 'hostname', target_value: 'missing.example.com' }, 'target_value'],
      [{ target_type: 'hostname', target_value: '*.example.com' }, 'target_value'],
      [{ scope: 'proxy' }, 'proxy_hostnames'],
      [{ scope: 'proxy', proxy_hostnames: [] }, 'proxy_hostnames'],
      [{ proxy_hostnames: ['app.example.com'] }, 'proxy_hostnames'],
      [{ scope: 'proxy', proxy_hostnames: ['bad_host!'] }, 'proxy_hostnames[0]'],
      [{ scope: 'everywhere' }, 'scope'],
      [{ methods: ['GE T'] }, 'methods[0]'],
      [{ methods: ['G*T'] }, 'methods[0]'],
      [{ methods: 'GET' }, 'methods'],
      [{ description: 'x'.repeat(501) }, 'description'],
      [{ enabled: 'yes' }, 'enabled'],
      [{ auth: { required_scopes: ['root'] } }, 'auth.required_scopes[0]'],
      [{ surprise: true }, 'surprise'],
    ]
    for (const [fields, field] of cases) {
      const response = await create({ ...base, path_pattern: '/bad/', ...fields })
      expect(response.status, JSON.stringify(fields)).toBe(400)
      expect(await describeError(response), JSON.stringify(fields)).toStartWith(`field ${field}:`)
    }
    for (const missing of ['path_pattern', 'target_type', 'target_value']) {
      const body: Record<string, unknown> = { ...base }
      delete body[missing]
      expect(await describeError(await create(body))).toBe(`field ${missing}: is required`)
    }
    expect(await (await edge.api('GET', '/routes')).json()).toEqual(before)
  })

  test('a duplicate (same path_pattern, is_regex, priority, scope and proxies) → 409; the existing route is unchanged', async () => {
    const path = fresh('/dup')
    const first = await created({ ...base, path_pattern: path, description: 'first' })
    const again = await create({ ...base, path_pattern: path, target_value: 'http://127.0.0.1:10', description: 'second' })
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({ error: 'conflict' })
    expect(await read(first.route_id)).toEqual(first)
    expect((await create({ ...base, path_pattern: path, priority: 51 })).status).toBe(201)
  })
})

describe('GET /routes', () => {
  test('lists every route, disabled ones too, by priority then creation order; ?enabled filters', async () => {
    const low = await created({ ...base, path_pattern: fresh('/order'), priority: 5 })
    const tieA = await created({ ...base, path_pattern: fresh('/zzz'), priority: 700 })
    const top = await created({ ...base, path_pattern: fresh('/order'), priority: 900, enabled: false })
    const tieB = await created({ ...base, path_pattern: fresh('/aaa'), priority: 700 })
    const ids = ((await (await edge.api('GET', '/routes')).json()) as Route[]).map((route) => route.route_id)
    const mine = ids.filter((id) => [low, tieA, top, tieB].some((route) => route.route_id === id))
    expect(mine).toEqual([top.route_id, tieA.route_id, tieB.route_id, low.route_id])
    const all = (await (await edge.api('GET', '/routes')).json()) as Route[]
    const priorities = all.map((route) => route.priority)
    expect(priorities).toEqual([...priorities].sort((a, b) => b - a))

    const enabled = (await (await edge.api('GET', '/routes?enabled=true')).json()) as Route[]
    const disabled = (await (await edge.api('GET', '/routes?enabled=false')).json()) as Route[]
    expect(enabled.every((route) => route.enabled)).toBe(true)
    expect(disabled.map((route) => route.route_id)).toContain(top.route_id)
    expect(enabled.length + disabled.length).toBe(all.length)
    const bad = await edge.api('GET', '/routes?enabled=maybe')
    expect(bad.status).toBe(400)
    expect(await describeError(bad)).toStartWith('query parameter enabled:')
  })
})

describe('GET, PUT and DELETE /routes/{route_id}', () => {
  test('PUT applies the fields given and keeps the others', async () => {
    const route = await created({ ...base, path_pattern: fresh('/put'), methods: ['GET'], description: 'kept' })
    const response = await edge.api('PUT', `/routes/${route.route_id}`, { priority: 80, target_type: 'port', target_value: 8080, enabled: false })
    expect(response.status).toBe(200)
    const updated = (await response.json()) as Route
    expect(updated).toMatchObject({ priority: 80, target_type: 'port', target_value: '8080', enabled: false, methods: ['GET'], description: 'kept', sequence: route.sequence, created_at: route.created_at })
    expect(await read(route.route_id)).toEqual(updated)
  })

  test('a refused PUT (400 naming the field, 409 duplicate) changes nothing', async () => {
    const taken = await created({ ...base, path_pattern: fresh('/taken') })
    const route = await created({ ...base, path_pattern: fresh('/keep') })
    const cases: [Record<string, unknown>, number, string?][] = [
      [{ priority: 1000 }, 400, 'priority'],
      [{ path_pattern: '(', is_regex: true }, 400, 'path_pattern'],
      [{ is_regex: true, path_pattern: '[' }, 400, 'path_pattern'],
      [{ target_type: 'port' }, 400, 'target_value'],
      [{ target_type: 'service', target_value: 'nobody' }, 400, 'target_value'],
      [{ target_type: 'hostname', target_value: 'missing.example.com' }, 400, 'target_value'],
      [{ scope: 'proxy' }, 400, 'proxy_hostnames'],
      [{ proxy_hostnames: ['app.example.com'] }, 400, 'proxy_hostnames'],
      [{ route_id: 'mine-00000000' }, 400, 'route_id'],
      [{ sequence: 1 }, 400, 'sequence'],
      [{ path_pattern: taken.path_pattern }, 409],
    ]
    for (const [changes, status, field] of cases) {
      const response = await edge.api('PUT', `/routes/${route.route_id}`, changes)
      expect(response.status, JSON.stringify(changes)).toBe(status)
      if (field) expect(await describeError(response)).toStartWith(`field ${field}:`)
      expect(await read(route.route_id)).toEqual(route)
    }
  })

  test('DELETE removes the route and frees its path for a new one', async () => {
    const route = await created({ ...base, path_pattern: fresh('/gone') })
    expect((await edge.api('DELETE', `/routes/${route.route_id}`)).status).toBe(204)
    expect((await edge.api('GET', `/routes/${route.route_id}`)).status).toBe(404)
    expect((await create({ ...base, path_pattern: route.path_pattern })).status).toBe(201)
  })

  test('unknown ids → 404; malformed ids → 400 naming the route_id path parameter', async () => {
    for (const [method, body] of [['GET'], ['PUT', { enabled: false }], ['DELETE']] as const) {
      const missing = await edge.api(method, '/routes/missing-00000000', body)
      expect(missing.status).toBe(404)
      expect(await missing.json()).toMatchObject({ error: 'not_found' })
      const malformed = await edge.api(method, '/routes/Bad_ID!', body)
      expect(malformed.status).toBe(400)
      expect(await describeError(malformed)).toStartWith('path parameter route_id:')
    }
  })
})

test('route_changed is published on create, update and delete', async () => {
  const seen: AppEvent[] = []
  const unsubscribe = edge.server.bus.subscribe((event) => {
    seen.push(event)
  })
  const route = await created({ ...base, path_pattern: fresh('/events') })
  await edge.api('PUT', `/routes/${route.route_id}`, { description: 'changed' })
  await edge.api('DELETE', `/routes/${route.route_id}`)
  unsubscribe()
  expect(seen.filter((event) => event.type === 'route_changed')).toEqual(Array(3).fill({ type: 'route_changed', routeId: route.route_id }))
})

describe('authorization', () => {
  test('no token → 401 everywhere; a user token reads but every write → 403', async () => {
    const route = await created({ ...base, path_pattern: fresh('/auth') })
    const publicUrl = edge.server.apiUrl.replace(/:\d+$/, ':0')
    const user = await issueAccessToken(edge.server.keyRing, systemClock, { issuer: publicUrl, audience: apiResource({ publicUrl }), subject: 'local:u', username: 'u', scopes: ['user'], clientId: 't', ttlSec: 600 })
    const call = (method: string, path: string, token?: string, body?: unknown) =>
      fetch(`${edge.server.apiUrl}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    const one = `/routes/${route.route_id}`
    for (const [method, path, body] of [['GET', '/routes'], ['GET', one], ['POST', '/routes', base], ['PUT', one, { enabled: false }], ['DELETE', one]] as const) {
      expect((await call(method, path, undefined, body)).status, `${method} ${path}`).toBe(401)
    }
    expect((await call('GET', '/routes', user)).status).toBe(200)
    expect((await call('GET', one, user)).status).toBe(200)
    for (const [method, path, body] of [['POST', '/routes', { ...base, path_pattern: fresh() }], ['PUT', one, { enabled: false }], ['DELETE', one]] as const) {
      expect((await call(method, path, user, body)).status, `${method} ${path}`).toBe(403)
    }
    expect(await read(route.route_id)).toEqual(route)
  })
})
