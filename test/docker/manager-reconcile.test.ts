/**
 * Reconciliation (#14) against the real engine and a real Redis: what happens to a container behind the
 * server's back is reported (killed: failed with its exit code within 5 s; deleted: missing), nothing is
 * recreated, a restarted manager or a second node finds the same services without duplicates, and an
 * engine that goes away and comes back is followed again.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRedisBus } from '../../src/events/index.ts'
import { createLogger } from '../../src/lib/index.ts'
import { createRedisStore, type Store } from '../../src/store/index.ts'
import { docker, ensureBusyboxImage, removeTestContainers, requireDocker } from '../support/docker.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { httpdService, serviceName, startTestManager, type TestManager } from './manager-fixture.ts'

// Containers are created, stopped and recreated here: a loaded 2-core machine needs more than 5 s for some steps.
setDefaultTimeout(30_000)

const FILE_LABEL = 'ohp-test.file=manager-reconcile'
const labels = { 'ohp-test': 'true', 'ohp-test.file': 'manager-reconcile' }
const body = (name: string) => httpdService(name, { labels })
const containersOf = async (name: string) => (await docker('ps', '-aq', '--filter', `label=io.oauth-https-proxy.service=${name}`)).split('\n').filter(Boolean)
let redis: TestRedis
const stores: Store[] = []
const nodes: TestManager[] = []

beforeAll(async () => {
  await requireDocker()
  await ensureBusyboxImage()
  redis = await startRedis()
})
afterAll(async () => {
  for (const node of nodes) await node.stop().catch(() => {})
  for (const store of stores) await store.close().catch(() => {})
  await removeTestContainers(FILE_LABEL)
  await redis?.dispose()
})

/** A node: its own store client and Redis bus on the shared namespace, so events cross between nodes as in production. */
async function startNode(namespace: string, nodeId: string, dockerHost?: string): Promise<TestManager> {
  const store = createRedisStore({ url: redis.url, namespace })
  stores.push(store)
  const bus = createRedisBus({ url: redis.url, namespace, nodeId, logger: createLogger('silent'), blockMs: 100 })
  const node = await startTestManager({ store, bus, nodeId, dockerHost })
  nodes.push(node)
  return node
}

describe('one node', () => {
  let node: TestManager
  beforeAll(async () => {
    node = await startNode('reconcile-one', 'a')
    await node.manager.startReconciling()
  })

  test('docker kill behind our back: failed with exit code 137 within 5 s, announced as service_failed; nothing restarts it', async () => {
    const name = serviceName('killed')
    const service = await node.manager.create(body(name), null)
    await docker('kill', service.container_id!)
    const killedAt = Date.now()
    const failed = await waitFor(async () => {
      const now = await node.manager.get(name)
      return now?.status === 'failed' ? now : null
    }, { timeoutMs: 5_000, intervalMs: 50, what: `${name} reported failed` })
    expect(Date.now() - killedAt).toBeLessThan(5_000)
    expect(failed).toMatchObject({ status: 'failed', exit_code: 137, status_detail: 'exited with code 137', container_id: service.container_id })
    await waitFor(() => node.events.some((event) => event.type === 'service_failed' && event.name === name), { timeoutMs: 2_000, what: 'service_failed' })
    expect(node.events.find((event) => event.type === 'service_failed' && event.name === name)).toEqual({ type: 'service_failed', name, exitCode: 137, detail: 'exited with code 137' })
    expect(await containersOf(name)).toHaveLength(1)
    // It can be started again from the API.
    expect((await node.manager.start(name)).status).toBe('running')
    await node.manager.remove(name)
  })

  test('docker rm -f behind our back: missing, nothing recreated; start says why (409) and an update creates it again', async () => {
    const name = serviceName('deleted')
    const service = await node.manager.create(body(name), null)
    await docker('rm', '-f', service.container_id!)
    const missing = await waitFor(async () => {
      const now = await node.manager.get(name)
      return now?.status === 'missing' ? now : null
    }, { timeoutMs: 5_000, intervalMs: 50, what: `${name} reported missing` })
    expect(missing).toMatchObject({ exit_code: null, ports: service.ports })
    await Bun.sleep(300)
    expect(await containersOf(name)).toEqual([])
    await expect(node.manager.start(name)).rejects.toMatchObject({ kind: 'conflict' })
    const { service_name: _n, kind: _k, ports, status: _s, exit_code: _e, status_detail: _d, health_status: _h, container_id: _c, image_id: _i, created_by: _b, created_at: _a, updated_at: _u, ...settings } = missing!
    const again = await node.manager.update(name, { ...settings, port_configs: ports.map(({ auto, ...port }) => ({ ...port, host_port: auto ? ('auto' as const) : port.host_port })) })
    expect(again).toMatchObject({ status: 'running', ports: service.ports })
    expect(await containersOf(name)).toEqual([again.container_id!.slice(0, 12)])
    await node.manager.remove(name)
  })

  test('a restarted manager reconciles without duplicates: the same services and containers, a container killed while it was down reported failed', async () => {
    const running = serviceName('survives')
    const killed = serviceName('down-kill')
    const first = await node.manager.create(body(running), null)
    const second = await node.manager.create(body(killed), null)
    await node.stop()
    await docker('kill', second.container_id!)
    node = await startNode('reconcile-one', 'a')
    // Known from the store before the engine is even asked.
    await node.manager.startReconciling()
    expect(node.manager.urlOf(running)).toBe(`http://127.0.0.1:${first.ports[0]!.host_port}`)
    await waitFor(async () => (await node.manager.get(killed))?.status === 'failed', { timeoutMs: 5_000, what: 'the killed service failed after the restart' })
    expect(await node.manager.get(running)).toMatchObject({ status: 'running', container_id: first.container_id })
    expect(await containersOf(running)).toHaveLength(1)
    expect(await containersOf(killed)).toHaveLength(1)
    expect((await node.manager.list()).filter((service) => [running, killed].includes(service.service_name))).toHaveLength(2)
    await node.manager.remove(running)
    await node.manager.remove(killed)
  })
})

