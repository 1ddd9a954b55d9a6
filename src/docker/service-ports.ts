/**
 * @module Host ports of Docker services. The claim `ports/claim/service/<port>` (the same ifAbsent claim
 * that makes proxy instances' ports exclusive, ports/claims.ts) names the one service that holds a port,
 * so of any number of nodes creating services at once no two get the same port. A claimed port is also
 * tried on the host before it is used: something outside our claims (another program, a container of
 * another deployment) may hold it.
 *
 * The rule for a port asked for by number: it must not be in SERVICE_PORTS_RESTRICTED, no service and no
 * proxy instance may hold it, and it must be free on the host. It may lie outside SERVICE_PORTS: the range
 * is where "auto" ports come from, not a fence.
 */
import { keys, type Store } from '../store/index.ts'
import { probeHostPort, type HostPortState } from './host-probe.ts'
import type { AllocatedPort, PortConfig } from './model.ts'
import { DockerServiceError } from './service-error.ts'

export interface ServicePortSettings {
  /** SERVICE_PORTS: where "auto" ports come from. */
  readonly range: { readonly first: number; readonly last: number }
  /** SERVICE_PORTS_RESTRICTED: never handed out. */
  readonly restricted: ReadonlySet<number>
  /** False when the engine is not on this host (a remote DOCKER_HOST): binding here would prove nothing. */
  readonly probeHost: boolean
}

export interface PortCheck {
  readonly port: number
  readonly bind_address: string
  readonly available: boolean
  readonly reason: string | null
}

export interface ServicePorts {
  /**
   * Host ports for configs, in their order. A config whose port this service already holds (`held`,
   * same number, or "auto" matched by port name) keeps it without a new claim. On any refusal every
   * claim this call made is freed before it throws: conflict (held, in use), invalid (restricted), or
   * conflict when SERVICE_PORTS has no free port left.
   */
  allocate(service: string, configs: readonly PortConfig[], held: readonly AllocatedPort[]): Promise<AllocatedPort[]>
  /** Frees the claims on these ports that still name service. */
  release(service: string, ports: readonly number[]): Promise<void>
  /** Up to limit ports of SERVICE_PORTS that are neither restricted, claimed, nor in use on the host, lowest first. */
  available(limit: number): Promise<number[]>
  check(port: number, bindAddress: string): Promise<PortCheck>
  /** Every service port claim: port → the service that holds it. */
  claims(): Promise<Map<number, string>>
}

const CLAIM_KIND = 'service'
/** Proxy instances' loopback ports: a service may not take one (their ranges can overlap SERVICE_PORTS). */
const INSTANCE_KINDS = ['http', 'https']

