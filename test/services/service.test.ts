/** External services: the schemas' rules, and the service that stores then announces every change. */
import { afterEach, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { createMemoryBus, type AppEvent } from '../../src/events/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { CreateExternalServiceSchema, createExternalServices, UpdateExternalServiceSchema } from '../../src/services/index.ts'
import { COLLECTIONS, createEmbeddedStore, createServiceNames, keys } from '../../src/store/index.ts'
import { CreateProxyTargetSchema } from '../../src/targets/index.ts'

const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const bus = createMemoryBus(createLogger('silent'))
const events: AppEvent[] = []
bus.subscribe((event) => {
  events.push(event)
})
const services = createExternalServices(store, bus, clock)
const input = (body: unknown) => v.parse(CreateExternalServiceSchema, body)

afterEach(async () => {
  for (const service of await services.list()) await services.remove(service.service_name)
  events.length = 0
})

describe('CreateExternalServiceSchema', () => {
  const issueOf = (body: unknown) => {
    const result = v.safeParse(CreateExternalServiceSchema, body)
    return result.success ? null : `${result.issues[0].path?.map((item) => item.key).join('.')}: ${result.issues[0].message}`
  }

  test('names: 1-63 lower-case letters, digits, "_" and "-", not starting with "_" or "-"', () => {
    for (const name of ['a', '0', 'billing', 'my_api-2', 'x'.repeat(63)]) expect(issueOf({ service_name: name, target_url: 'http://a.test' })).toBeNull()
    for (const name of ['', '-a', '_a', 'A', 'Billing', 'a.b', 'a b', 'a/b', 'x'.repeat(64), 7, null]) {
      expect(issueOf({ service_name: name, target_url: 'http://a.test' })).toStartWith('service_name:')
    }
  })

  test('names of fixed API paths are reserved', () => {
    for (const name of ['external', 'ports', 'unified', 'cleanup', 'proxy']) {
      expect(issueOf({ service_name: name, target_url: 'http://a.test' })).toStartWith('service_name: is reserved')
    }
  })

  test('target_url: http:// is assumed without a scheme, as in the original; only http(s) with a host, no credentials or fragment', () => {
    expect(input({ service_name: 'a', target_url: 'backend:8080' }).target_url).toBe('http://backend:8080')
    expect(input({ service_name: 'a', target_url: ' 10.0.0.5/api ' }).target_url).toBe('http://10.0.0.5/api')
    expect(input({ service_name: 'a', target_url: 'https://b.test' }).target_url).toBe('https://b.test')
    for (const target_url of ['ftp://b.test', 'http://', 'http://u:p@b.test', 'u:p@b.test', 'http://b.test/#x', 'javascript:alert(1)', 'service://other', '', ' ', 42, null]) {
      expect(issueOf({ service_name: 'a', target_url })).toStartWith('target_url:')
    }
  })

  test('description defaults to "" and holds at most 500 characters; unknown fields are refused', () => {
    expect(input({ service_name: 'a', target_url: 'http://b.test' }).description).toBe('')
    expect(issueOf({ service_name: 'a', target_url: 'http://b.test', description: 'x'.repeat(500) })).toBeNull()
    expect(issueOf({ service_name: 'a', target_url: 'http://b.test', description: 'x'.repeat(501) })).toStartWith('description:')
    expect(issueOf({ service_name: 'a', target_url: 'http://b.test', routing_enabled: true })).toStartWith('routing_enabled:')
  })
})

describe('a proxy may target a service', () => {
  const targetIssue = (target_url: unknown) => {
    const result = v.safeParse(CreateProxyTargetSchema, { proxy_hostname: 'p.example.com', target_url })
    return result.success ? null : result.issues[0].message
  }

  test('service://<name>[:<port name>] is accepted for a valid service name (and a Docker service port name), and nothing else with that scheme', () => {
    expect(targetIssue('service://billing')).toBeNull()
    expect(targetIssue('service://my_api-2')).toBeNull()
    expect(targetIssue('service://web:admin-2')).toBeNull()
    for (const bad of ['service://', 'service://Billing', 'service://external', 'service://a/b', 'service://a:', 'service://a:Http', 'service://a:8080', 'service://a:b:c', 'service://a?x', 'SERVICE://a', 'service:a']) {
      expect(targetIssue(bad)).not.toBeNull()
    }
  })

  test('the routing settings default to every route applying', () => {
    expect(v.parse(CreateProxyTargetSchema, { proxy_hostname: 'p.example.com', target_url: 'http://a.test' })).toMatchObject({ route_mode: 'all', enabled_routes: [], disabled_routes: [] })
  })
})

describe('createExternalServices', () => {
  test('create stamps the creator and time, stores, then announces service_changed', async () => {
    const created = await services.create(input({ service_name: 'billing', target_url: 'http://10.0.0.5:8080' }), 'alice')
    expect(created).toEqual({
      service_name: 'billing',
      target_url: 'http://10.0.0.5:8080',
      description: '',
      created_by: 'alice',
      created_at: '2026-11-27T12:00:00.000Z',
      updated_at: '2026-11-27T12:00:00.000Z',
    })
    expect(await services.get('billing')).toEqual(created)
    expect(JSON.parse((await store.get(keys.inCollection(COLLECTIONS.externalServices, 'billing')))!.value)).toEqual(created)
    expect(events).toEqual([{ type: 'service_changed', name: 'billing' }])
  })

  test('a taken name is a conflict and leaves the stored service and the bus alone', async () => {
    const first = await services.create(input({ service_name: 'dup', target_url: 'http://a.test' }), 'alice')
    await expect(services.create(input({ service_name: 'dup', target_url: 'http://b.test' }), 'bob')).rejects.toMatchObject({ kind: 'conflict' })
    expect(await services.get('dup')).toEqual(first)
    expect(events).toHaveLength(1)
  })

  test('update applies the fields given, keeps the others, stamps updated_at and announces', async () => {
    await services.create(input({ service_name: 'api', target_url: 'http://a.test', description: 'old' }), 'alice')
    clock.advanceMs(60_000)
    const updated = await services.update('api', v.parse(UpdateExternalServiceSchema, { target_url: 'b.test:81' }))
    expect(updated).toMatchObject({ target_url: 'http://b.test:81', description: 'old', created_at: '2026-11-27T12:00:00.000Z', updated_at: '2026-11-27T12:01:00.000Z' })
    expect(await services.get('api')).toEqual(updated)
    expect(events).toEqual([
      { type: 'service_changed', name: 'api' },
      { type: 'service_changed', name: 'api' },
    ])
  })

  test('concurrent updates of different fields both apply (compare-and-set)', async () => {
    await services.create(input({ service_name: 'race', target_url: 'http://a.test' }), 'alice')
    await Promise.all([services.update('race', { target_url: 'http://b.test' }), services.update('race', { description: 'both' })])
    expect(await services.get('race')).toMatchObject({ target_url: 'http://b.test', description: 'both' })
  })

  test('update and remove of an unknown name are not_found and announce nothing', async () => {
    await expect(services.update('missing', { description: 'x' })).rejects.toMatchObject({ kind: 'not_found' })
    await expect(services.remove('missing')).rejects.toMatchObject({ kind: 'not_found' })
    expect(events).toEqual([])
  })

  test('remove deletes and announces; list is ordered by name', async () => {
    for (const name of ['b', 'c', 'a']) await services.create(input({ service_name: name, target_url: 'http://a.test' }), null)
    expect((await services.list()).map((service) => service.service_name)).toEqual(['a', 'b', 'c'])
    await services.remove('b')
    expect(await services.get('b')).toBeNull()
    expect((await services.list()).map((service) => service.service_name)).toEqual(['a', 'c'])
    expect(events.at(-1)).toEqual({ type: 'service_changed', name: 'b' })
  })

  test('one namespace with Docker services: a name a Docker service holds is a conflict naming it; remove frees the name for either kind', async () => {
    const names = createServiceNames(store, clock)
    const docker = await names.claim('shared', 'docker')
    if (!docker.held) throw new Error('expected the claim')
    await expect(services.create(input({ service_name: 'shared', target_url: 'http://a.test' }), 'alice')).rejects.toMatchObject({
      kind: 'conflict',
      message: 'a Docker service named shared exists (external and Docker services share one namespace)',
    })
    expect(events).toEqual([])
    await names.release('shared', docker.token)
    await services.create(input({ service_name: 'shared', target_url: 'http://a.test' }), 'alice')
    expect(await names.claim('shared', 'docker')).toEqual({ held: false, by: 'external' })
    await services.remove('shared')
    expect(await names.holderOf('shared')).toBeNull()
    expect((await names.claim('shared', 'docker')).held).toBe(true)
  })
})
