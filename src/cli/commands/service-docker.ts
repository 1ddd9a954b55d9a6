/**
 * @module `oauth-https-proxy service list|show|create|update|delete|start|stop|restart|stats|cleanup|proxy`
 * (/services): Docker services, containers the server runs and can publish on a hostname in the same
 * call (`create --auto-proxy`). Flags carry the API's field names; `--file` takes the whole spec.
 */
import { API_ARGS, apiPath, createApiClient, printJson, printJsonOrTable, printRecord, sanitize, type ApiArgs, type Column } from '../client/index.ts'
import { defineApiCommand, requiredText, usageError } from './flags.ts'
import { deleteWithForceHint, printDone, shortTime } from './results.ts'
import { mergeSpec, PROXY_ARGS, proxyFromFlags, readSpecFile, SPEC_ARGS, specFromFlags } from './service-spec.ts'

const CLI = 'oauth-https-proxy service'

interface PortRow {
  readonly name: string
  readonly container_port: number
  readonly host_port: number
  readonly bind_address: string
  readonly protocol: string
}

interface ServiceRow {
  readonly service_name: string
  readonly image?: string | null
  readonly status: string
  readonly exit_code?: number | null
  readonly ports?: readonly PortRow[]
  readonly created_at?: string
}

interface ForeignRow {
  readonly name: string
  readonly image: string
  readonly state: string
}

/** `http 127.0.0.1:20001->8080` for each port. */
export const portsText = (ports: readonly PortRow[] | undefined) =>
  !ports || ports.length === 0 ? '-' : ports.map((port) => `${port.name} ${port.bind_address.includes(':') ? `[${port.bind_address}]` : port.bind_address}:${port.host_port}->${port.container_port}${port.protocol === 'udp' ? '/udp' : ''}`).join(', ')

const COLUMNS: Column<ServiceRow>[] = [
  { key: 'service_name', header: 'name' },
  { key: 'image', header: 'image', format: (value) => (typeof value === 'string' && value !== '' ? value : '(Dockerfile)') },
  { key: 'status', header: 'status', format: (value, row) => (row.exit_code !== null && row.exit_code !== undefined && value === 'failed' ? `failed (exit ${row.exit_code})` : String(value)) },
  { key: 'ports', header: 'ports', format: (value) => portsText(value as PortRow[] | undefined) },
  { key: 'created_at', header: 'created', format: shortTime },
]

const NAME_ARG = { name: { type: 'positional', required: true, valueHint: 'name', description: 'the service\'s name' } } as const

const list = defineApiCommand({
  meta: {
    name: 'list',
    description:
      `List Docker services, and the engine's other containers (read-only, marked foreign) unless --owned-only\n` +
      `Example: ${CLI} list\n` +
      `Example: ${CLI} list --owned-only --json`,
  },
  args: { 'owned-only': { type: 'boolean', description: 'only the services this server runs' }, ...API_ARGS },
  async run({ args }) {
    const answer = await createApiClient(args).get<{ services: ServiceRow[]; foreign?: ForeignRow[]; warnings?: string[] }>('/services', args['owned-only'] ? { owned_only: true } : undefined)
    const foreign: ServiceRow[] = (answer.foreign ?? []).map((container) => ({ service_name: container.name, image: container.image, status: `${container.state} (foreign)` }))
    printJsonOrTable<ServiceRow>(answer, COLUMNS, { ...args, rows: args.quiet ? answer.services : [...answer.services, ...foreign], empty: 'no Docker services' })
    if (!args.json) for (const warning of answer.warnings ?? []) process.stderr.write(`warning: ${sanitize(warning)}\n`)
  },
})

const show = defineApiCommand({
  meta: { name: 'show', description: `Show one Docker service: settings, ports, status, health\nExample: ${CLI} show web` },
  args: { ...NAME_ARG, ...API_ARGS },
  async run({ args }) {
    printRecord(await createApiClient(args).get<Record<string, unknown>>(apiPath`/services/${args.name}`), { ...args, idKey: 'service_name' })
  },
})

const printWarnings = (warnings: unknown, args: Pick<ApiArgs, 'json'>) => {
  if (args.json || !Array.isArray(warnings)) return
  for (const warning of warnings) process.stderr.write(`warning: ${sanitize(String(warning))}\n`)
}

