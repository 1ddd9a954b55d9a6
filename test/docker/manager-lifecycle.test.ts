/**
 * The Docker services manager (#14) against the real engine and a real Redis: a service's whole life
 * (create, stop, start, restart, update, delete), what each step leaves in the engine and the store,
 * rollback of a failed creation, and one namespace with external services.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import * as v from 'valibot'
import { UpdateDockerServiceSchema, type DockerService } from '../../src/docker/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger, systemClock } from '../../src/lib/index.ts'
import { CreateExternalServiceSchema, createExternalServices } from '../../src/services/index.ts'
import { createRedisStore, keys, type Store } from '../../src/store/index.ts'
import { docker, ensureBusyboxImage, inspect, removeTestContainers, requireDocker, TEST_LABEL } from '../support/docker.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { httpdService, serviceName, startTestManager, type TestManager } from './manager-fixture.ts'

// Containers are created, stopped and recreated here: a loaded 2-core machine needs more than 5 s for some steps.
setDefaultTimeout(30_000)

let redis: TestRedis
let store: Store
let node: TestManager
const FILE_LABEL = 'ohp-test.file=manager-lifecycle'
/** A named volume the lifecycle's service keeps across its recreation. */
const volume = serviceName('ohp-t-life-data')

beforeAll(async () => {
  await requireDocker()
  await ensureBusyboxImage()
  redis = await startRedis()
  store = createRedisStore({ url: redis.url, namespace: 'lifecycle' })
  node = await startTestManager({ store })
  await node.manager.startReconciling()
})
afterAll(async () => {
  await node?.stop()
  await store?.close()
  await removeTestContainers(FILE_LABEL)
  await docker('volume', 'rm', '-f', volume).catch(() => {})
  await redis?.dispose()
})

const labelled = { 'ohp-test': 'true', 'ohp-test.file': 'manager-lifecycle' }
const body = (name: string, extra: Record<string, unknown> = {}) => httpdService(name, { labels: labelled, ...extra })
const answers = async (url: string) => (await fetch(url).catch(() => null))?.status ?? 0
const containersOf = async (name: string) => (await docker('ps', '-aq', '--filter', `label=io.oauth-https-proxy.service=${name}`)).split('\n').filter(Boolean)
const claimOf = async (port: number) => (await store.get(keys.portClaim('service', port)))?.value ?? null

