/**
 * @module Creating, recreating, deleting, starting and stopping a Docker service. Each change checks its
 * input before anything happens (validateSpec: a 400 naming the field), records every step it takes, and
 * undoes them all when a later step fails: a failed creation leaves no container, no port claim, no name
 * and no document; a failed update puts the old container back.
 *
 * While a change is in progress its intent is stored first (status `creating` for a recreation, `stopped`
 * for a stop or a delete), so the reconciler on any node reads the container exiting as intended, never
 * as a failure.
 */
import * as v from 'valibot'
import { validateSpec } from './container-spec.ts'
import { inspectContainer, removeContainer, runContainer, startContainer, stopContainer } from './container-run.ts'
import { announce, nowIso, type ManagerContext } from './manager-context.ts'
import { ensureNamedVolumes } from './named-volumes.ts'
import { PortConfigSchema, type AllocatedPort, type CreateDockerService, type DockerService, type PortConfig, type UpdateDockerService } from './model.ts'
import { DockerServiceError } from './service-error.ts'
import { statusOf } from './service-status.ts'
import { syncStatus } from './status-sync.ts'
import { createUndo, type Undo } from './undo.ts'

export interface Lifecycle {
  create(spec: CreateDockerService, actor: string | null): Promise<DockerService>
  /** Recreates the container with settings (ports: as given, or the current ones when port_configs and internal_port are absent). */
  update(name: string, spec: UpdateDockerService): Promise<DockerService>
  remove(name: string): Promise<void>
  start(name: string): Promise<DockerService>
  stop(name: string): Promise<DockerService>
  restart(name: string): Promise<DockerService>
  /** The service or a 404. */
  require(name: string): Promise<DockerService>
}

/** internal_port is the original's shorthand for one port named "http"; neither given: null. */
function askedPorts(spec: { readonly port_configs?: readonly PortConfig[]; readonly internal_port?: number }): readonly PortConfig[] | null {
  if (spec.port_configs) return spec.port_configs
  return spec.internal_port === undefined ? null : [v.parse(PortConfigSchema, { name: 'http', container_port: spec.internal_port })]
}

/** The ports a service has, asked for again: "auto" ones keep their number (allocate matches them by name). */
export function configsOf(ports: readonly AllocatedPort[]): PortConfig[] {
  return ports.map(({ auto, host_port, ...config }) => ({ ...config, host_port: auto ? 'auto' : host_port }))
}

/** A recreation pulls or builds an image; one still "creating" after this was abandoned by a node that stopped. */
export const CHANGE_TIMEOUT_MS = 30 * 60_000

/**
 * The service as it runs with SERVICE_NETWORK: joined to the server's network too (not stored: the
 * setting, not the service, asks for it), so service://name reaches it there by its alias.
 */
function withServerNetwork(service: DockerService, network: string | null): DockerService {
  if (network === null || service.network_mode === 'none' || service.networks.includes(network)) return service
  return { ...service, networks: [...service.networks, network] }
}

