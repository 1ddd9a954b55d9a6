/**
 * @module POST /services/cleanup and the read-only list of containers we did not create. Cleanup removes
 * what a crash or an operator left half-done: this deployment's containers no stored service runs, port claims and
 * name claims no service holds. It never touches a change still in progress on some node (a creation
 * holds its name claim before its document exists; a recreation marks its service `creating`), and it
 * never recreates anything: a service whose container is gone is reported `missing`. Named volumes of ours
 * that no service mounts are listed, never removed: they hold data.
 */
import { SERVICE_LABEL } from './container-spec.ts'
import { DEPLOYMENT_LABEL } from './deployment.ts'
import { removeContainer } from './container-run.ts'
import { engineError } from './engine.ts'
import { CHANGE_TIMEOUT_MS } from './lifecycle.ts'
import type { ManagerContext } from './manager-context.ts'
import type { DockerService } from './model.ts'
import { syncStatus } from './status-sync.ts'
import type { CleanupReport, ForeignContainer } from './types.ts'

export async function cleanupServices(ctx: ManagerContext): Promise<CleanupReport> {
  let containers: { Id: string; Names: string[]; Labels: Record<string, string> }[]
  try {
    containers = await ctx.engine.docker.listContainers({ all: true, filters: { label: [`${DEPLOYMENT_LABEL}=${await ctx.deploymentId()}`] } })
  } catch (error) {
    throw engineError(error)
  }
  const services = new Map((await ctx.services.list()).map((service) => [service.service_name, service]))
  const abandoned = new Set(await ctx.names.stale('docker'))
  const isChanging = (service: DockerService) => service.status === 'creating' && ctx.clock.nowMs() - Date.parse(service.updated_at) < CHANGE_TIMEOUT_MS
  /** A creation in flight: its name is claimed (not abandoned) and its document not stored yet. */
  const isBeingCreated = async (name: string) => !services.has(name) && !abandoned.has(name) && (await ctx.names.holderOf(name)) === 'docker'

  const report: CleanupReport = { containers_removed: [], services_missing: [], ports_released: [], volumes_unused: [] }
  for (const container of containers) {
    const name = container.Labels[SERVICE_LABEL] ?? ''
    const service = services.get(name)
    if (service?.container_id === container.Id || (service && isChanging(service)) || (await isBeingCreated(name))) continue
    await removeContainer(ctx.engine, container.Id)
    report.containers_removed.push(container.Names[0]?.replace(/^\//, '') ?? container.Id)
  }
  const present = new Set(containers.map((container) => container.Id))
  for (const service of services.values()) {
    if (isChanging(service) || (service.container_id !== null && present.has(service.container_id))) continue
    const after = await syncStatus(ctx, service.service_name)
    if (after?.status === 'missing' || after?.container_id === null) report.services_missing.push(service.service_name)
  }
  for (const [port, holder] of await ctx.ports.claims()) {
    const service = services.get(holder)
    if (service?.ports.some((held) => held.host_port === port) || (service && isChanging(service)) || (await isBeingCreated(holder))) continue
    await ctx.ports.release(holder, [port])
    report.ports_released.push(port)
  }
  for (const name of abandoned) if (!services.has(name)) await ctx.names.releaseKind(name, 'docker')
  report.volumes_unused.push(...(await unusedVolumes(ctx, [...services.values()])))
  return report
}

/** This deployment's named volumes that no stored service mounts (a delete keeps a service's volumes). */
async function unusedVolumes(ctx: ManagerContext, services: readonly DockerService[]): Promise<string[]> {
  const mounted = new Set(services.flatMap((service) => service.volumes.map((volume) => volume.source)))
  try {
    const listing = await ctx.engine.docker.listVolumes({ filters: { label: [`${DEPLOYMENT_LABEL}=${await ctx.deploymentId()}`] } })
    return (listing.Volumes ?? []).map((volume) => volume.Name).filter((name) => !mounted.has(name)).sort()
  } catch (error) {
    throw engineError(error)
  }
}

/**
 * Containers this deployment did not create (other programs', another deployment's on the same engine):
 * listed so an operator sees them, never started, stopped or removed.
 */
export async function foreignContainers(ctx: ManagerContext): Promise<ForeignContainer[]> {
  try {
    const deployment = await ctx.deploymentId()
    const all = await ctx.engine.docker.listContainers({ all: true })
    return all
      .filter((container) => container.Labels?.[DEPLOYMENT_LABEL] !== deployment)
      .map((container) => ({ container_id: container.Id, name: container.Names[0]?.replace(/^\//, '') ?? '', image: container.Image, state: container.State }))
  } catch (error) {
    throw engineError(error)
  }
}
