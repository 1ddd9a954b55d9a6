/**
 * @module Composition of the services a proxy or a route may name, external or Docker (#14), in one
 * namespace: the Docker services (started reconciling here, or null when DOCKER_SERVICES=false),
 * whether a `service` reference names one, and what points at one.
 */
import type { Config } from './config/index.ts'
import { createDockerServices, createEngine, type DockerServices } from './docker/index.ts'
import type { EventBus } from './events/index.ts'
import { parseServiceRef, type Clock, type Logger } from './lib/index.ts'
import { routesTargeting, type RouteStore } from './routes/index.ts'
import type { ExternalServices } from './services/index.ts'
import type { Store } from './store/index.ts'
import { serviceNameOf, type ProxyTargets } from './targets/index.ts'

export interface DockerServicesCompositionDeps {
  readonly config: Config
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
}

/**
 * The Docker services, their URLs loaded from the store; `onStop` gets their stop. The engine is watched
 * only from watchDockerEngine, once the server listens: a start-up that fails later never talks to it.
 * Null when DOCKER_SERVICES=false (their API answers 503).
 */
export async function startDockerServices(deps: DockerServicesCompositionDeps, onStop: (cleanup: () => Promise<void>) => void): Promise<DockerServices | null> {
  const { config } = deps
  if (!config.docker.enabled) return null
  const dockerServices = createDockerServices({
    store: deps.store,
    bus: deps.bus,
    clock: deps.clock,
    logger: deps.logger,
    engine: createEngine(config.docker.host),
    nodeId: config.nodeId,
    settings: { ports: config.docker.ports, restricted: new Set(config.docker.restrictedPorts), bindRoot: config.docker.bindRoot, registry: config.docker.registry, network: config.docker.network, engineIsLocal: isLocalEngine(config.docker.host) },
  })
  await dockerServices.loadFromStore()
  onStop(() => dockerServices.stopReconciling())
  return dockerServices
}

/** Reconciles with the engine and follows it; resolves at once (an engine that does not answer is retried in the background, its API answering 503 meanwhile). */
export async function watchDockerEngine(dockerServices: DockerServices | null): Promise<void> {
  await dockerServices?.startReconciling()
}

/** What a route's `service` target names exists: an external service (no port), or a Docker service and the port named. */
export async function serviceExists(ref: string, services: ExternalServices, dockerServices: DockerServices | null): Promise<boolean> {
  const parsed = parseServiceRef(ref)
  if (!parsed) return false
  if (parsed.port === null && (await services.get(parsed.name)) !== null) return true
  const docker = await dockerServices?.get(parsed.name)
  return !!docker && (parsed.port === null || docker.ports.some((port) => port.name === parsed.port))
}

/** What points at a service (Docker or external: one namespace), for the 409 that names them on delete. */
export function serviceDependents(targets: ProxyTargets, routes: RouteStore) {
  return async (name: string) => ({
    proxies: (await targets.list()).filter((target) => serviceNameOf(target) === name).map((target) => target.proxy_hostname),
    routes: routesTargeting(await routes.list(), 'service', name).map((route) => route.route_id),
  })
}

/** The engine runs on this host (its socket, or loopback TCP): host ports can be tried here before use. */
function isLocalEngine(dockerHost: string | undefined): boolean {
  if (dockerHost === undefined || dockerHost.startsWith('/') || dockerHost.startsWith('unix://')) return true
  return /^[a-z]+:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/i.test(dockerHost)
}
