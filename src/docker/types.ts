/**
 * @module The contract between the Docker services manager (docker/) and its callers: the API, the
 * CLI through the API, the routing state (service://name[:port]) and the composition root.
 */
import type { AllocatedPort, CreateDockerService, DockerService, PortConfig, UpdateDockerService } from './model.ts'

export interface ServiceLogLine {
  readonly stream: 'stdout' | 'stderr'
  /** RFC 3339 with nanoseconds, as the engine stamps it. */
  readonly time: string
  readonly text: string
}

export interface ServiceLogOptions {
  readonly tail?: number
  /** Seconds since the epoch. */
  readonly since?: number
  readonly signal?: AbortSignal
}

export interface ServiceStats {
  readonly cpu_percent: number
  readonly memory_usage: number
  readonly memory_limit: number
  readonly memory_percent: number
  readonly network_rx_bytes: number
  readonly network_tx_bytes: number
  readonly block_read_bytes: number
  readonly block_write_bytes: number
  readonly pids: number
}

/** A container the engine has that we did not create: listed read-only, never touched. */
export interface ForeignContainer {
  readonly container_id: string
  readonly name: string
  readonly image: string
  readonly state: string
}

export interface CleanupReport {
  /** Our containers with no stored service (removed). */
  readonly containers_removed: string[]
  /** Stored services whose container is gone (kept, reported as missing: nothing is recreated silently). */
  readonly services_missing: string[]
  /** Port claims held by no service (freed). */
  readonly ports_released: number[]
  /** Named volumes of ours no stored service mounts: listed, never removed (their data is the operator's to drop). */
  readonly volumes_unused: string[]
}

export interface HostPortUse {
  readonly port: number
  readonly service_name: string
  readonly port_name: string
  readonly bind_address: string
  readonly protocol: 'tcp' | 'udp'
}

/**
 * Every method throws a DomainError (lib/domain-error.ts): not_found, conflict (name taken, port held),
 * invalid with the field at fault (a limit the engine refuses, a bind mount outside the root), or
 * unavailable (the engine does not answer).
 */
export interface DockerServices {
  list(): Promise<DockerService[]>
  get(name: string): Promise<DockerService | null>
  /** Builds or pulls the image, claims ports, creates and starts the container; undoes all of it on failure. */
  create(spec: CreateDockerService, actor: string | null): Promise<DockerService>
  /** Recreates the container with the new settings; named volumes and host ports that did not change are kept. */
  update(name: string, spec: UpdateDockerService): Promise<DockerService>
  /** Removes the container and frees its ports; named volumes are kept. */
  remove(name: string): Promise<void>
  start(name: string): Promise<DockerService>
  stop(name: string): Promise<DockerService>
  restart(name: string): Promise<DockerService>
  logs(name: string, options: ServiceLogOptions): Promise<ServiceLogLine[]>
  /** New lines as they come, until the signal aborts or the container is removed. */
  followLogs(name: string, options: ServiceLogOptions): AsyncIterable<ServiceLogLine>
  stats(name: string): Promise<ServiceStats>
  cleanup(): Promise<CleanupReport>
  foreign(): Promise<ForeignContainer[]>

  /** Ports: every host port held by a service, free ports of SERVICE_PORTS, and one port's status. */
  hostPorts(): Promise<HostPortUse[]>
  availablePorts(limit: number): Promise<number[]>
  checkPort(port: number, bindAddress: string): Promise<{ port: number; bind_address: string; available: boolean; reason: string | null }>
  addPort(name: string, port: PortConfig): Promise<DockerService>
  updatePort(name: string, portName: string, port: PortConfig): Promise<DockerService>
  removePort(name: string, portName: string): Promise<DockerService>

  /** The backend URL of service://name (its first port) or service://name:port, from memory; undefined when unknown. */
  urlOf(name: string, portName?: string): string | undefined
  /** Loads the services' URLs from the store and follows other nodes' changes; the engine is not asked (start-up, before the edge serves). */
  loadFromStore(): Promise<void>
  /** loadFromStore(), then reconciles with the engine now and follows its event stream until stop. */
  startReconciling(): Promise<void>
  stopReconciling(): Promise<void>
}

export type { AllocatedPort }
