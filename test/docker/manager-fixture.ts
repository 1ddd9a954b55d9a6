/**
 * @module The real Docker services manager for tests: the engine at DOCKER_HOST, a real store and bus,
 * test timings (a 1 s stop timeout, quick reconnects), SERVICE_PORTS of free loopback ports, and service
 * bodies of the offline busybox image labelled as test containers (so `test-services.sh stop` and
 * removeTestContainers find what a crashed run left).
 */
import * as v from 'valibot'
import { createDockerServices, createEngine, CreateDockerServiceSchema, type CreateDockerService, type DockerServices, type DockerServicesSettings } from '../../src/docker/index.ts'
import { createMemoryBus, type AppEvent, type EventBus } from '../../src/events/index.ts'
import { createLogger, systemClock } from '../../src/lib/index.ts'
import type { Store } from '../../src/store/index.ts'
import { BUSYBOX_IMAGE, HTTPD_COMMAND, HTTPD_PORT, TEST_LABELS } from '../support/docker.ts'
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