export function createLifecycle(ctx: ManagerContext): Lifecycle {
  const notFound = (name: string) => new DockerServiceError('not_found', `no Docker service named ${name}`)
  const require = async (name: string) => (await ctx.services.get(name)) ?? Promise.reject(notFound(name))
  const busy = (name: string) => new DockerServiceError('conflict', `${name} is being changed; retry when its status is no longer creating`)

  /** A recreation in progress (on any node); one whose node died is over after CHANGE_TIMEOUT_MS. */
  const isChanging = (service: DockerService) => service.status === 'creating' && ctx.clock.nowMs() - Date.parse(service.updated_at) < CHANGE_TIMEOUT_MS

  /** Stores an intent (a status) unless another change is in progress; returns the document before it. */
  async function markIntent(name: string, status: 'creating' | 'stopped', detail: string | null = null): Promise<DockerService> {
    let before: DockerService | null = null
    const written = await ctx.services.change(name, (service) => {
      if (isChanging(service)) throw busy(name)
      before = service
      return { ...service, status, status_detail: detail, updated_at: nowIso(ctx) }
    })
    if (!written || !before) throw notFound(name)
    return before
  }

  /**
   * The document of a service about to run with these settings alone (a field left out now is gone, e.g.
   * an image replacing a dockerfile); `origin` carries what outlives a recreation.
   */
  function draftOf(name: string, spec: CreateDockerService | UpdateDockerService, ports: AllocatedPort[], origin: Pick<DockerService, 'container_id' | 'image_id' | 'created_by' | 'created_at'>): DockerService {
    const { internal_port: _shorthand, port_configs: _asked, ...settings } = spec
    const { container_id, image_id, created_by, created_at } = origin
    return { ...settings, service_name: name, kind: 'docker', ports, status: 'creating', exit_code: null, status_detail: null, health_status: null, container_id, image_id, created_by, created_at, updated_at: nowIso(ctx) }
  }

  /** Prepares the image, then (after beforeRun) runs the draft's container; the service as it now runs. */
  async function launch(draft: DockerService, undo: Undo, beforeRun?: () => Promise<void>): Promise<DockerService> {
    const deployment = await ctx.deploymentId()
    // First: a volume that is not ours is a 400 before an image is pulled or built.
    await ensureNamedVolumes(ctx.engine, draft, deployment, ctx.bindRoot, undo)
    const image = await ctx.prepareImage(draft)
    await beforeRun?.()
    const container = await runContainer(ctx.engine, withServerNetwork(draft, ctx.network), { imageRef: image.ref, bindRoot: ctx.bindRoot, deployment }, undo)
    return { ...draft, ...statusOf({ status: 'running' }, container), container_id: container.Id, image_id: image.id }
  }

  async function create(spec: CreateDockerService, actor: string | null): Promise<DockerService> {
    validateSpec(spec, { bindRoot: ctx.bindRoot })
    const name = spec.service_name
    const claim = await ctx.names.claim(name, 'docker')
    if (!claim.held) {
      throw new DockerServiceError('conflict', claim.by === 'external' ? `an external service named ${name} exists (external and Docker services share one namespace)` : `a service named ${name} already exists`)
    }
    const undo = createUndo(ctx.logger)
    undo.push('name claim', () => ctx.names.release(name, claim.token))
    try {
      const ports = await ctx.ports.allocate(name, askedPorts(spec) ?? [], [])
      undo.push('host ports', () => ctx.ports.release(name, ports.map((port) => port.host_port)))
      const stamp = nowIso(ctx)
      const service = await launch(draftOf(name, spec, ports, { container_id: null, image_id: null, created_by: actor, created_at: stamp }), undo)
      if (!(await ctx.services.insert(service))) throw new DockerServiceError('conflict', `a service named ${name} already exists`)
      ctx.urls.set(service)
      await announce(ctx, { type: 'service_created', name }, { type: 'service_changed', name }, ...(service.status === 'running' ? [{ type: 'service_started' as const, name }] : []))
      // Engine events for the container were ignored until the document existed: read it once more.
      return (await syncStatus(ctx, name)) ?? service
    } catch (error) {
      await undo.run()
      throw error
    }
  }

  async function update(name: string, spec: UpdateDockerService): Promise<DockerService> {
    validateSpec(spec, { bindRoot: ctx.bindRoot })
    const current = await markIntent(name, 'creating')
    const undo = createUndo(ctx.logger)
    undo.push('status', () => ctx.services.change(name, (service) => ({ ...service, status: current.status, status_detail: current.status_detail, updated_at: nowIso(ctx) })).then(() => syncStatus(ctx, name)))
    try {
      const ports = await ctx.ports.allocate(name, askedPorts(spec) ?? configsOf(current.ports), current.ports)
      const isNew = (port: number) => !current.ports.some((held) => held.host_port === port)
      undo.push('new host ports', () => ctx.ports.release(name, ports.map((port) => port.host_port).filter(isNew)))
      const old = current.container_id ? await inspectContainer(ctx.engine, current.container_id) : null
      const next = await launch(draftOf(name, spec, ports, current), undo, async () => {
        // The old container lets go of its host ports just before the new one starts (the image is ready by then).
        if (!old) return
        await stopContainer(ctx.engine, old.Id, ctx.stopTimeoutSec)
        if (current.status === 'running' || current.status === 'restarting') undo.push('old container', () => startContainer(ctx.engine, old.Id))
      })
      if (!(await ctx.services.change(name, () => next))) throw notFound(name)
      if (old) await removeContainer(ctx.engine, old.Id).catch((error) => ctx.logger.warn('could not remove a replaced container', { service: name, error: String(error) }))
      await ctx.ports.release(name, current.ports.map((port) => port.host_port).filter((port) => !ports.some((kept) => kept.host_port === port)))
      ctx.urls.set(next)
      await announce(ctx, { type: 'service_changed', name }, ...(next.status === 'running' ? [{ type: 'service_started' as const, name }] : []))
      return (await syncStatus(ctx, name)) ?? next
    } catch (error) {
      await undo.run()
      throw error
    }
  }

  async function remove(name: string): Promise<void> {
    const current = await require(name)
    if (isChanging(current)) throw busy(name)
    // Detached first: the engine's events for the container no longer match the document, so its
    // removal is not reported as a failure by any node's reconciler.
    await ctx.services.change(name, (service) => ({ ...service, container_id: null, status: 'stopped', status_detail: 'being deleted', updated_at: nowIso(ctx) }))
    try {
      if (current.container_id) await removeContainer(ctx.engine, current.container_id)
    } catch (error) {
      await ctx.services.change(name, (service) => ({ ...service, container_id: current.container_id, status: current.status, status_detail: current.status_detail }))
      throw error
    }
    await ctx.services.remove(name)
    await ctx.ports.release(name, current.ports.map((port) => port.host_port))
    await ctx.names.releaseKind(name, 'docker')
    ctx.urls.delete(name)
    await announce(ctx, { type: 'service_deleted', name }, { type: 'service_changed', name })
  }

  /** The service's container, or 409 when it is gone: nothing is recreated silently (PUT does that). */
  async function containerOf(name: string): Promise<{ service: DockerService; containerId: string }> {
    const service = await require(name)
    if (isChanging(service)) throw busy(name)
    if (!service.container_id || !(await inspectContainer(ctx.engine, service.container_id))) {
      await syncStatus(ctx, name)
      throw new DockerServiceError('conflict', `the container of ${name} is gone; update the service (PUT) to create it again`)
    }
    return { service, containerId: service.container_id }
  }

  async function start(name: string): Promise<DockerService> {
    const { containerId } = await containerOf(name)
    await startContainer(ctx.engine, containerId)
    return (await syncStatus(ctx, name, 'running')) ?? require(name)
  }

  async function stop(name: string): Promise<DockerService> {
    const { containerId } = await containerOf(name)
    const before = await markIntent(name, 'stopped')
    try {
      await stopContainer(ctx.engine, containerId, ctx.stopTimeoutSec)
    } catch (error) {
      await ctx.services.change(name, (service) => ({ ...service, status: before.status, status_detail: before.status_detail }))
      throw error
    }
    const after = await syncStatus(ctx, name, 'stopped')
    // markIntent already stored "stopped", so syncStatus saw no transition to announce.
    if (before.status !== 'stopped') await announce(ctx, { type: 'service_stopped', name })
    return after ?? require(name)
  }

  return {
    create,
    update,
    remove,
    start,
    stop,
    // A stop (intended, so never read as a failure) then a start.
    restart: async (name) => (await stop(name), start(name)),
    require,
  }
}
