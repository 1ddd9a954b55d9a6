/**
 * @module `oauth-https-proxy service ports list|available|check|add|update|delete`: the host ports of
 * Docker services (/services/ports…, /services/{name}/ports…). A change to a service's ports
 * recreates its container with them.
 */
import { defineCommand } from 'citty'
import { API_ARGS, apiPath, createApiClient, printJsonOrTable, printRecord, type Column } from '../client/index.ts'
import { choices, defineApiCommand, given, optionalInteger, parseInteger, requiredText } from './flags.ts'
import { printDone } from './results.ts'

const CLI = 'oauth-https-proxy service ports'

const HELD_COLUMNS: Column[] = [
  { key: 'port', header: 'port' },
  { key: 'service_name', header: 'service' },
  { key: 'port_name', header: 'name' },
  { key: 'bind_address', header: 'bind' },
  { key: 'protocol', header: 'protocol' },
]

const SERVICE_PORT_COLUMNS: Column[] = [
  { key: 'name', header: 'name' },
  { key: 'container_port', header: 'container' },
  { key: 'host_port', header: 'host', format: (value, row) => `${String(value)}${row.auto ? ' (auto)' : ''}` },
  { key: 'bind_address', header: 'bind' },
  { key: 'protocol', header: 'protocol' },
  { key: 'description', header: 'description' },
]

const SERVICE_ARG = { service: { type: 'positional', required: true, valueHint: 'service', description: 'the service\'s name' } } as const
const PORT_NAME_ARG = { 'port-name': { type: 'positional', required: true, valueHint: 'port-name', description: 'the port\'s name' } } as const

const PORT_ARGS = {
  'container-port': { type: 'string', valueHint: 'port', description: 'the port inside the container' },
  'host-port': { type: 'string', valueHint: 'port|auto', description: 'the host port, or auto (default): a free port of SERVICE_PORTS' },
  'bind-address': { type: 'string', valueHint: 'ip', description: 'the host address to bind (default 127.0.0.1: only this host can reach it)' },
  protocol: { type: 'enum', options: choices('tcp', 'udp'), valueHint: 'tcp|udp', description: 'default tcp' },
  description: { type: 'string', valueHint: 'text', description: 'free text, at most 200 characters' },
} as const

type PortFlags = { readonly [K in keyof typeof PORT_ARGS]?: string }

function portBody(args: PortFlags): Record<string, unknown> {
  const hostPort = args['host-port']
  return given({
    container_port: parseInteger('container-port', requiredText('container-port', args['container-port'])),
    host_port: hostPort === undefined || hostPort === 'auto' ? hostPort : optionalInteger('host-port', hostPort),
    bind_address: args['bind-address'],
    protocol: args.protocol,
    description: args.description,
  })
}

const list = defineApiCommand({
  meta: {
    name: 'list',
    description: `Host ports held by Docker services, or with a service name, that service's ports\nExample: ${CLI} list\nExample: ${CLI} list web --json`,
  },
  args: { service: { type: 'positional', required: false, valueHint: 'service', description: 'only this service\'s ports' }, ...API_ARGS },
  async run({ args }) {
    const client = createApiClient(args)
    if (args.service === undefined) return printJsonOrTable(await client.get('/services/ports'), HELD_COLUMNS, { ...args, empty: 'no host ports held' })
    printJsonOrTable(await client.get(apiPath`/services/${args.service}/ports`), SERVICE_PORT_COLUMNS, { ...args, empty: `service ${args.service} publishes no port` })
  },
})

const available = defineApiCommand({
  meta: { name: 'available', description: `Free host ports of SERVICE_PORTS, lowest first\nExample: ${CLI} available --limit 5` },
  args: { limit: { type: 'string', valueHint: 'n', description: 'how many (default 20, at most 1000)' }, ...API_ARGS },
  async run({ args }) {
    const ports = await createApiClient(args).get<number[]>('/services/ports/available', { limit: optionalInteger('limit', args.limit) ?? undefined })
    printJsonOrTable(Array.isArray(ports) ? ports.map((port) => ({ port })) : ports, [{ key: 'port', header: 'port' }], { ...args, empty: 'no free port in SERVICE_PORTS' })
  },
})

const check = defineApiCommand({
  meta: { name: 'check', description: `Whether a host port can be given to a service\nExample: ${CLI} check 20080\nExample: ${CLI} check 20080 --bind-address 0.0.0.0` },
  args: {
    port: { type: 'positional', required: true, valueHint: 'port', description: 'the host port' },
    'bind-address': PORT_ARGS['bind-address'],
    ...API_ARGS,
  },
  async run({ args }) {
    const body = { port: parseInteger('port', args.port), ...given({ bind_address: args['bind-address'] }) }
    printRecord(await createApiClient(args).post<Record<string, unknown>>('/services/ports/check', body), { ...args, idKey: 'port' })
  },
})

const add = defineApiCommand({
  meta: {
    name: 'add',
    description: `Publish one more port of a service (its container is recreated)\nExample: ${CLI} add web --port-name admin --container-port 9090\nExample: ${CLI} add web --port-name metrics --container-port 9100 --host-port 20100`,
  },
  args: { ...SERVICE_ARG, 'port-name': { type: 'string', required: true, valueHint: 'name', description: 'the port\'s name (service://SERVICE:NAME names it)' }, ...PORT_ARGS, ...API_ARGS },
  async run({ args }) {
    const body = { name: requiredText('port-name', args['port-name']), ...portBody(args) }
    printRecord(await createApiClient(args).post<Record<string, unknown>>(apiPath`/services/${args.service}/ports`, body), { ...args, idKey: 'name' })
  },
})

const update = defineApiCommand({
  meta: {
    name: 'update',
    description: `Change one port of a service: its settings are replaced by the ones given (its container is recreated)\nExample: ${CLI} update web admin --container-port 9091 --host-port auto`,
  },
  args: { ...SERVICE_ARG, ...PORT_NAME_ARG, ...PORT_ARGS, ...API_ARGS },
  async run({ args }) {
    printRecord(await createApiClient(args).put<Record<string, unknown>>(apiPath`/services/${args.service}/ports/${args['port-name']}`, portBody(args)), { ...args, idKey: 'name' })
  },
})

const remove = defineApiCommand({
  meta: { name: 'delete', description: `Stop publishing one port and free its host port (its container is recreated)\nExample: ${CLI} delete web admin` },
  args: { ...SERVICE_ARG, ...PORT_NAME_ARG, ...API_ARGS },
  async run({ args }) {
    await createApiClient(args).delete(apiPath`/services/${args.service}/ports/${args['port-name']}`)
    printDone(`removed port ${args['port-name']} of service ${args.service}`, args['port-name'], args)
  },
})

export const servicePortsCommand = defineCommand({
  meta: { name: 'ports', description: 'Host ports of Docker services' },
  subCommands: { list, available, check, add, update, delete: remove },
})
