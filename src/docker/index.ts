/** @module Docker services: containers this server runs from the API and can publish on a hostname. */
export * from './model.ts'
export type * from './types.ts'
export { createEngine, engineError, type Engine } from './engine.ts'
export {
  additionalNetworks,
  ALLOWED_CAPABILITIES,
  containerOptions,
  MANAGED_LABEL,
  MIN_MEMORY_BYTES,
  networkEndpoint,
  normalizeCapability,
  ownerLabels,
  parseMemory,
  primaryNetwork,
  SERVICE_LABEL,
  validateSpec,
  type ContainerContext,
  type ServiceSettings,
} from './container-spec.ts'
export { createLogDemuxer, followLogs, readLogs, type FollowLogsOptions, type LogDemuxer, type ReadLogsOptions } from './logs.ts'
export { readStats, toServiceStats, type RawStats } from './stats.ts'
export { BUILD_REPOSITORY, ensureImage, pullReference, type ImageRequest, type ImageSource, type ResolvedImage } from './image.ts'
export { createDockerServices, type DockerServicesDeps, type DockerServicesSettings } from './services.ts'
