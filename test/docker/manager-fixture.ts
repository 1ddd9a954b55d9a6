/**
 * @module The real Docker services manager for tests: the engine at DOCKER_HOST, a real store and bus,
 * test timings (a 1 s stop timeout, quick reconnects), SERVICE_PORTS of free loopback ports, and service
 * bodies of the offline busybox image labelled as test containers (so `test-services.sh stop` and
 * removeTestContainers find what a crashed run left).
 */
import { afterAll, beforeAll } from 'bun:test'
import * as v from 'valibot'
import { createDockerServices, createEngine, CreateDockerServiceSchema, type CreateDockerService, type DockerServices, type DockerServicesSettings } from '../../src/docker/index.ts'
import { createMemoryBus, type AppEvent, type EventBus } from '../../src/events/index.ts'
import { createLogger, systemClock } from '../../src/lib/index.ts'
import { createEmbeddedStore, type Store } from '../../src/store/index.ts'
import { BUSYBOX_IMAGE, ensureBusyboxImage, HTTPD_COMMAND, HTTPD_PORT, removeTestContainers, requireDocker, TEST_LABELS } from '../support/docker.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'

/** SERVICE_PORTS of `size` ports free on loopback now, in a stretch no other test edge picked. */
export function freeServicePorts(size: number): { first: number; last: number } {
  const [first] = isolatedPortRanges(size).PROXY_HTTP_PORTS.split('-').map(Number) as [number]
  return { first, last: first + size - 1 }
}

export interface TestManager {
  readonly manager: DockerServices
  readonly bus: EventBus
  /** Every event the bus delivered, in order. */
  readonly events: AppEvent[]
  stop(): Promise<void>
}

export async function startTestManager(options: { store: Store; bus?: EventBus; nodeId?: string; settings?: Partial<DockerServicesSettings>; dockerHost?: string }): Promise<TestManager> {
  const logger = createLogger('silent')
  const bus = options.bus ?? createMemoryBus(logger)
  await bus.start()
  const events: AppEvent[] = []
  bus.subscribe((event) => void events.push(event))
  const manager = createDockerServices({
    store: options.store,
    bus,
    clock: systemClock,
    logger,
    engine: createEngine(options.dockerHost ?? process.env.DOCKER_HOST),
    nodeId: options.nodeId ?? 'test-node',
    settings: {
      ports: freeServicePorts(32),
      restricted: new Set(),
      bindRoot: null,
      registry: null,
      stopTimeoutSec: 1,
      reconcile: { periodMs: 60_000, firstRetryMs: 100, maxRetryMs: 500 },
      ...options.settings,
    },
  })
  return {
    manager,
    bus,
    events,
    async stop() {
      await manager.stopReconciling()
      if (!options.bus) await bus.stop()
    },
  }
}

/** One test file's manager, started by managerForFile before the file's tests. */
export interface FileManager {
  /** Labels that mark a container as this file's (removed after its tests, and by a later run). */
  readonly labels: Readonly<Record<string, string>>
  /** The label filter that finds this file's containers, networks and volumes. */
  readonly fileLabel: string
  readonly store: Store
  readonly node: TestManager
}

/**
 * A manager for a whole test file, on an in-memory store: before its tests the engine and the busybox
 * image are checked, `prepare` runs (a network to create…) and the manager starts, reconciling if asked;
 * after them it stops and the file's containers are removed.
 */
export function managerForFile(file: string, options: { reconcile?: boolean; settings?: Partial<DockerServicesSettings>; prepare?: (fileLabel: string) => Promise<unknown> } = {}): FileManager {
  const fileLabel = `ohp-test.file=${file}`
  let store: Store | undefined
  let node: TestManager | undefined
  beforeAll(async () => {
    await requireDocker()
    await ensureBusyboxImage()
    await options.prepare?.(fileLabel)
    store = createEmbeddedStore({ dataDir: ':memory:' })
    node = await startTestManager({ store, settings: options.settings })
    if (options.reconcile) await node.manager.startReconciling()
  })
  afterAll(async () => {
    await node?.stop()
    await store?.close()
    await removeTestContainers(fileLabel)
  })
  return {
    labels: { 'ohp-test': 'true', 'ohp-test.file': file },
    fileLabel,
    get store() {
      if (!store) throw new Error(`${file}: the manager is not started (used outside a test?)`)
      return store
    },
    get node() {
      if (!node) throw new Error(`${file}: the manager is not started (used outside a test?)`)
      return node
    },
  }
}

/** A busybox httpd service (port "http" → 8080, auto host port), labelled as a test container. */
export function httpdService(name: string, body: Record<string, unknown> = {}): CreateDockerService {
  return v.parse(CreateDockerServiceSchema, {
    service_name: name,
    image: BUSYBOX_IMAGE,
    command: [...HTTPD_COMMAND],
    labels: { ...TEST_LABELS },
    memory_limit: '32m',
    port_configs: [{ name: 'http', container_port: HTTPD_PORT }],
    ...body,
  })
}

/** A service name no other test run uses at the same time (service names allow "-" and digits). */
export function serviceName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`
}
