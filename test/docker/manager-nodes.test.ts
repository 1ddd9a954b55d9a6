/**
 * Acceptance (#14): 50 concurrent creates across two server processes on one Redis never get the same
 * host port. Each process is a node with its own manager, store client and bus (manager-node-process.ts);
 * the ports are checked in what the nodes answered, in the claims and in the engine's real bindings.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createRedisStore, keys } from '../../src/store/index.ts'
import { BUSYBOX_IMAGE, docker, ensureBusyboxImage, removeTestContainers, requireDocker } from '../support/docker.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { freeServicePorts, startTestManager } from './manager-fixture.ts'
import type { ManagerNodeConfig } from './manager-node-process.ts'

const FILE_LABEL = 'ohp-test.file=manager-nodes'
const PER_NODE = 25
let redis: TestRedis

beforeAll(async () => {
  await requireDocker()
  await ensureBusyboxImage()
  redis = await startRedis()
})
afterAll(async () => {
  await removeTestContainers(FILE_LABEL)
  await redis?.dispose()
})

interface Created {
  readonly name: string
  readonly host_ports?: number[]
  readonly container_id?: string
  readonly error?: string
}

async function runNode(config: ManagerNodeConfig): Promise<Created[]> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, 'manager-node-process.ts')], {
    env: { ...process.env, MANAGER_NODE: JSON.stringify(config) },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  const lines = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Created & { done?: boolean })
  if (code !== 0 || !lines.some((line) => line.done)) throw new Error(`node ${config.nodeId} failed (exit ${code}): ${stderr}`)
  return lines.filter((line) => !line.done)
}

test('50 concurrent creates across two processes on one Redis: 50 services, 50 different host ports, each bound by its own container', async () => {
  const namespace = `nodes-${crypto.randomUUID()}`
  const ports = freeServicePorts(64)
  const base = { redisUrl: redis.url, namespace, count: PER_NODE, ports, image: BUSYBOX_IMAGE, labels: { 'ohp-test': 'true', 'ohp-test.file': 'manager-nodes' } }
  const prefix = `nodes-${process.pid}`
  const results = (await Promise.all([runNode({ ...base, nodeId: 'a', prefix: `${prefix}-a` }), runNode({ ...base, nodeId: 'b', prefix: `${prefix}-b` })])).flat()

  expect(results.filter((result) => result.error)).toEqual([])
  expect(results).toHaveLength(2 * PER_NODE)
  const answered = results.flatMap((result) => result.host_ports!)
  expect(new Set(answered).size).toBe(2 * PER_NODE)
  for (const port of answered) expect(port >= ports.first && port <= ports.last).toBe(true)

  // The claims agree, one per port, each naming the service that answered with it.
  const store = createRedisStore({ url: redis.url, namespace })
  try {
    const holders = new Map<number, string>()
    for (const key of await store.list(keys.portClaims('service'))) holders.set(Number(key.split('/').pop()), (await store.get(key))!.value)
    expect(holders.size).toBe(2 * PER_NODE)
    for (const result of results) expect(holders.get(result.host_ports![0]!)).toBe(result.name)

    // And so does the engine: every container publishes the port its service was given, and no other.
    const bound = await docker('ps', '--filter', `label=${FILE_LABEL}`, '--format', '{{.Label "io.oauth-https-proxy.service"}} {{.Ports}}')
    const published = new Map(bound.split('\n').filter(Boolean).map((line) => [line.split(' ')[0]!, Number(/127\.0\.0\.1:(\d+)->8080/.exec(line)?.[1])]))
    expect(published.size).toBe(2 * PER_NODE)
    for (const result of results) expect(published.get(result.name)).toBe(result.host_ports![0]!)

    // Deleting them all (from a third manager on the same store) frees every claim.
    const node = await startTestManager({ store, settings: { ports } })
    await Promise.all(results.map((result) => node.manager.remove(result.name)))
    expect(await store.list(keys.portClaims('service'))).toEqual([])
    expect(await docker('ps', '-aq', '--filter', `label=${FILE_LABEL}`)).toBe('')
    await node.stop()
  } finally {
    await store.close()
  }
}, 120_000)
