/**
 * @module Where `service://<name>[:<port>]` of a Docker service points, held in memory for the decision
 * step (which does no I/O): each service's published ports, kept current by this node's own changes, by
 * service_changed from every node, and by each reconcile.
 */
import type { AllocatedPort, DockerService } from './model.ts'

type Published = Pick<DockerService, 'service_name' | 'ports'>

export interface ServiceUrls {
  urlOf(name: string, portName?: string): string | undefined
  set(service: Published): void
  delete(name: string): void
  /**
   * Replaces everything with what read() returns (a reload from the store), except the names set or
   * deleted while it was reading: those changes are newer than its snapshot.
   */
  reload(read: () => Promise<readonly Published[]>): Promise<void>
}

/** The address the edge dials: a wildcard bind is reached on loopback; IPv6 goes in brackets (RFC 3986 §3.2.2). */
function hostOf(bindAddress: string): string {
  if (bindAddress === '0.0.0.0') return '127.0.0.1'
  if (bindAddress === '::') return '[::1]'
  return bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress
}

/**
 * `network` (SERVICE_NETWORK): the server runs in a container on that network, where 127.0.0.1 is its own
 * loopback, so a service is dialled by its alias and container port (http://<name>:<container port>);
 * null: on the host, at the published host port.
 */
export function createServiceUrls(options: { readonly network: string | null } = { network: null }): ServiceUrls {
  const ports = new Map<string, readonly AllocatedPort[]>()
  /** Counts changes; a name's last change, so a reload that read before it leaves it alone. */
  let epoch = 0
  const changedAt = new Map<string, number>()
  return {
    urlOf(name, portName) {
      const published = ports.get(name)
      // A proxy speaks HTTP over TCP: the first tcp port, or the one named (a udp port is never a target).
      const port = published?.find((candidate) => candidate.protocol === 'tcp' && (portName === undefined || candidate.name === portName))
      if (!port) return undefined
      return options.network === null ? `http://${hostOf(port.bind_address)}:${port.host_port}` : `http://${name}:${port.container_port}`
    },
    set(service) {
      changedAt.set(service.service_name, ++epoch)
      ports.set(service.service_name, service.ports)
    },
    delete(name) {
      changedAt.set(name, ++epoch)
      ports.delete(name)
    },
    async reload(read) {
      const startEpoch = epoch
      const stored = new Map((await read()).map((service) => [service.service_name, service.ports]))
      for (const name of new Set([...ports.keys(), ...stored.keys()])) {
        if ((changedAt.get(name) ?? 0) > startEpoch) continue
        const published = stored.get(name)
        if (published) ports.set(name, published)
        else ports.delete(name)
      }
      for (const [name, at] of changedAt) if (at <= startEpoch) changedAt.delete(name)
    },
  }
}