describe('a service from creation to deletion', () => {
  let service: DockerService
  const name = serviceName('life')

  test('create: the container runs with its port on 127.0.0.1, the port is claimed, the name is held, urlOf serves it; service_created and service_started', async () => {
    service = await node.manager.create(body(name, { volumes: [{ source: volume, target: '/data' }] }), 'alice')
    expect(service).toMatchObject({ service_name: name, kind: 'docker', status: 'running', exit_code: null, created_by: 'alice', ports: [{ name: 'http', container_port: 8080, bind_address: '127.0.0.1', protocol: 'tcp', auto: true }] })
    const port = service.ports[0]!.host_port
    const info = await inspect(service.container_id!)
    expect(info.State.Running).toBe(true)
    expect(info.HostConfig.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] })
    expect(info.Config.Labels).toMatchObject({ 'io.oauth-https-proxy.managed': 'true', 'io.oauth-https-proxy.service': name, 'ohp-test': 'true' })
    expect(await claimOf(port)).toBe(name)
    expect(node.manager.urlOf(name)).toBe(`http://127.0.0.1:${port}`)
    expect(node.manager.urlOf(name, 'http')).toBe(`http://127.0.0.1:${port}`)
    expect(node.manager.urlOf(name, 'other')).toBeUndefined()
    expect(await answers(`${node.manager.urlOf(name)}/`)).toBe(200)
    expect(await node.manager.get(name)).toEqual(service)
    expect((await node.manager.hostPorts()).filter((use) => use.service_name === name)).toEqual([{ port, service_name: name, port_name: 'http', bind_address: '127.0.0.1', protocol: 'tcp' }])
    expect(node.events.filter((event) => 'name' in event && event.name === name).map((event) => event.type)).toEqual(['service_created', 'service_changed', 'service_started'])
  })

  test('the name is taken for both kinds: a second Docker service and an external service get 409 naming the holder', async () => {
    await expect(node.manager.create(body(name), null)).rejects.toMatchObject({ kind: 'conflict', message: `a service named ${name} already exists` })
    const externals = createExternalServices(store, createMemoryBus(createLogger('silent')), systemClock)
    await expect(externals.create(v.parse(CreateExternalServiceSchema, { service_name: name, target_url: 'http://127.0.0.1:9' }), null)).rejects.toMatchObject({
      kind: 'conflict',
      message: `a Docker service named ${name} exists (external and Docker services share one namespace)`,
    })
    expect(await containersOf(name)).toHaveLength(1)
  })

  test('stop: status stopped (not failed), the port answers nothing, service_stopped; start: running again on the same port', async () => {
    const stopped = await node.manager.stop(name)
    expect(stopped).toMatchObject({ status: 'stopped', status_detail: null })
    expect((await inspect(service.container_id!)).State.Running).toBe(false)
    expect(await answers(`${node.manager.urlOf(name)}/`)).toBe(0)
    // The reconciler saw the container die and left it stopped.
    await Bun.sleep(300)
    expect((await node.manager.get(name))!.status).toBe('stopped')
    const started = await node.manager.start(name)
    expect(started).toMatchObject({ status: 'running', container_id: service.container_id, ports: service.ports })
    await expectServing(name)
    const types = node.events.filter((event) => 'name' in event && event.name === name).map((event) => event.type)
    expect(types.slice(-2)).toEqual(['service_stopped', 'service_started'])
    expect(types).not.toContain('service_failed')
  })

  test('restart: the same container runs again, never reported failed', async () => {
    const restarted = await node.manager.restart(name)
    expect(restarted).toMatchObject({ status: 'running', container_id: service.container_id })
    await expectServing(name)
    expect(node.events.some((event) => event.type === 'service_failed' && event.name === name)).toBe(false)
  })

  test('update: a new container with the new settings, the same auto port and named volume (its files kept), the old container gone', async () => {
    await docker('exec', service.container_id!, 'sh', '-c', 'echo kept > /data/file')
    const updated = await node.manager.update(name, v.parse(UpdateDockerServiceSchema, { image: service.image, command: service.command, labels: labelled, volumes: service.volumes, memory_limit: '48m', environment: { MODE: 'two' }, port_configs: [{ name: 'http', container_port: 8080 }] }))
    expect(await docker('exec', updated.container_id!, 'cat', '/data/file')).toBe('kept')
    expect(updated).toMatchObject({ status: 'running', environment: { MODE: 'two' }, memory_limit: '48m', ports: service.ports, created_at: service.created_at, created_by: 'alice' })
    expect(updated.container_id).not.toBe(service.container_id)
    expect(await containersOf(name)).toEqual([updated.container_id!.slice(0, 12)])
    expect((await inspect(updated.container_id!)).HostConfig.Memory).toBe(48 * 1024 * 1024)
    await expectServing(name)
    service = updated
  })

  test('ports: add one (a new claim), remove it (freed); an unknown port name is 404, a duplicate 409', async () => {
    const added = await node.manager.addPort(name, { name: 'admin', container_port: 8081, host_port: 'auto', bind_address: '127.0.0.1', protocol: 'tcp', description: '' })
    const admin = added.ports.find((port) => port.name === 'admin')!
    expect(added.ports[0]!.host_port).toBe(service.ports[0]!.host_port)
    expect(await claimOf(admin.host_port)).toBe(name)
    expect(node.manager.urlOf(name, 'admin')).toBe(`http://127.0.0.1:${admin.host_port}`)
    await expect(node.manager.addPort(name, { ...admin, host_port: 'auto' })).rejects.toMatchObject({ kind: 'conflict' })
    await expect(node.manager.removePort(name, 'nope')).rejects.toMatchObject({ kind: 'not_found' })
    const removed = await node.manager.removePort(name, 'admin')
    expect(removed.ports.map((port) => port.name)).toEqual(['http'])
    expect(await claimOf(admin.host_port)).toBeNull()
    expect(node.manager.urlOf(name, 'admin')).toBeUndefined()
    service = removed
  })

  test('delete: the container goes, the port and the name are free again, urlOf forgets it; service_deleted', async () => {
    const port = service.ports[0]!.host_port
    await node.manager.remove(name)
    expect(await containersOf(name)).toEqual([])
    expect(await claimOf(port)).toBeNull()
    expect(await node.manager.get(name)).toBeNull()
    expect(node.manager.urlOf(name)).toBeUndefined()
    expect(node.events.at(-2)).toEqual({ type: 'service_deleted', name })
    expect(node.events.some((event) => event.type === 'service_failed' && event.name === name)).toBe(false)
    await expect(node.manager.remove(name)).rejects.toMatchObject({ kind: 'not_found' })
    // The name is free for an external service now.
    const externals = createExternalServices(store, createMemoryBus(createLogger('silent')), systemClock)
    await externals.create(v.parse(CreateExternalServiceSchema, { service_name: name, target_url: 'http://127.0.0.1:9' }), null)
    await expect(node.manager.create(body(name), null)).rejects.toMatchObject({ kind: 'conflict', message: `an external service named ${name} exists (external and Docker services share one namespace)` })
    await externals.remove(name)
  })
})

