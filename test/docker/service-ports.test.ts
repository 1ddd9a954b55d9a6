/**
 * Docker services' host ports (#14) without an engine: claims on a real store (embedded and Redis), the
 * host tried by binding, SERVICE_PORTS_RESTRICTED, proxy instances' claims, and rollback of a refused
 * allocation.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { PortConfigSchema, type PortConfig } from '../../src/docker/model.ts'
import { createServicePorts, type ServicePortSettings } from '../../src/docker/service-ports.ts'
import { createEmbeddedStore, createRedisStore, keys, type Store } from '../../src/store/index.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.dispose()
})

/** A range of `size` ports that are free on loopback right now. */
function freeRange(size: number): { first: number; last: number } {
  const [first] = isolatedPortRanges(size).PROXY_HTTP_PORTS.split('-').map(Number) as [number]
  return { first, last: first + size - 1 }
}
const port = (fields: Record<string, unknown>): PortConfig => v.parse(PortConfigSchema, { name: 'http', container_port: 80, ...fields })
const settingsFor = (range: { first: number; last: number }, restricted: number[] = []): ServicePortSettings => ({ range, restricted: new Set(restricted), probeHost: true })
const occupy = (at: number, hostname = '127.0.0.1') => Bun.listen({ hostname, port: at, socket: { data() {} } })

const ADAPTERS: [string, () => Store][] = [
  ['embedded', () => createEmbeddedStore({ dataDir: ':memory:' })],
  ['redis', () => createRedisStore({ url: redis.url, namespace: `ports-${crypto.randomUUID()}` })],
]