export function createServicePorts(store: Store, settings: ServicePortSettings): ServicePorts {
  const { range, restricted } = settings
  const size = range.last - range.first + 1

  const probe = (bindAddress: string, port: number, protocol: 'tcp' | 'udp'): Promise<HostPortState> =>
    settings.probeHost ? probeHostPort(bindAddress, port, protocol) : Promise.resolve('free')

  /** Ports any service or proxy instance has claimed (keys only: one listing per kind). */
  async function claimedPorts(): Promise<Set<number>> {
    const found = new Set<number>()
    for (const kind of [CLAIM_KIND, ...INSTANCE_KINDS]) {
      const prefix = keys.portClaims(kind)
      for (const key of await store.list(prefix)) found.add(Number(key.slice(prefix.length)))
    }
    return found
  }

  /** Who other than a service holds the port (a proxy instance's hostname), or null. */
  async function instanceHolder(port: number): Promise<string | null> {
    for (const kind of INSTANCE_KINDS) {
      const holder = await store.get(keys.portClaim(kind, port))
      if (holder) return holder.value
    }
    return null
  }

  const tryClaim = async (service: string, port: number) => (await store.put(keys.portClaim(CLAIM_KIND, port), service, { ifAbsent: true })) !== null

  async function freeClaim(service: string, port: number): Promise<void> {
    const key = keys.portClaim(CLAIM_KIND, port)
    const holder = await store.get(key)
    if (holder?.value === service) await store.del(key, { ifVersion: holder.version })
  }

  async function claimExplicit(service: string, config: PortConfig & { host_port: number }, field: string): Promise<void> {
    const port = config.host_port
    if (restricted.has(port)) throw new DockerServiceError('invalid', `host port ${port} is restricted (SERVICE_PORTS_RESTRICTED)`, field)
    const instance = await instanceHolder(port)
    if (instance !== null) throw new DockerServiceError('conflict', `host port ${port} is held by the proxy instance of ${instance}`)
    if (!(await tryClaim(service, port))) {
      const holder = await store.get(keys.portClaim(CLAIM_KIND, port))
      throw new DockerServiceError('conflict', `host port ${port} is held by service ${holder?.value ?? 'another service'}`)
    }
    const state = await probe(config.bind_address, port, config.protocol)
    if (state !== 'free') {
      await freeClaim(service, port)
      throw state === 'in_use'
        ? new DockerServiceError('conflict', `host port ${port} is in use on this host (${config.bind_address}, ${config.protocol})`)
        : new DockerServiceError('invalid', `${config.bind_address} is not an address of this host`, field.replace(/host_port$/, 'bind_address'))
    }
  }

  async function claimAuto(service: string, config: PortConfig, taken: ReadonlySet<number>, field: string): Promise<number> {
    const claimed = await claimedPorts()
    // A random start spreads concurrent creations over the range instead of racing for its first port.
    const offset = Math.floor(Math.random() * size)
    for (let step = 0; step < size; step++) {
      const port = range.first + ((offset + step) % size)
      if (restricted.has(port) || taken.has(port) || claimed.has(port)) continue
      if ((await instanceHolder(port)) !== null || !(await tryClaim(service, port))) continue
      const state = await probe(config.bind_address, port, config.protocol)
      if (state === 'free') return port
      await freeClaim(service, port)
      if (state === 'not_local') throw new DockerServiceError('invalid', `${config.bind_address} is not an address of this host`, field.replace(/host_port$/, 'bind_address'))
    }
    throw new DockerServiceError('conflict', `no free host port left in SERVICE_PORTS ${range.first}-${range.last}`)
  }

  return {
    async allocate(service, configs, held) {
      const duplicate = configs.find((config, i) => typeof config.host_port === 'number' && configs.findIndex((other) => other.host_port === config.host_port) !== i)
      if (duplicate) throw new DockerServiceError('invalid', `host port ${duplicate.host_port} is given twice`, `port_configs[${configs.indexOf(duplicate)}].host_port`)
      // An auto port never takes a number another config of this service asks for, nor one it holds.
      const reserved = new Set([...held.map((port) => port.host_port), ...configs.flatMap((config) => (typeof config.host_port === 'number' ? [config.host_port] : []))])
      const claimedHere: number[] = []
      const allocated: AllocatedPort[] = []
      try {
        for (const [index, config] of configs.entries()) {
          const field = `port_configs[${index}].host_port`
          const kept = config.host_port === 'auto' ? held.find((port) => port.auto && port.name === config.name && port.protocol === config.protocol && port.bind_address === config.bind_address) : held.find((port) => port.host_port === config.host_port)
          // Each held port serves one config: a second config cannot reuse it.
          if (kept && !allocated.some((port) => port.host_port === kept.host_port)) {
            allocated.push({ ...config, host_port: kept.host_port, auto: config.host_port === 'auto' })
            continue
          }
          const taken = new Set([...reserved, ...allocated.map((port) => port.host_port)])
          let port: number
          if (config.host_port === 'auto') port = await claimAuto(service, config, taken, field)
          else {
            await claimExplicit(service, { ...config, host_port: config.host_port }, field)
            port = config.host_port
          }
          claimedHere.push(port)
          allocated.push({ ...config, host_port: port, auto: config.host_port === 'auto' })
        }
        return allocated
      } catch (error) {
        await this.release(service, claimedHere)
        throw error
      }
    },
    async release(service, ports) {
      for (const port of ports) await freeClaim(service, port)
    },
    async available(limit) {
      const claimed = await claimedPorts()
      const found: number[] = []
      for (let port = range.first; port <= range.last && found.length < limit; port++) {
        if (restricted.has(port) || claimed.has(port)) continue
        if ((await probe('0.0.0.0', port, 'tcp')) === 'free') found.push(port)
      }
      return found
    },
    async check(port, bindAddress) {
      const answer = (reason: string | null) => ({ port, bind_address: bindAddress, available: reason === null, reason })
      if (restricted.has(port)) return answer('restricted (SERVICE_PORTS_RESTRICTED)')
      const service = await store.get(keys.portClaim(CLAIM_KIND, port))
      if (service) return answer(`held by service ${service.value}`)
      const instance = await instanceHolder(port)
      if (instance !== null) return answer(`held by the proxy instance of ${instance}`)
      const state = await probe(bindAddress, port, 'tcp')
      return answer(state === 'free' ? null : state === 'in_use' ? 'in use on this host' : `${bindAddress} is not an address of this host`)
    },
    async claims() {
      const prefix = keys.portClaims(CLAIM_KIND)
      const found = new Map<number, string>()
      for (const key of await store.list(prefix)) {
        const holder = await store.get(key)
        if (holder) found.set(Number(key.slice(prefix.length)), holder.value)
      }
      return found
    },
  }
}