describe('a failed creation leaves nothing behind', () => {
  const nothingLeft = async (name: string, portsBefore: Map<number, string>) => {
    expect(await containersOf(name)).toEqual([])
    expect(await node.manager.get(name)).toBeNull()
    expect(await store.get(keys.inCollection('services/name/', name))).toBeNull()
    const claims = await store.list(keys.portClaims('service'))
    expect(claims.length).toBe(portsBefore.size)
  }
  const claimsNow = async () => new Map((await store.list(keys.portClaims('service'))).map((key) => [Number(key.split('/').pop()), key]))

  test('an image the engine does not have (and no registry): 400 naming image; no container, no port claim, no name', async () => {
    const name = serviceName('bad-image')
    const before = await claimsNow()
    await expect(node.manager.create(body(name, { image: 'ohp-test/no-such-image:1' }), null)).rejects.toMatchObject({ kind: 'invalid', field: 'image' })
    await nothingLeft(name, before)
  })

  test('a program that does not exist fails at start: 400 naming command; the created container is removed', async () => {
    const name = serviceName('bad-cmd')
    const before = await claimsNow()
    await expect(node.manager.create(body(name, { command: ['/no/such/program'] }), null)).rejects.toMatchObject({ kind: 'invalid', field: 'command' })
    await nothingLeft(name, before)
  })

  test('a host port asked for that is in use on the host: 409 before any container', async () => {
    const name = serviceName('busy-port')
    const busy = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    try {
      const before = await claimsNow()
      await expect(node.manager.create(body(name, { port_configs: [{ name: 'http', container_port: 8080, host_port: busy.port }] }), null)).rejects.toMatchObject({ kind: 'conflict', message: `host port ${busy.port} is in use on this host (127.0.0.1, tcp)` })
      await nothingLeft(name, before)
    } finally {
      busy.stop(true)
    }
  })

  test('bad input is a 400 naming the field before anything happens: memory below 6m, a bind mount without SERVICE_BIND_ROOT', async () => {
    const name = serviceName('invalid')
    const before = await claimsNow()
    await expect(node.manager.create(body(name, { memory_limit: '1m' }), null)).rejects.toMatchObject({ kind: 'invalid', field: 'memory_limit' })
    await expect(node.manager.create(body(name, { volumes: [{ source: '/etc', target: '/x' }] }), null)).rejects.toMatchObject({ kind: 'invalid', field: 'volumes[0].source' })
    await nothingLeft(name, before)
  })

  test('a failed update puts the old container back, running, on its port', async () => {
    const name = serviceName('upd-fail')
    const service = await node.manager.create(body(name), null)
    try {
      await expect(node.manager.update(name, v.parse(UpdateDockerServiceSchema, { image: service.image, command: ['/no/such/program'], labels: labelled, port_configs: [{ name: 'http', container_port: 8080 }] }))).rejects.toMatchObject({ kind: 'invalid', field: 'command' })
      const after = await node.manager.get(name)
      expect(after).toMatchObject({ status: 'running', container_id: service.container_id, ports: service.ports, command: service.command })
      expect(await containersOf(name)).toEqual([service.container_id!.slice(0, 12)])
      await expectServing(name)
    } finally {
      await node.manager.remove(name)
    }
  })
})

async function expectServing(name: string): Promise<void> {
  const url = node.manager.urlOf(name)!
  const deadline = Date.now() + 10_000
  while ((await answers(`${url}/`)) !== 200) {
    if (Date.now() > deadline) throw new Error(`${name} does not answer at ${url}`)
    await Bun.sleep(50)
  }
}

test('labels: every container a test made here carries the test label', async () => {
  const all = (await docker('ps', '-aq', '--filter', 'label=io.oauth-https-proxy.managed=true', '--filter', `label=${FILE_LABEL}`)).split('\n').filter(Boolean)
  const labelledForCleanup = (await docker('ps', '-aq', '--filter', `label=${TEST_LABEL}`, '--filter', `label=${FILE_LABEL}`)).split('\n').filter(Boolean)
  expect(all).toEqual(labelledForCleanup)
})
