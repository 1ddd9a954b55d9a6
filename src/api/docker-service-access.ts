/** @module What every /services route shares: its tag, the {name} parameter, and the manager or a 503, the service or a 404. */
import * as v from 'valibot'
import type { DockerService, DockerServices } from '../docker/index.ts'
import { ServiceNameSchema } from '../lib/index.ts'
import { ApiError } from './errors.ts'

export const TAG = 'docker services'
export const NameParams = v.object({ name: ServiceNameSchema })
export const NOT_FOUND = { description: 'no Docker service by that name' }
export const UNAVAILABLE = { description: 'the Docker engine does not answer, or DOCKER_SERVICES=false' }

/** The manager, or a 503 when this server runs without Docker services: never a 500. */
export function managerOf(docker: DockerServices | null): DockerServices {
  if (docker) return docker
  throw new ApiError(503, 'temporarily_unavailable', 'Docker services are turned off on this server (DOCKER_SERVICES=false)')
}

/** The service, or a 404 naming it. */
export async function existingService(docker: DockerServices, name: string): Promise<DockerService> {
  const service = await docker.get(name)
  if (!service) throw new ApiError(404, 'not_found', `no Docker service named ${name}`)
  return service
}
