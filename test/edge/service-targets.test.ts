/**
 * `service://name[:port]` (#14): one rule for the name and the port, accepted by proxy targets and route
 * targets, and resolved by the routing state to an external service's URL or a Docker service's port.
 */
import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { createRoutingState } from '../../src/edge/routing-state.ts'
import { parseServiceRef } from '../../src/lib/index.ts'
import { CreateRouteSchema, routesTargeting, type Route } from '../../src/routes/index.ts'
import { serviceNameOf } from '../../src/targets/index.ts'
import { TargetUrlSchema } from '../../src/targets/model.ts'

describe('parseServiceRef', () => {
  test('a service name, optionally with a port name', () => {
    expect(parseServiceRef('billing')).toEqual({ name: 'billing', port: null })
    expect(parseServiceRef('web-app:admin-2')).toEqual({ name: 'web-app', port: 'admin-2' })
    for (const bad of ['', 'Billing', 'a:', ':http', 'a:Http', 'a:1http', 'a:b:c', 'ports', 'cleanup:http', `a:${'x'.repeat(33)}`]) expect(parseServiceRef(bad)).toBeNull()
  })

  test('proxy targets and route targets accept the same forms; serviceNameOf gives the service', () => {
    const targetOk = (text: string) => v.safeParse(TargetUrlSchema, text).success
    expect(['service://billing', 'service://web:admin', 'http://a.test'].map(targetOk)).toEqual([true, true, true])
    expect(['service://web:', 'service://web:ADMIN', 'service://unified'].map(targetOk)).toEqual([false, false, false])
    expect(serviceNameOf({ target_url: 'service://web:admin' })).toBe('web')
    expect(serviceNameOf({ target_url: 'http://a.test' })).toBeNull()
    const routeOk = (target_value: string) => v.safeParse(CreateRouteSchema, { path_pattern: '/x', target_type: 'service', target_value }).success
    expect([routeOk('web:admin'), routeOk('web'), routeOk('web:'), routeOk('Web')]).toEqual([true, true, false, false])
  })

  test('routesTargeting a service finds the routes to any of its ports, and no other service', () => {
    const route = (route_id: string, target_value: string) => ({ route_id, target_type: 'service', target_value }) as Route
    const all = [route('plain', 'web'), route('port', 'web:admin'), route('other', 'webx:admin')]
    expect(routesTargeting(all, 'service', 'web').map((r) => r.route_id)).toEqual(['plain', 'port'])
  })
})

describe('routing state: service URLs', () => {
  const routes = { list: async () => [], get: async () => null }
  const externals = [{ service_name: 'ext', target_url: 'http://10.0.0.5:8080' }]
  const services = { list: async () => externals, get: async (name: string) => externals.find((s) => s.service_name === name) ?? null }
  const docker = new Map([
    ['web', 'http://127.0.0.1:20001'],
    ['web:admin', 'http://127.0.0.1:20002'],
  ])

  test('an external service by name; a Docker service by name (its first port) or name:port; nothing else', async () => {
    const state = createRoutingState(routes, services, (name, port) => docker.get(port === undefined ? name : `${name}:${port}`))
    await state.reload()
    expect(state.serviceUrl('ext')).toBe('http://10.0.0.5:8080')
    expect(state.serviceUrl('web')).toBe('http://127.0.0.1:20001')
    expect(state.serviceUrl('web:admin')).toBe('http://127.0.0.1:20002')
    // An external service has no ports; an unknown port or service resolves to nothing (the decision answers 502).
    expect(state.serviceUrl('ext:http')).toBeUndefined()
    expect(state.serviceUrl('web:missing')).toBeUndefined()
    expect(state.serviceUrl('nobody')).toBeUndefined()
    expect(state.serviceUrl('Bad Ref')).toBeUndefined()
  })

  test('without a Docker manager only external services resolve', async () => {
    const state = createRoutingState(routes, services)
    await state.reload()
    expect(state.serviceUrl('ext')).toBe('http://10.0.0.5:8080')
    expect(state.serviceUrl('web')).toBeUndefined()
  })
})
