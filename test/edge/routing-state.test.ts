/**
 * The routing state's reload (the edge's reconcile, every 30 s): with thousands of routes it runs on
 * the thread that serves requests, so it must give the event loop turns, and an event that refreshes
 * a route during one of them must win over the reload's older snapshot.
 */
import { expect, test } from 'bun:test'
import { createRoutingState, type RouteSource } from '../../src/edge/routing-state.ts'
import type { ProxyRouteSettings, Route } from '../../src/routes/index.ts'
import { routeWith } from '../fixtures/route.ts'

const COUNT = 3_000
/** Route i, updated when its target is: the reload compares what it holds with what is stored. */
const route = (i: number, target: string): Route => routeWith({ route_id: `r-${i}`, path_pattern: `/svc${i}/`, target_value: target, updated_at: target, sequence: i })
const proxy: ProxyRouteSettings = { proxy_hostname: 'app.test', route_mode: 'all', enabled_routes: [], disabled_routes: [] }
const targetOf = (state: ReturnType<typeof createRoutingState>, i: number) => state.routes().match(proxy, 'GET', `/svc${i}/x`)?.route.target_value

test('a reload of thousands of unchanged routes gives the event loop turns, and a route refreshed meanwhile keeps its newer value', async () => {
  // The store's answers: what list() and get() read now (a synchronous store answers at once).
  const stored = new Map(Array.from({ length: COUNT }, (_, i) => [`r-${i}`, route(i, 'http://a.test')]))
  const source: RouteSource = {
    list: async () => [...stored.values()],
    get: async (id) => stored.get(id) ?? null,
  }
  const state = createRoutingState(source, { list: async () => [], get: async () => null })
  await state.reload()
  expect(targetOf(state, COUNT - 1)).toBe('http://a.test')

  // The reload's snapshot holds B for the last route; during the reload an event refreshes it to C.
  stored.set(`r-${COUNT - 1}`, route(COUNT - 1, 'http://b.test'))
  let turns = 0
  let isReloading = true
  const tick = () => {
    if (!isReloading) return
    turns++
    if (turns === 1) {
      stored.set(`r-${COUNT - 1}`, route(COUNT - 1, 'http://c.test'))
      void state.refreshRoute(`r-${COUNT - 1}`)
    }
    setImmediate(tick)
  }
  setImmediate(tick)
  await state.reload()
  isReloading = false
  expect(turns).toBeGreaterThanOrEqual(2)
  expect(targetOf(state, COUNT - 1)).toBe('http://c.test')
  expect(targetOf(state, 0)).toBe('http://a.test')
})