for (const [adapter, open] of ADAPTERS) {
  describe(`service host ports (${adapter})`, () => {
    test('auto ports come from SERVICE_PORTS, skipping restricted, claimed and busy ports; each claim names its service', async () => {
      const store = open()
      const range = freeRange(4)
      const busy = occupy(range.first + 1)
      try {
        // Instance ports may overlap the range (tests, or a careless configuration): their claims count too.
        await store.put(keys.portClaim('http', range.first + 2), 'proxy.test')
        const ports = createServicePorts(store, settingsFor(range, [range.first]))
        const [only] = await ports.allocate('one', [port({})], [])
        expect(only).toMatchObject({ name: 'http', container_port: 80, host_port: range.last, auto: true, bind_address: '127.0.0.1', protocol: 'tcp' })
        expect((await store.get(keys.portClaim('service', range.last)))?.value).toBe('one')
        await expect(ports.allocate('two', [port({})], [])).rejects.toMatchObject({ kind: 'conflict', message: `no free host port left in SERVICE_PORTS ${range.first}-${range.last}` })
        await ports.release('one', [range.last])
        expect((await ports.allocate('two', [port({})], []))[0]!.host_port).toBe(range.last)
      } finally {
        busy.stop(true)
        await store.close()
      }
    })

    test('a port asked for by number: restricted 400 naming the field, held by a service or a proxy instance 409, in use on the host 409; outside the range but free: granted', async () => {
      const store = open()
      const range = freeRange(3)
      const outside = freeRange(1).first
      const ports = createServicePorts(store, settingsFor(range, [range.first]))
      const busy = occupy(range.first + 2)
      try {
        await expect(ports.allocate('a', [port({ host_port: range.first })], [])).rejects.toMatchObject({ kind: 'invalid', field: 'port_configs[0].host_port', message: `host port ${range.first} is restricted (SERVICE_PORTS_RESTRICTED)` })
        await ports.allocate('holder', [port({ host_port: range.first + 1 })], [])
        await expect(ports.allocate('a', [port({ host_port: range.first + 1 })], [])).rejects.toMatchObject({ kind: 'conflict', message: `host port ${range.first + 1} is held by service holder` })
        await expect(ports.allocate('a', [port({ host_port: range.first + 2 })], [])).rejects.toMatchObject({ kind: 'conflict', message: `host port ${range.first + 2} is in use on this host (127.0.0.1, tcp)` })
        // Refused on the host: its claim was not kept.
        expect(await store.get(keys.portClaim('service', range.first + 2))).toBeNull()
        await store.put(keys.portClaim('https', outside), 'inst.test')
        await expect(ports.allocate('a', [port({ host_port: outside })], [])).rejects.toMatchObject({ kind: 'conflict', message: `host port ${outside} is held by the proxy instance of inst.test` })
        await store.del(keys.portClaim('https', outside))
        expect((await ports.allocate('a', [port({ host_port: outside })], []))[0]).toMatchObject({ host_port: outside, auto: false })
        await expect(ports.allocate('b', [port({ host_port: 20_001 }), port({ name: 'other', host_port: 20_001 })], [])).rejects.toMatchObject({ kind: 'invalid', field: 'port_configs[1].host_port' })
        await expect(ports.allocate('b', [port({ host_port: freeRange(1).first, bind_address: '192.0.2.77' })], [])).rejects.toMatchObject({ kind: 'invalid', field: 'port_configs[0].bind_address' })
      } finally {
        busy.stop(true)
        await store.close()
      }
    })

    test('a refused allocation frees every port it had claimed; held ports are kept without a new claim', async () => {
      const store = open()
      const range = freeRange(4)
      const ports = createServicePorts(store, settingsFor(range))
      try {
        await ports.allocate('other', [port({ host_port: range.first + 1 })], [])
        const held = await ports.allocate('svc', [port({ name: 'web' }), port({ name: 'admin', container_port: 81, host_port: range.first })], [])
        // A new auto port, then a conflict: the new claim goes, the held ones stay.
        const before = await ports.claims()
        await expect(ports.allocate('svc', [...held.map(({ auto, ...config }) => ({ ...config, host_port: auto ? ('auto' as const) : config.host_port })), port({ name: 'extra', container_port: 82 }), port({ name: 'bad', container_port: 83, host_port: range.first + 1 })], held)).rejects.toMatchObject({ kind: 'conflict' })
        expect(await ports.claims()).toEqual(before)
        const again = await ports.allocate('svc', [port({ name: 'web' }), port({ name: 'admin', container_port: 81, host_port: range.first })], held)
        expect(again).toEqual(held)
      } finally {
        await store.close()
      }
    })

    test('check and available tell why a port cannot be had', async () => {
      const store = open()
      const range = freeRange(5)
      const ports = createServicePorts(store, settingsFor(range, [range.first]))
      const busy = occupy(range.first + 3)
      try {
        await ports.allocate('svc', [port({ host_port: range.first + 1 })], [])
        await store.put(keys.portClaim('http', range.first + 2), 'inst.test')
        expect(await ports.check(range.first, '127.0.0.1')).toEqual({ port: range.first, bind_address: '127.0.0.1', available: false, reason: 'restricted (SERVICE_PORTS_RESTRICTED)' })
        expect((await ports.check(range.first + 1, '127.0.0.1')).reason).toBe('held by service svc')
        expect((await ports.check(range.first + 2, '127.0.0.1')).reason).toBe('held by the proxy instance of inst.test')
        expect((await ports.check(range.first + 3, '127.0.0.1')).reason).toBe('in use on this host')
        expect(await ports.check(range.last, '127.0.0.1')).toEqual({ port: range.last, bind_address: '127.0.0.1', available: true, reason: null })
        expect(await ports.available(10)).toEqual([range.last])
      } finally {
        busy.stop(true)
        await store.close()
      }
    })
  })
}

test('60 concurrent allocations through two stores on one Redis never share a port, and the range running out is a conflict, not a duplicate', async () => {
  const namespace = `ports-race-${crypto.randomUUID()}`
  const stores = [createRedisStore({ url: redis.url, namespace }), createRedisStore({ url: redis.url, namespace })]
  const range = freeRange(50)
  const nodes = stores.map((store) => createServicePorts(store, settingsFor(range)))
  try {
    const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => nodes[i % 2]!.allocate(`svc-${i}`, [port({})], [])))
    const granted = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value[0]!.host_port] : []))
    expect(granted).toHaveLength(50)
    expect(new Set(granted).size).toBe(50)
    for (const result of results) if (result.status === 'rejected') expect(result.reason).toMatchObject({ kind: 'conflict' })
    expect((await nodes[0]!.claims()).size).toBe(50)
  } finally {
    for (const store of stores) await store.close()
  }
})