/** For people: where a published service answers. */
const printPublished = (proxy: { proxy_hostname?: string; enable_http?: boolean; enable_https?: boolean } | null, args: Pick<ApiArgs, 'json' | 'quiet'>) => {
  if (!proxy || args.json || args.quiet || !proxy.proxy_hostname) return
  const urls = [proxy.enable_https ? `https://${proxy.proxy_hostname}/` : '', proxy.enable_http ? `http://${proxy.proxy_hostname}/` : ''].filter(Boolean)
  process.stderr.write(`published at ${urls.join(' and ')}\n`)
}

const create = defineApiCommand({
  meta: {
    name: 'create',
    description:
      `Create a Docker service and start it; --auto-proxy also publishes it on a hostname (<name>.<BASE_DOMAIN> or --hostname), both or neither\n` +
      `Example: ${CLI} create --name web --image nginx:1.27 --internal-port 80 --auto-proxy\n` +
      `Example: ${CLI} create --name api --image registry.local:5000/api:2 --port http:8080 --env LOG=debug --memory-limit 256m --auto-proxy --hostname api.example.com --auth-enabled\n` +
      `Example: ${CLI} create --file web.yaml --auto-proxy`,
  },
  args: {
    name: { type: 'string', valueHint: 'name', description: 'service_name: 1-63 lower-case letters, digits, "_" or "-" (or in --file)' },
    ...SPEC_ARGS,
    'auto-proxy': { type: 'boolean', description: 'publish it: a proxy to service://NAME created in the same call' },
    ...PROXY_ARGS,
    ...API_ARGS,
  },
  async run({ args, repeated }) {
    const fromFile = args.file === undefined ? {} : readSpecFile(args.file)
    const spec = mergeSpec(fromFile, specFromFlags(args, repeated))
    const name = args.name ?? (typeof fromFile.service_name === 'string' ? fromFile.service_name : undefined)
    const proxy = proxyFromFlags(args, repeated)
    if (proxy && !args['auto-proxy']) throw usageError(`${Object.keys(proxy).map((field) => `--${field.replaceAll('_', '-')}`).join(', ')} only with --auto-proxy`)
    const body = { ...spec, service_name: requiredText('name', name), ...(args['auto-proxy'] ? { auto_proxy: true, ...(proxy ? { proxy } : {}) } : {}) }
    const answer = await createApiClient(args).post<{ service: Record<string, unknown>; proxy: Record<string, unknown> | null; warnings: string[] }>('/services', body)
    if (args.json) return printJson(answer)
    printRecord(answer.service, { ...args, idKey: 'service_name' })
    printPublished(answer.proxy, args)
    printWarnings(answer.warnings, args)
  },
})

/** The settings of a stored service as PUT takes them (its ports with the host ports it holds, so they are kept). */
export function specOfService(service: Record<string, unknown>): Record<string, unknown> {
  const { service_name: _name, kind: _kind, ports, status: _status, exit_code: _exit, status_detail: _detail, health_status: _health, container_id: _container, image_id: _imageId, created_by: _by, created_at: _at, updated_at: _updated, ...spec } = service
  const portConfigs = Array.isArray(ports) ? ports.map(({ auto: _auto, ...port }: Record<string, unknown>) => port) : []
  return { ...spec, port_configs: portConfigs }
}

const update = defineApiCommand({
  meta: {
    name: 'update',
    description:
      `Change a Docker service: the fields given change, the others stay; its container is recreated (named volumes and host ports kept)\n` +
      `Example: ${CLI} update web --memory-limit 1g --env LOG=info\n` +
      `Example: ${CLI} update web --file web.yaml`,
  },
  args: { ...NAME_ARG, ...SPEC_ARGS, ...API_ARGS },
  async run({ args, repeated }) {
    const client = createApiClient(args)
    const fromFlags = specFromFlags(args, repeated)
    if (args.file === undefined && Object.keys(fromFlags).length === 0) throw usageError('nothing to change: give --file or a field flag such as --image or --memory-limit')
    // Without a file, PUT's full settings are the service's own with the flags over them.
    const base = args.file === undefined ? specOfService(await client.get<Record<string, unknown>>(apiPath`/services/${args.name}`)) : readSpecFile(args.file)
    const { service_name: _ignored, ...spec } = mergeSpec(base, fromFlags)
    printRecord(await client.put<Record<string, unknown>>(apiPath`/services/${args.name}`, spec), { ...args, idKey: 'service_name' })
  },
})