test('two nodes on one store and one engine: both see a kill, one writes it, service_failed is announced once', async () => {
  const [a, b] = [await startNode('reconcile-two', 'a'), await startNode('reconcile-two', 'b')]
  await Promise.all([a.manager.startReconciling(), b.manager.startReconciling()])
  const name = serviceName('shared')
  const service = await a.manager.create(body(name), null)
  // b learns the URL from a's service_changed.
  await waitFor(() => b.manager.urlOf(name) === a.manager.urlOf(name), { timeoutMs: 5_000, what: 'node b to learn the URL' })
  await docker('kill', service.container_id!)
  await waitFor(async () => (await b.manager.get(name))?.status === 'failed', { timeoutMs: 5_000, what: 'failed' })
  await Bun.sleep(500)
  for (const node of [a, b]) expect(node.events.filter((event) => event.type === 'service_failed' && event.name === name)).toHaveLength(1)
  await b.manager.remove(name)
  await waitFor(() => a.manager.urlOf(name) === undefined, { timeoutMs: 5_000, what: 'node a to forget the URL' })
})

describe('the engine away and back', () => {
  const socket = join(tmpdir(), `ohp-engine-${process.pid}.sock`)
  let relay: ReturnType<typeof startSocketRelay> | null = null
  afterAll(() => {
    relay?.stop()
    rmSync(socket, { force: true })
  })

  test('absent at start: startReconciling resolves at once, reads come from the store, changes are 503 (unavailable)', async () => {
    const node = await startNode('reconcile-away', 'a', `unix://${socket}`)
    const started = Date.now()
    await node.manager.startReconciling()
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(await node.manager.list()).toEqual([])
    await expect(node.manager.create(body(serviceName('nope')), null)).rejects.toMatchObject({ kind: 'unavailable', message: 'the Docker engine does not answer' })
    await node.stop()
  })

  test('the event stream is reopened when the engine comes back, and what happened meanwhile is reconciled', async () => {
    relay = startSocketRelay(socket)
    const node = await startNode('reconcile-away', 'b', `unix://${socket}`)
    await node.manager.startReconciling()
    const name = serviceName('away')
    const service = await node.manager.create(body(name), null)
    relay.stop()
    // Behind the server's back, while it cannot see the engine.
    await docker('kill', service.container_id!)
    await Bun.sleep(300)
    expect((await node.manager.get(name))!.status).toBe('running')
    relay = startSocketRelay(socket)
    await waitFor(async () => (await node.manager.get(name))?.status === 'failed', { timeoutMs: 5_000, what: 'failed after the engine came back' })
    // And the stream is followed again: a start outside the server is seen too.
    await docker('start', service.container_id!)
    await waitFor(async () => (await node.manager.get(name))?.status === 'running', { timeoutMs: 5_000, what: 'running again' })
    await node.manager.remove(name)
    await node.stop()
  })
})

/**
 * A unix socket that relays to the real engine's, standing in for an engine that can go away: stop()
 * closes the listener and every relayed connection (the event stream included), as a restarting dockerd does.
 */
function startSocketRelay(path: string) {
  rmSync(path, { force: true })
  const target = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '')
  type Side = { peer?: import('bun').Socket<unknown>; pending: Uint8Array[] }
  const open = new Set<import('bun').Socket<Side>>()
  const listener = Bun.listen<Side>({
    unix: path,
    socket: {
      async open(client) {
        client.data = { pending: [] }
        open.add(client)
        const upstream = await Bun.connect({
          unix: target,
          socket: {
            data: (_, bytes) => void client.write(bytes),
            close: () => void client.end(),
            error: () => void client.end(),
          },
        })
        client.data.peer = upstream
        for (const bytes of client.data.pending.splice(0)) upstream.write(bytes)
      },
      data(client, bytes) {
        if (client.data.peer) client.data.peer.write(bytes)
        else client.data.pending.push(new Uint8Array(bytes))
      },
      close(client) {
        open.delete(client)
        client.data.peer?.end()
      },
    },
  })
  return {
    stop() {
      listener.stop(true)
      for (const client of open) {
        client.data.peer?.end()
        client.end()
      }
      rmSync(path, { force: true })
    },
  }
}
