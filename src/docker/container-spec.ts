/**
 * @module A service's settings as the engine's container options, every field honoured; and the checks
 * that refuse, by field, what the engine must never see (run before anything touches the engine).
 */
import type Dockerode from 'dockerode'
import { DockerServiceError } from './service-error.ts'
import { checkBindOnHost, mountSource } from './bind-mount.ts'
import type { AllocatedPort, DockerService, PortConfig, UpdateDockerService } from './model.ts'

/** Every container we create carries both; a container without them is someone else's and is never touched. */
export const MANAGED_LABEL = 'io.oauth-https-proxy.managed'
export const SERVICE_LABEL = 'io.oauth-https-proxy.service'

export function ownerLabels(serviceName: string): Record<string, string> {
  return { [MANAGED_LABEL]: 'true', [SERVICE_LABEL]: serviceName }
}

/**
 * Capabilities a service may add back after `cap_drop: ALL`: Docker's own default set without NET_RAW
 * (raw sockets allow ARP and DNS spoofing of the other containers on a shared bridge), MKNOD (device
 * nodes) and SETFCAP (file capabilities). Anything else (SYS_ADMIN, NET_ADMIN, SYS_PTRACE...) is refused.
 */
export const ALLOWED_CAPABILITIES: readonly string[] = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_BIND_SERVICE', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']

/** The engine refuses less ("Minimum memory limit allowed is 6MB"); refusing it here names the field before any work. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024
const MEMORY_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

/** A read-only root still gets a writable /tmp, so ordinary programs (temp files, sockets, caches) work. */
const READ_ONLY_TMPFS = { '/tmp': 'rw,nosuid,nodev' } // its pages count against the memory limit
/** json-file is what logs.ts reads; bounded so a chatty service cannot fill the engine's disk. */
const LOG_CONFIG = { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } }

/** Docker's size form ("512m", "1g", "65536k", bytes) in bytes; throws 'invalid' naming memory_limit. */
export function parseMemory(text: string): number {
  const match = /^(\d{1,12})([bkmg]?)$/i.exec(text.trim())
  const bytes = match ? Number(match[1]) * MEMORY_UNITS[match[2]!.toLowerCase()]! : Number.NaN
  if (!Number.isSafeInteger(bytes)) throw new DockerServiceError('invalid', 'expected a size such as "512m", "1g" or a byte count', 'memory_limit')
  if (bytes < MIN_MEMORY_BYTES) throw new DockerServiceError('invalid', 'at least 6m: the engine refuses smaller memory limits', 'memory_limit')
  return bytes
}

/** "cap_net_bind_service" → "NET_BIND_SERVICE"; throws 'invalid' naming capabilities when not allowed. */
export function normalizeCapability(name: string): string {
  const bare = name.trim().toUpperCase().replace(/^CAP_/, '')
  if (!ALLOWED_CAPABILITIES.includes(bare)) throw new DockerServiceError('invalid', `capability ${JSON.stringify(name)} is refused; allowed: ${ALLOWED_CAPABILITIES.join(', ')}`, 'capabilities')
  return bare
}

/** What the engine needs besides the service: the image to run, the bind-mount root and the container's name. */
export interface ContainerContext {
  readonly imageRef: string
  readonly bindRoot: string | null
  readonly containerName: string
}

/**
 * The create options for the service's container. Pure: the same service gives the same options. Throws
 * the same 'invalid' DomainErrors as validateSpec for what it cannot express (it never emits privileged,
 * host networking or devices: nothing here can produce them).
 */
