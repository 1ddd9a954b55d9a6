/**
 * @module One server node for the cross-process test (manager-nodes.test.ts): the real Docker services
 * manager on a Redis store and bus shared with the other node, creating MANAGER_NODE.count services at
 * once. Prints one JSON line per service ({name, host_ports} or {name, error}), then {"done": true}.
 */
import * as v from 'valibot'
import { createDockerServices, createEngine, CreateDockerServiceSchema } from '../../src/docker/index.ts'
import { createRedisBus } from '../../src/events/index.ts'
import { createLogger, systemClock } from '../../src/lib/index.ts'
import { createRedisStore } from '../../src/store/index.ts'

export interface ManagerNodeConfig {
  readonly redisUrl: string
  readonly namespace: string
  readonly nodeId: string
  readonly prefix: string
  readonly count: number
  readonly ports: { readonly first: number; readonly last: number }
  readonly image: string
  readonly labels: Record<string, string>
}

const config = JSON.parse(process.env.MANAGER_NODE ?? '') as ManagerNodeConfig
const logger = createLogger('silent')
const store = createRedisStore({ url: config.redisUrl, namespace: config.namespace })
const bus = createRedisBus({ url: config.redisUrl, namespace: config.namespace, nodeId: config.nodeId, logger, blockMs: 100 })
await bus.start()
const manager = createDockerServices({
  store,
  bus,
  clock: systemClock,
  logger,
  engine: createEngine(process.env.DOCKER_HOST),
  nodeId: config.nodeId,
  settings: { ports: config.ports, restricted: new Set(), bindRoot: null, registry: null, stopTimeoutSec: 1 },
})
await manager.startReconciling()

await Promise.all(
  Array.from({ length: config.count }, async (_, index) => {
    const name = `${config.prefix}-${index}`
    const spec = v.parse(CreateDockerServiceSchema, {
      service_name: name,
      image: config.image,
      command: ['sleep', '3600'],
      labels: config.labels,
      memory_limit: '16m',
      port_configs: [{ name: 'http', container_port: 8080 }],
    })
    try {
      const service = await manager.create(spec, config.nodeId)
      process.stdout.write(`${JSON.stringify({ name, host_ports: service.ports.map((port) => port.host_port), container_id: service.container_id })}\n`)
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ name, error: String(error) })}\n`)
    }
  }),
)
await manager.stopReconciling()
await bus.stop()
await store.close()
process.stdout.write(`${JSON.stringify({ done: true })}\n`)
process.exit(0)
