/** The route store: readable ids, matching order across nodes, duplicates refused atomically, targets that must exist, events. */
import { afterEach, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { createMemoryBus, type AppEvent } from '../../src/events/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createRouteStore, CreateRouteSchema, routesTargeting, type Route, type RouteStore } from '../../src/routes/index.ts'
import { COLLECTIONS, createEmbeddedStore, keys } from '../../src/store/index.ts'

const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const bus = createMemoryBus(createLogger('silent'))
const services = new Set(['billing'])
const proxies = new Set(['app.example.com'])
const checks = { serviceExists: async (name: string) => services.has(name), proxyExists: async (hostname: string) => proxies.has(hostname) }
const routes = createRouteStore(store, bus, clock, checks)
/** A second node on the same backing store. */
const otherNode = createRouteStore(store, bus, clock, checks)

const input = (fields: Record<string, unknown>) => v.parse(CreateRouteSchema, { target_type: 'url', target_value: 'http://127.0.0.1:9', ...fields })
const create = (fields: Record<string, unknown>, on: RouteStore = routes) => on.create(input(fields), 'alice')
const storedRoute = async (id: string) => (await routes.get(id)) as Route

afterEach(async () => {
  for (const route of await routes.list()) await routes.remove(route.route_id)
})

describe('create', () => {
  test('ids are readable: the path as a slug plus 8 hex digits; "/" is root', async () => {
    expect((await create({ path_pattern: '/api/v1/' })).route_id).toMatch(/^api-v1-[0-9a-f]{8}$/)
    expect((await create({ path_pattern: '/' })).route_id).toMatch(/^root-[0-9a-f]{8}$/)
    expect((await create({ path_pattern: '^/Files/(a|b)+$', is_regex: true })).route_id).toMatch(/^files-a-b-[0-9a-f]{8}$/)
    expect((await create({ path_pattern: `/${'x'.repeat(300)}` })).route_id).toMatch(/^x{60}-[0-9a-f]{8}$/)
  })

  test('stores the fields with defaults, the creator, stamps and a growing sequence', async () => {
    const first = await create({ path_pattern: '/a' })
    const second = await create({ path_pattern: '/b' })
    expect(first).toMatchObject({ path_pattern: '/a', priority: 50, methods: null, scope: 'global', proxy_hostnames: [], enabled: true, created_by: 'alice', created_at: '2026-11-27T12:00:00.000Z' })
    expect(second.sequence).toBeGreaterThan(first.sequence)
    expect(await routes.get(first.route_id)).toEqual(first)
  })

  test('a service target must name an existing service, a hostname target an existing proxy', async () => {
    await expect(create({ path_pattern: '/s', target_type: 'service', target_value: 'nobody' })).rejects.toMatchObject({ kind: 'invalid', field: 'target_value' })
    await expect(create({ path_pattern: '/h', target_type: 'hostname', target_value: 'missing.example.com' })).rejects.toMatchObject({ kind: 'invalid', field: 'target_value' })
    expect(await create({ path_pattern: '/s', target_type: 'service', target_value: 'billing' })).toMatchObject({ target_value: 'billing' })
    expect(await create({ path_pattern: '/h', target_type: 'hostname', target_value: 'App.Example.com' })).toMatchObject({ target_value: 'app.example.com' })
    expect((await routes.list()).map((route) => route.path_pattern).sort()).toEqual(['/h', '/s'])
  })
})

describe('matching order', () => {
  test('priority descending, equal priorities in creation order (not id order), on every node', async () => {
    const made: Route[] = []
    for (const [path, priority, node] of [['/z', 10, routes], ['/a', 50, otherNode], ['/m', 90, routes], ['/b', 50, routes], ['/c', 50, otherNode]] as const) {
      made.push(await create({ path_pattern: path, priority }, node))
    }
    const expected = ['/m', '/a', '/b', '/c', '/z']
    expect((await routes.list()).map((route) => route.path_pattern)).toEqual(expected)
    expect((await otherNode.list()).map((route) => route.path_pattern)).toEqual(expected)
  })

  test('concurrent creations on two nodes get distinct sequences', async () => {
    const created = await Promise.all(Array.from({ length: 12 }, (_, i) => create({ path_pattern: `/p${i}` }, i % 2 ? routes : otherNode)))
    const sequences = created.map((route) => route.sequence)
    expect(new Set(sequences).size).toBe(12)
  })
})

describe('duplicates', () => {
  test('same path, regex flag, priority, scope and proxy set → conflict; any difference is a new route', async () => {
    await create({ path_pattern: '/dup', scope: 'proxy', proxy_hostnames: ['a.test', 'b.test'] })
    await expect(create({ path_pattern: '/dup', scope: 'proxy', proxy_hostnames: ['B.test', 'a.test'] })).rejects.toMatchObject({ kind: 'conflict' })
    await create({ path_pattern: '/dup', scope: 'proxy', proxy_hostnames: ['a.test'] })
    await create({ path_pattern: '/dup', scope: 'proxy', proxy_hostnames: ['a.test', 'b.test'], priority: 51 })
    await create({ path_pattern: '/dup', is_regex: true, scope: 'proxy', proxy_hostnames: ['a.test', 'b.test'] })
    await create({ path_pattern: '/dup' })
    expect(await routes.list()).toHaveLength(5)
  })

  test('of concurrent equal creations on two nodes exactly one succeeds', async () => {
    const results = await Promise.allSettled([create({ path_pattern: '/race' }, routes), create({ path_pattern: '/race' }, otherNode), create({ path_pattern: '/race' }, routes)])
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    expect(results.filter((result) => result.status === 'rejected').map((result) => (result as PromiseRejectedResult).reason.kind)).toEqual(['conflict', 'conflict'])
    expect(await routes.list()).toHaveLength(1)
  })

  test('an update moves the claim: the old combination is free again, the new one taken; a duplicating update changes nothing', async () => {
    const a = await create({ path_pattern: '/old' })
    const b = await create({ path_pattern: '/other' })
    await routes.update(a.route_id, { path_pattern: '/new' })
    expect(await create({ path_pattern: '/old' })).toMatchObject({ path_pattern: '/old' })
    await expect(create({ path_pattern: '/new' })).rejects.toMatchObject({ kind: 'conflict' })
    const before = await storedRoute(b.route_id)
    await expect(routes.update(b.route_id, { path_pattern: '/new' })).rejects.toMatchObject({ kind: 'conflict' })
    expect(await storedRoute(b.route_id)).toEqual(before)
  })

  test('delete frees the combination', async () => {
    const route = await create({ path_pattern: '/once' })
    await routes.remove(route.route_id)
    expect(await create({ path_pattern: '/once' })).toMatchObject({ path_pattern: '/once' })
  })

  test('a claim left by a crash is respected for 30 s (a write may be in flight), then taken over', async () => {
    const route = await create({ path_pattern: '/crashed' })
    // The route document vanishes without its claim, as if a node died between the two writes.
    await store.del(keys.inCollection(COLLECTIONS.routes, route.route_id))
    await expect(create({ path_pattern: '/crashed' })).rejects.toMatchObject({ kind: 'conflict' })
    clock.advanceMs(30_000)
    expect(await create({ path_pattern: '/crashed' })).toMatchObject({ path_pattern: '/crashed' })
  })
})

describe('update and remove', () => {
  test('applies the fields given, keeps the others, re-checks the route as a whole', async () => {
    const route = await create({ path_pattern: '/u', methods: ['get'], description: 'kept' })
    const updated = await routes.update(route.route_id, { priority: 70, target_type: 'port', target_value: 8080 })
    expect(updated).toMatchObject({ priority: 70, target_type: 'port', target_value: '8080', methods: ['GET'], description: 'kept', sequence: route.sequence })
    const cases: [Record<string, unknown>, string][] = [
      [{ target_type: 'service' }, 'target_value'],
      [{ is_regex: true, path_pattern: '(' }, 'path_pattern'],
      [{ scope: 'proxy' }, 'proxy_hostnames'],
      [{ proxy_hostnames: ['a.test'] }, 'proxy_hostnames'],
      [{ target_type: 'hostname', target_value: 'missing.example.com' }, 'target_value'],
    ]
    for (const [changes, field] of cases) {
      await expect(routes.update(route.route_id, changes)).rejects.toMatchObject({ kind: 'invalid', field })
      expect(await storedRoute(route.route_id)).toEqual(updated)
    }
  })

  test('a target is checked for existence only when it changes', async () => {
    services.add('temporary')
    const route = await create({ path_pattern: '/t', target_type: 'service', target_value: 'temporary' })
    services.delete('temporary')
    expect(await routes.update(route.route_id, { enabled: false })).toMatchObject({ enabled: false })
    await expect(routes.update(route.route_id, { target_value: 'temporary' })).rejects.toMatchObject({ kind: 'invalid', field: 'target_value' })
  })

  test('concurrent updates of different fields both apply (compare-and-set)', async () => {
    const route = await create({ path_pattern: '/cas' })
    await Promise.all([routes.update(route.route_id, { description: 'one' }), otherNode.update(route.route_id, { enabled: false }), routes.update(route.route_id, { priority: 3 })])
    expect(await storedRoute(route.route_id)).toMatchObject({ description: 'one', enabled: false, priority: 3 })
  })

  test('unknown ids → not_found', async () => {
    await expect(routes.update('nope-00000000', { enabled: false })).rejects.toMatchObject({ kind: 'not_found' })
    await expect(routes.remove('nope-00000000')).rejects.toMatchObject({ kind: 'not_found' })
    expect(await routes.get('nope-00000000')).toBeNull()
  })
})

test('route_changed is published after each create, update and delete', async () => {
  const seen: AppEvent[] = []
  const unsubscribe = bus.subscribe((event) => {
    seen.push(event)
  })
  const route = await create({ path_pattern: '/events' })
  await routes.update(route.route_id, { enabled: false })
  await routes.remove(route.route_id)
  await expect(routes.update(route.route_id, { enabled: true })).rejects.toMatchObject({ kind: 'not_found' })
  unsubscribe()
  expect(seen).toEqual(Array(3).fill({ type: 'route_changed', routeId: route.route_id }))
})

test('routesTargeting finds the routes whose target is a service or proxy, not those merely scoped to it', async () => {
  const byService = await create({ path_pattern: '/svc', target_type: 'service', target_value: 'billing' })
  const byHost = await create({ path_pattern: '/host', target_type: 'hostname', target_value: 'app.example.com' })
  await create({ path_pattern: '/scoped', scope: 'proxy', proxy_hostnames: ['app.example.com'] })
  const all = await routes.list()
  expect(routesTargeting(all, 'service', 'billing').map((route) => route.route_id)).toEqual([byService.route_id])
  expect(routesTargeting(all, 'hostname', 'APP.example.com').map((route) => route.route_id)).toEqual([byHost.route_id])
  expect(routesTargeting(all, 'service', 'app.example.com')).toEqual([])
})