export function containerOptions(service: DockerService, ctx: ContainerContext): Dockerode.ContainerCreateOptions {
  const name = service.service_name
  const memory = parseMemory(service.memory_limit)
  const mounts = service.volumes.map((volume, index): Dockerode.MountSettings => {
    const source = mountSource(volume.source, index, ctx.bindRoot)
    if (source.kind === 'bind') return { Type: 'bind', Source: source.path, Target: volume.target, ReadOnly: volume.read_only }
    // The volume exists by now, created and labelled by named-volumes.ts (a volume not ours is refused there).
    return { Type: 'volume', Source: source.name, Target: volume.target, ReadOnly: volume.read_only }
  })
  const writesTmp = service.volumes.some((volume) => volume.target.replace(/\/+$/, '') === '/tmp')
  const { exposed, bindings } = publishedPorts(service.ports)
  const primary = primaryNetwork(service)
  return {
    name: ctx.containerName,
    Image: ctx.imageRef,
    Cmd: service.command,
    Env: Object.entries(service.environment).map(([key, value]) => `${key}=${value}`),
    Labels: { ...service.labels, ...ownerLabels(name) },
    User: service.user,
    ExposedPorts: exposed,
    Healthcheck: healthcheck(service),
    HostConfig: {
      Memory: memory,
      // Equal to Memory: no swap beyond the limit, so the limit is what the service really gets.
      MemorySwap: memory,
      NanoCpus: Math.round(service.cpu_limit * 1e9),
      PidsLimit: service.pids_limit,
      ReadonlyRootfs: service.read_only_root,
      Tmpfs: service.read_only_root && !writesTmp ? { ...READ_ONLY_TMPFS } : undefined,
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: [...new Set(service.capabilities.map(normalizeCapability))].sort(),
      SecurityOpt: service.no_new_privileges ? ['no-new-privileges'] : [],
      Init: service.init,
      Mounts: mounts,
      RestartPolicy: restartPolicy(service.restart_policy),
      NetworkMode: primary,
      PortBindings: bindings,
      LogConfig: LOG_CONFIG,
    },
    NetworkingConfig: isUserNetwork(primary) ? { EndpointsConfig: { [primary]: { Aliases: [name] } } } : undefined,
  }
}

/** The network the container is created on: network_mode when given, else the first of networks, else bridge. */
export function primaryNetwork(service: Pick<DockerService, 'network_mode' | 'networks'>): string {
  return service.network_mode ?? service.networks[0] ?? 'bridge'
}

/** Networks to connect after create (dockerd 20.10 takes one at create), each with the service name as alias. */
export function additionalNetworks(service: Pick<DockerService, 'network_mode' | 'networks'>): string[] {
  const primary = primaryNetwork(service)
  return service.networks.filter((network) => network !== primary)
}

/** The endpoint settings for connecting the container to one more network: the service name resolves there. */
export function networkEndpoint(serviceName: string): { Aliases: string[] } {
  return { Aliases: [serviceName] }
}

/** Aliases only work on user-defined networks, not on the default bridge. */
function isUserNetwork(network: string): boolean {
  return network !== 'bridge' && network !== 'none' && network !== 'default'
}

function publishedPorts(ports: readonly AllocatedPort[]) {
  const exposed: Record<string, object> = {}
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {}
  for (const port of ports) {
    const key = `${port.container_port}/${port.protocol}`
    exposed[key] = {}
    ;(bindings[key] ??= []).push({ HostIp: port.bind_address, HostPort: String(port.host_port) })
  }
  return { exposed, bindings }
}

function restartPolicy(policy: string): Dockerode.HostRestartPolicy {
  const [name, retries] = policy.split(':')
  return retries === undefined ? { Name: name! } : { Name: name!, MaximumRetryCount: Number(retries) }
}

/** Seconds in the model, nanoseconds for the engine. No healthcheck given: the image's own (if any) applies. */
function healthcheck(service: DockerService): Dockerode.HealthConfig | undefined {
  const check = service.healthcheck
  if (!check) return undefined
  const ns = (sec: number) => Math.round(sec * 1e9)
  return { Test: check.test, Interval: ns(check.interval_sec), Timeout: ns(check.timeout_sec), Retries: check.retries, StartPeriod: ns(check.start_period_sec) }
}

/** A create or update body (ports as port_configs / internal_port) or a stored service (ports allocated). */
export type ServiceSettings = Omit<UpdateDockerService, 'port_configs' | 'internal_port'> & {
  readonly port_configs?: readonly PortConfig[]
  readonly internal_port?: number
  readonly ports?: readonly AllocatedPort[]
}

