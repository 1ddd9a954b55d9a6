/**
 * @module The Docker services manager (DockerServices, types.ts): one object per node, built by the
 * composition root. Reads come from the store; changes go through the lifecycle (lifecycle.ts), the
 * engine's truth comes back through the reconciler (reconcile.ts), and `service://` URLs are answered
 * from memory for the decision step (service-urls.ts).
 */
import type { EventBus } from '../events/index.ts'
import type { Clock, Logger } from '../lib/index.ts'
import { createServiceNames, type Store } from '../store/index.ts'
import { cleanupServices, foreignContainers } from './cleanup.ts'
import type { Engine } from './engine.ts'
import { createDeploymentId } from './deployment.ts'
import { ensureImage } from './image.ts'
import { configsOf, createLifecycle } from './lifecycle.ts'
import type { ManagerContext } from './manager-context.ts'
import type { DockerService, PortConfig, UpdateDockerService } from './model.ts'
import { createReconciler, DEFAULT_RECONCILE_TIMING, type ReconcileTiming } from './reconcile.ts'
import { DockerServiceError } from './service-error.ts'
import { serviceLogs, serviceLogStream, serviceStats } from './service-output.ts'
import { createServicePorts } from './service-ports.ts'
import { createDockerServiceStore } from './service-store.ts'
import { createServiceUrls } from './service-urls.ts'
import type { DockerServices } from './types.ts'

export interface DockerServicesSettings {
  /** SERVICE_PORTS. */
  readonly ports: { readonly first: number; readonly last: number }
  /** SERVICE_PORTS_RESTRICTED. */
  readonly restricted: ReadonlySet<number>
  /** SERVICE_BIND_ROOT; null refuses bind mounts. */
  readonly bindRoot: string | null
  /** SERVICE_REGISTRY; null pulls nothing. */
  readonly registry: string | null
  /** SERVICE_NETWORK: every service joins it and service:// dials it by name there; null (default): host ports. */
  readonly network?: string | null
  /** Whether the engine runs on this host (the local socket): then host ports are tried here before use. Default true. */
  readonly engineIsLocal?: boolean
  /** How long stop waits after SIGTERM before SIGKILL (default 10 s). */
  readonly stopTimeoutSec?: number
  readonly reconcile?: Partial<ReconcileTiming>
}

export interface DockerServicesDeps {
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  readonly engine: Engine
  readonly nodeId: string
  readonly settings: DockerServicesSettings
}

const DEFAULT_STOP_TIMEOUT_SEC = 10

/** The settings of a stored service as an update body: what addPort and its siblings change one port of. */
function settingsOf(service: DockerService): UpdateDockerService {
  const { service_name: _name, kind: _kind, ports: _ports, status: _status, exit_code: _exit, status_detail: _detail, health_status: _health, container_id: _container, image_id: _image, created_by: _by, created_at: _at, updated_at: _updated, ...settings } = service
  return settings
}

export function createDockerServices(deps: DockerServicesDeps): DockerServices {
  const { settings, engine } = deps
  const ctx: ManagerContext = {
    engine,
    services: createDockerServiceStore(deps.store),
    names: createServiceNames(deps.store, deps.clock),
    ports: createServicePorts(deps.store, { range: settings.ports, restricted: settings.restricted, probeHost: settings.engineIsLocal ?? true }),
    urls: createServiceUrls({ network: settings.network ?? null }),
    bus: deps.bus,
    clock: deps.clock,
    logger: deps.logger,
    nodeId: deps.nodeId,
    bindRoot: settings.bindRoot,
    network: settings.network ?? null,
    stopTimeoutSec: settings.stopTimeoutSec ?? DEFAULT_STOP_TIMEOUT_SEC,
    deploymentId: createDeploymentId(deps.store),
    prepareImage: (service) => ensureImage(engine, { name: service.service_name, image: service.image, dockerfile: service.dockerfile, build_args: service.build_args }, { registry: settings.registry }),
  }
  const lifecycle = createLifecycle(ctx)
  const reconciler = createReconciler(ctx, { ...DEFAULT_RECONCILE_TIMING, ...settings.reconcile })

  /** Recreates the service with one port changed: the ports as they are, passed through change. */
  async function withPorts(name: string, change: (configs: PortConfig[]) => PortConfig[]): Promise<DockerService> {
    const service = await lifecycle.require(name)
    return lifecycle.update(name, { ...settingsOf(service), port_configs: change(configsOf(service.ports)) })
  }
  const indexOfPort = (configs: readonly PortConfig[], name: string, portName: string) => {
    const index = configs.findIndex((config) => config.name === portName)
    if (index === -1) throw new DockerServiceError('not_found', `${name} has no port named ${portName}`)
    return index
  }

  return {
    list: () => ctx.services.list(),
    get: (name) => ctx.services.get(name),
    create: (spec, actor) => lifecycle.create(spec, actor),
    update: (name, spec) => lifecycle.update(name, spec),
    remove: (name) => lifecycle.remove(name),
    start: (name) => lifecycle.start(name),
    stop: (name) => lifecycle.stop(name),
    restart: (name) => lifecycle.restart(name),
    logs: async (name, options) => serviceLogs(engine, await lifecycle.require(name), options),
    followLogs: (name, options) => serviceLogStream(engine, () => lifecycle.require(name), options),
    stats: async (name) => serviceStats(engine, await lifecycle.require(name)),
    cleanup: () => cleanupServices(ctx),
    foreign: () => foreignContainers(ctx),

    async hostPorts() {
      return (await ctx.services.list()).flatMap((service) =>
        service.ports.map((port) => ({ port: port.host_port, service_name: service.service_name, port_name: port.name, bind_address: port.bind_address, protocol: port.protocol })),
      )
    },
    availablePorts: (limit) => ctx.ports.available(limit),
    checkPort: (port, bindAddress) => ctx.ports.check(port, bindAddress),
    addPort: (name, port) =>
      withPorts(name, (configs) => {
        if (configs.some((config) => config.name === port.name)) throw new DockerServiceError('conflict', `${name} has a port named ${port.name} already`)
        return [...configs, port]
      }),
    updatePort: (name, portName, port) => withPorts(name, (configs) => configs.with(indexOfPort(configs, name, portName), port)),
    removePort: (name, portName) => withPorts(name, (configs) => configs.toSpliced(indexOfPort(configs, name, portName), 1)),

    urlOf: (name, portName) => ctx.urls.urlOf(name, portName),
    loadFromStore: () => reconciler.load(),
    startReconciling: () => reconciler.start(),
    stopReconciling: () => reconciler.stop(),
  }
}
