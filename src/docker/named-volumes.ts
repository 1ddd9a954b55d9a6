/**
 * @module A service's named volumes belong to this deployment. Each one is created by us, labelled like the
 * service's container (its labels, ownership and the deployment id), before anything else of the change
 * happens. A volume that exists without this deployment's label is someone else's (another application's
 * data, another server's) and is refused with a 400 naming `volumes[i].source`: the API must not become a
 * way to read or overwrite any volume the engine holds. Our volumes may be shared by our own services,
 * since the same operators run all of them.
 *
 * Volumes outlive the container: an update keeps them and a delete leaves them (data is never removed as
 * a side effect); only a volume this change created is removed again when the change fails.
 */
import { ownerLabels } from './container-spec.ts'
import { DEPLOYMENT_LABEL } from './deployment.ts'
import { engineError, type Engine } from './engine.ts'
import { mountSource } from './bind-mount.ts'
import type { DockerService } from './model.ts'
import { DockerServiceError } from './service-error.ts'
import type { Undo } from './undo.ts'

interface VolumeInfo {
  readonly Labels?: Record<string, string> | null
}

const statusOf = (error: unknown) => (error as { statusCode?: number } | null)?.statusCode

async function inspectVolume(engine: Engine, name: string, field: string): Promise<VolumeInfo | null> {
  try {
    return (await engine.docker.getVolume(name).inspect()) as VolumeInfo
  } catch (error) {
    if (statusOf(error) === 404) return null
    throw engineError(error, field)
  }
}

/**
 * Makes sure every named volume of the service exists and is this deployment's: creates the missing ones
 * (recorded in undo), and throws 'invalid' naming `volumes[i].source` for one that is not ours.
 */
export async function ensureNamedVolumes(engine: Engine, service: DockerService, deployment: string, bindRoot: string | null, undo: Undo): Promise<void> {
  for (const [index, volume] of service.volumes.entries()) {
    const source = mountSource(volume.source, index, bindRoot)
    if (source.kind !== 'volume') continue
    const field = `volumes[${index}].source`
    const existing = await inspectVolume(engine, source.name, field)
    let labels = existing?.Labels ?? null
    if (!existing) {
      const wanted = { ...service.labels, ...ownerLabels(service.service_name), [DEPLOYMENT_LABEL]: deployment }
      try {
        await engine.docker.createVolume({ Name: source.name, Labels: wanted })
      } catch (error) {
        throw engineError(error, field)
      }
      // Read back: when another caller made the volume first, the engine kept that one and its labels.
      labels = (await inspectVolume(engine, source.name, field))?.Labels ?? null
      if (labels?.[DEPLOYMENT_LABEL] === deployment) undo.push(`volume ${source.name}`, () => engine.docker.getVolume(source.name).remove())
    }
    if (labels?.[DEPLOYMENT_LABEL] !== deployment) {
      throw new DockerServiceError('invalid', `the volume ${source.name} exists and was not created by this server: a service mounts only volumes it creates (choose another name)`, field)
    }
  }
}