/**
 * Every check of a service's settings that does not need the engine, throwing 'invalid' naming the field:
 * memory, capabilities, volume sources (named, or bind under bindRoot, symbolic links resolved on this
 * host) and targets, networks, ports. privileged, host networking and devices are refused by the schema
 * already; they are refused again here because a caller that skipped it must still never reach the engine
 * with them.
 */
export function validateSpec(spec: ServiceSettings, options: { readonly bindRoot: string | null }): void {
  const unsafe = spec as { privileged?: unknown; network_mode?: unknown; devices?: unknown }
  if (unsafe.privileged !== undefined && unsafe.privileged !== false) throw new DockerServiceError('invalid', 'privileged containers are refused', 'privileged')
  if (unsafe.network_mode !== undefined && unsafe.network_mode !== 'bridge' && unsafe.network_mode !== 'none') throw new DockerServiceError('invalid', 'only "bridge" or "none": the host network is refused', 'network_mode')
  if (unsafe.devices !== undefined && (!Array.isArray(unsafe.devices) || unsafe.devices.length > 0)) throw new DockerServiceError('invalid', 'device mappings are refused', 'devices')

  parseMemory(spec.memory_limit)
  spec.capabilities.forEach(normalizeCapability)
  checkVolumes(spec, options.bindRoot)
  checkNetworks(spec)
  checkPorts(spec)
}

function checkVolumes(spec: ServiceSettings, bindRoot: string | null): void {
  const targets = new Set<string>()
  spec.volumes.forEach((volume, index) => {
    const source = mountSource(volume.source, index, bindRoot)
    if (source.kind === 'bind') checkBindOnHost(source.path, index, bindRoot!)
    const target = volume.target.replace(/(.)\/+$/, '$1')
    if (target === '/' || target.split('/').includes('..')) throw new DockerServiceError('invalid', 'expected an absolute path other than / (no ..)', `volumes[${index}].target`)
    if (targets.has(target)) throw new DockerServiceError('invalid', `${target} is mounted twice`, `volumes[${index}].target`)
    targets.add(target)
  })
}

function checkNetworks(spec: ServiceSettings): void {
  const seen = new Set<string>()
  spec.networks.forEach((network, index) => {
    const field = `networks[${index}]`
    if (network === 'host') throw new DockerServiceError('invalid', 'the host network is refused', field)
    if (network === 'none') throw new DockerServiceError('invalid', 'use network_mode "none" for no network', field)
    if (seen.has(network)) throw new DockerServiceError('invalid', `${network} is listed twice`, field)
    seen.add(network)
  })
  if (spec.network_mode === 'none' && spec.networks.length > 0) throw new DockerServiceError('invalid', 'network_mode "none" joins no network', 'networks')
}

function checkPorts(spec: ServiceSettings): void {
  const field = spec.port_configs ? 'port_configs' : spec.internal_port !== undefined ? 'internal_port' : 'ports'
  const ports = spec.port_configs ?? spec.ports ?? (spec.internal_port !== undefined ? [{ name: 'http' }] : [])
  if (ports.length > 0 && spec.network_mode === 'none') throw new DockerServiceError('invalid', 'a container with network_mode "none" cannot publish ports', field)
  const names = new Set<string>()
  const hostPorts = new Set<string>()
  ports.forEach((port, index) => {
    if (names.has(port.name)) throw new DockerServiceError('invalid', `port name ${port.name} is used twice`, `${field}[${index}].name`)
    names.add(port.name)
    const { host_port: hostPort, bind_address: address, protocol } = port as Partial<PortConfig>
    if (typeof hostPort !== 'number') return
    const key = `${address}|${hostPort}|${protocol}`
    if (hostPorts.has(key)) throw new DockerServiceError('invalid', `host port ${hostPort}/${protocol} on ${address} is asked for twice`, `${field}[${index}].host_port`)
    hostPorts.add(key)
  })
}
