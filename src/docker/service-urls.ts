/**
 * @module Where `service://<name>[:<port>]` of a Docker service points, held in memory for the decision
 * step (which does no I/O): each service's published ports, kept current by this node's own changes, by
 * service_changed from every node, and by each reconcile.
 */
import type { AllocatedPort, DockerService } from './model.ts'

export interface ServiceUrls {
  urlOf(name: string, portName?: string): string | undefined
  set(service: Pick<DockerService, 'service_name' | 'ports'>): void
  delete(name: string): void
  /** Replaces everything (a reload from the store). */
  replaceAll(services: readonly Pick<DockerService, 'service_name' | 'ports'>[]): void
}

/** The address the edge dials: a wildcard bind is reached on loopback; IPv6 goes in brackets (RFC 3986 §3.2.2). */
function hostOf(bindAddress: string): string {
  if (bindAddress === '0.0.0.0') return '127.0.0.1'
  if (bindAddress === '::') return '[::1]'
  return bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress
}

export function createServiceUrls(): ServiceUrls {
  const ports = new Map<string, readonly AllocatedPort[]>()
  return {
    urlOf(name, portName) {
      const published = ports.get(name)
      // A proxy speaks HTTP over TCP: the first tcp port, or the one named (a udp port is never a target).
      const port = published?.find((candidate) => candidate.protocol === 'tcp' && (portName === undefined || candidate.name === portName))
      return port ? `http://${hostOf(port.bind_address)}:${port.host_port}` : undefined
    },
    set(service) {
      ports.set(service.service_name, service.ports)
    },
    delete(name) {
      ports.delete(name)
    },
    replaceAll(services) {
      ports.clear()
      for (const service of services) ports.set(service.service_name, service.ports)
    },
  }
}
