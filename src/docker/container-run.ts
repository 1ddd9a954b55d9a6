/**
 * @module The engine calls of one service's container: run it (networks, create, connect, start, each step
 * recorded for undo), inspect, stop, start, remove. Engine failures become DomainErrors here (engineError),
 * so callers only ever see not_found, conflict, invalid naming a field, or unavailable.
 */
import type Dockerode from 'dockerode'
import { randomBytes } from 'node:crypto'
import { additionalNetworks, containerOptions, MANAGED_LABEL, networkEndpoint, primaryNetwork } from './container-spec.ts'
import { engineError, type Engine } from './engine.ts'
import { DEPLOYMENT_LABEL } from './deployment.ts'
import type { DockerService } from './model.ts'
import { checkProgram } from './program-check.ts'
import type { Undo } from './undo.ts'

interface EngineFailure {
  readonly statusCode?: number
}
const statusOf = (error: unknown) => (error as EngineFailure | null)?.statusCode

/** Networks every engine has; they are never created nor removed. */
const BUILT_IN_NETWORKS = new Set(['bridge', 'none', 'default', 'host'])

/**
 * `ohp-<service>-<6 hex>`: readable in `docker ps`, and unique, so an update can create the new
 * container beside the old one and drop whichever loses.
 */
export function containerNameFor(serviceName: string): string {
  return `ohp-${serviceName}-${randomBytes(3).toString('hex')}`
}

/** Makes sure a network exists, creating it (labelled as ours) when missing; true when this call created it. */
async function ensureNetwork(engine: Engine, name: string, deployment: string): Promise<boolean> {
  try {
    await engine.docker.getNetwork(name).inspect()
    return false
  } catch (error) {
    if (statusOf(error) !== 404) throw engineError(error, 'networks')
  }
  try {
    await engine.docker.createNetwork({ Name: name, CheckDuplicate: true, Labels: { [MANAGED_LABEL]: 'true', [DEPLOYMENT_LABEL]: deployment } })
    return true
  } catch (error) {
    // Another creation made it in the meantime: it exists, which is all this needs.
    if (statusOf(error) === 409) return false
    throw engineError(error, 'networks')
  }
}

/**
 * Creates and starts the service's container from imageRef, with its networks (created when missing),
 * labelled as this deployment's. Each step taken is recorded in undo. Returns the started container as
 * the engine reports it.
 */
export async function runContainer(engine: Engine, service: DockerService, run: { readonly imageRef: string; readonly bindRoot: string | null; readonly deployment: string }, undo: Undo): Promise<Dockerode.ContainerInspectInfo> {
  const networks = [primaryNetwork(service), ...additionalNetworks(service)].filter((network) => !BUILT_IN_NETWORKS.has(network))
  for (const network of networks) {
    if (await ensureNetwork(engine, network, run.deployment)) undo.push(`network ${network}`, () => engine.docker.getNetwork(network).remove())
  }
  const options = containerOptions(service, { imageRef: run.imageRef, bindRoot: run.bindRoot, containerName: containerNameFor(service.service_name) })
  options.Labels = { ...options.Labels, [DEPLOYMENT_LABEL]: run.deployment }
  let container: Dockerode.Container
  try {
    container = await engine.docker.createContainer(options)
  } catch (error) {
    throw engineError(error)
  }
  undo.push(`container ${container.id}`, () => removeContainer(engine, container.id))
  try {
    await checkProgram(container, await container.inspect())
    for (const network of additionalNetworks(service)) {
      await engine.docker.getNetwork(network).connect({ Container: container.id, EndpointConfig: networkEndpoint(service.service_name) })
    }
    await container.start()
    return await container.inspect()
  } catch (error) {
    throw engineError(error)
  }
}

/** The container as the engine reports it, or null when it is gone. */
export async function inspectContainer(engine: Engine, id: string): Promise<Dockerode.ContainerInspectInfo | null> {
  try {
    return await engine.docker.getContainer(id).inspect()
  } catch (error) {
    if (statusOf(error) === 404) return null
    throw engineError(error)
  }
}

/** Removes the container (its anonymous volumes stay with the engine's rules; named volumes are kept); a missing one is fine. */
export async function removeContainer(engine: Engine, id: string): Promise<void> {
  try {
    await engine.docker.getContainer(id).remove({ force: true })
  } catch (error) {
    if (statusOf(error) !== 404) throw engineError(error)
  }
}

/** Stops the container (SIGTERM, then SIGKILL after timeoutSec); one already stopped is fine. */
export async function stopContainer(engine: Engine, id: string, timeoutSec: number): Promise<void> {
  try {
    await engine.docker.getContainer(id).stop({ t: timeoutSec })
  } catch (error) {
    if (statusOf(error) !== 304) throw engineError(error)
  }
}

/** Starts the container; one already running is fine. */
export async function startContainer(engine: Engine, id: string): Promise<void> {
  try {
    await engine.docker.getContainer(id).start()
  } catch (error) {
    if (statusOf(error) !== 304) throw engineError(error)
  }
}

export async function restartContainer(engine: Engine, id: string, timeoutSec: number): Promise<void> {
  try {
    await engine.docker.getContainer(id).restart({ t: timeoutSec })
  } catch (error) {
    throw engineError(error)
  }
}
