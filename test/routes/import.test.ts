/** RouteStore.importRoute: a route created under the id it had elsewhere (configuration import). */
import { afterEach, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { createMemoryBus, type AppEvent } from '../../src/events/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createRouteStore, CreateRouteSchema } from '../../src/routes/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'

const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const bus = createMemoryBus(createLogger('silent'))
const checks = { serviceExists: async (name: string) => name === 'billing', proxyExists: async () => false }
const routes = createRouteStore(store, bus, clock, checks)

const input = (fields: Record<string, unknown>) => v.parse(CreateRouteSchema, { target_type: 'url', target_value: 'http://127.0.0.1:9', ...fields })

afterEach(async () => {
  for (const route of await routes.list()) await routes.remove(route.route_id)
})

describe('importRoute', () => {
  test('keeps the route_id; routes imported one after another keep their order among equal priorities; route_changed is announced', async () => {
    const events: AppEvent[] = []
    const unsubscribe = bus.subscribe(async (event) => void events.push(event))
    await routes.importRoute({ ...input({ path_pattern: '/z' }), route_id: 'z-00000001' }, 'alice')
    await routes.importRoute({ ...input({ path_pattern: '/a' }), route_id: 'a-00000002' }, 'alice')
    unsubscribe()
    expect((await routes.list()).map((route) => route.route_id)).toEqual(['z-00000001', 'a-00000002'])
    expect(await routes.get('a-00000002')).toMatchObject({ path_pattern: '/a', created_by: 'alice' })
    expect(events).toEqual([
      { type: 'route_changed', routeId: 'z-00000001' },
      { type: 'route_changed', routeId: 'a-00000002' },
    ])
  })

  test('an id that exists → conflict, and the existing route keeps its claim (an equal route is still refused)', async () => {
    await routes.importRoute({ ...input({ path_pattern: '/same' }), route_id: 'same-1' }, null)
    await expect(routes.importRoute({ ...input({ path_pattern: '/same' }), route_id: 'same-1' }, null)).rejects.toMatchObject({ kind: 'conflict' })
    await expect(routes.importRoute({ ...input({ path_pattern: '/other' }), route_id: 'same-1' }, null)).rejects.toMatchObject({ kind: 'conflict' })
    await expect(routes.create(input({ path_pattern: '/same' }), null)).rejects.toMatchObject({ kind: 'conflict' })
    // The refused /other left no claim behind.
    expect(await routes.create(input({ path_pattern: '/other' }), null)).toMatchObject({ path_pattern: '/other' })
  })

  test('an equal route under another id → conflict; a service target must exist', async () => {
    const held = await routes.create(input({ path_pattern: '/dup' }), null)
    await expect(routes.importRoute({ ...input({ path_pattern: '/dup' }), route_id: 'dup-2' }, null)).rejects.toMatchObject({ kind: 'conflict', message: expect.stringContaining(held.route_id) })
    await expect(routes.importRoute({ ...input({ path_pattern: '/s', target_type: 'service', target_value: 'nobody' }), route_id: 's-1' }, null)).rejects.toMatchObject({ kind: 'invalid', field: 'target_value' })
    expect((await routes.list()).map((route) => route.route_id)).toEqual([held.route_id])
  })
})
