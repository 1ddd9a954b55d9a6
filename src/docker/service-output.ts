/** @module A service's logs and stats, read from its container (logs.ts, stats.ts); a service whose container is gone is a 409. */
import { DomainError } from '../lib/index.ts'
import type { Engine } from './engine.ts'
import { followLogs, readLogs } from './logs.ts'
import type { DockerService } from './model.ts'
import { DockerServiceError } from './service-error.ts'
import { readStats } from './stats.ts'
import type { ServiceLogLine, ServiceLogOptions, ServiceStats } from './types.ts'

const gone = (service: DockerService) => new DockerServiceError('conflict', `the container of ${service.service_name} is gone; update the service (PUT) to create it again`)

function containerOf(engine: Engine, service: DockerService) {
  if (!service.container_id) throw gone(service)
  return engine.docker.getContainer(service.container_id)
}

/** The engine's 404 for a container we know of means it was removed behind our back. */
async function orGone<T>(service: DockerService, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    throw error instanceof DomainError && error.kind === 'not_found' ? gone(service) : error
  }
}

export function serviceLogs(engine: Engine, service: DockerService, options: ServiceLogOptions): Promise<ServiceLogLine[]> {
  return orGone(service, () => readLogs(containerOf(engine, service), options))
}

/** Lines as they are written, until options.signal aborts or the container stops; the service is looked up when iteration starts. */
export async function* serviceLogStream(engine: Engine, lookup: () => Promise<DockerService>, options: ServiceLogOptions): AsyncGenerator<ServiceLogLine> {
  const service = await lookup()
  try {
    yield* followLogs(containerOf(engine, service), options)
  } catch (error) {
    throw error instanceof DomainError && error.kind === 'not_found' ? gone(service) : error
  }
}

export function serviceStats(engine: Engine, service: DockerService): Promise<ServiceStats> {
  return orGone(service, () => readStats(containerOf(engine, service)))
}