const remove = defineApiCommand({
  meta: {
    name: 'delete',
    description:
      `Delete a Docker service (container removed, host ports freed, named volumes kept). Refused while proxies or routes point at it, unless --delete-proxy (for its proxies) or --force\n` +
      `Example: ${CLI} delete web --delete-proxy\n` +
      `Example: ${CLI} delete web --force`,
  },
  args: {
    ...NAME_ARG,
    'delete-proxy': { type: 'boolean', description: 'also delete the proxies whose target is this service' },
    force: { type: 'boolean', description: 'delete even when proxies or routes point at it (they answer 502 until changed)' },
    ...API_ARGS,
  },
  async run({ args }) {
    const query = { ...(args.force ? { force: true } : {}), ...(args['delete-proxy'] ? { delete_proxy: true } : {}) }
    await deleteWithForceHint(() => createApiClient(args).delete(apiPath`/services/${args.name}`, query))
    printDone(`deleted service ${args.name}`, args.name, args)
  },
})

const lifecycle = (action: 'start' | 'stop' | 'restart', description: string) =>
  defineApiCommand({
    meta: { name: action, description: `${description}\nExample: ${CLI} ${action} web` },
    args: { ...NAME_ARG, ...API_ARGS },
    async run({ args }) {
      const service = await createApiClient(args).post<ServiceRow & Record<string, unknown>>(apiPath`/services/${args.name}/${action}`)
      if (args.json) return printJson(service)
      if (args.quiet) return void process.stdout.write(`${sanitize(service.service_name)}\n`)
      process.stderr.write(`service ${sanitize(service.service_name)}: ${sanitize(String(service.status))}\n`)
    },
  })

const stats = defineApiCommand({
  meta: { name: 'stats', description: `One sample of a running service's CPU, memory, network, block I/O and processes\nExample: ${CLI} stats web` },
  args: { ...NAME_ARG, ...API_ARGS },
  async run({ args }) {
    printRecord(await createApiClient(args).get<Record<string, unknown>>(apiPath`/services/${args.name}/stats`), { ...args, idKey: 'service_name' })
  },
})

const cleanup = defineApiCommand({
  meta: {
    name: 'cleanup',
    description: `Remove our containers that have no service, free port claims no service holds, and list services whose container is gone\nExample: ${CLI} cleanup`,
  },
  args: { ...API_ARGS },
  async run({ args }) {
    printRecord(await createApiClient(args).post<Record<string, unknown>>('/services/cleanup'), args)
  },
})

const proxy = defineApiCommand({
  meta: {
    name: 'proxy',
    description:
      `Put an existing service behind a hostname: a proxy to service://NAME (<name>.<BASE_DOMAIN> unless --hostname)\n` +
      `Example: ${CLI} proxy web --hostname web.example.com\n` +
      `Example: ${CLI} proxy web --auth-enabled --auth-required-users alice,bob`,
  },
  args: { ...NAME_ARG, ...PROXY_ARGS, ...API_ARGS },
  async run({ args, repeated }) {
    const answer = await createApiClient(args).post<{ proxy: Record<string, unknown>; warnings: string[] }>(apiPath`/services/${args.name}/proxy`, proxyFromFlags(args, repeated) ?? {})
    if (args.json) return printJson(answer)
    printRecord(answer.proxy, { ...args, idKey: 'proxy_hostname' })
    printWarnings(answer.warnings, args)
  },
})

export const dockerServiceCommands = {
  list,
  show,
  create,
  update,
  delete: remove,
  start: lifecycle('start', 'Start a stopped (or failed) service'),
  stop: lifecycle('stop', 'Stop a service; its proxies answer 502 until it is started again'),
  restart: lifecycle('restart', 'Restart a service'),
  stats,
  cleanup,
  proxy,
}
