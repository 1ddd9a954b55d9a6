/** @module What the Docker services manager's parts (lifecycle, status sync, reconciler, cleanup) share; built once by createDockerServices. */
import type { AppEvent, EventBus } from '../events/index.ts'
import type { Clock, Logger } from '../lib/index.ts'
import type { ServiceNames } from '../store/index.ts'
import type { Engine } from './engine.ts'
import type { DockerService } from './model.ts'
import type { ServicePorts } from './service-ports.ts'
import type { DockerServiceStore } from './service-store.ts'
import type { ServiceUrls } from './service-urls.ts'

/** The image a service runs: the reference the container is created from and its id. */
export interface PreparedImage {
  readonly ref: string
  readonly id: string
}

export interface ManagerContext {
  readonly engine: Engine
  readonly services: DockerServiceStore
  readonly names: ServiceNames
  readonly ports: ServicePorts
  readonly urls: ServiceUrls
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  readonly nodeId: string
  /** SERVICE_BIND_ROOT; null refuses bind mounts. */
  readonly bindRoot: string | null
  /** SERVICE_NETWORK: the network every service joins besides its own; null: none. */
  readonly network: string | null
  /** How long stop gives a container after SIGTERM before SIGKILL. */
  readonly stopTimeoutSec: number
  /** This deployment's id (deployment.ts): the label that makes a container ours. */
  deploymentId(): Promise<string>
  /** Pulls (SERVICE_REGISTRY) or builds (dockerfile) the service's image, or finds it on the engine. */
  prepareImage(service: DockerService): Promise<PreparedImage>
}

export const nowIso = (ctx: ManagerContext): string => new Date(ctx.clock.nowMs()).toISOString()

/** Publishes events after a change is stored; a bus outage is logged, never turned into a failed change. */
export async function announce(ctx: ManagerContext, ...events: AppEvent[]): Promise<void> {
  for (const event of events) {
    try {
      await ctx.bus.publish(event)
    } catch (error) {
      ctx.logger.warn('could not publish an event', { event: event.type, error: String(error) })
    }
  }
}
