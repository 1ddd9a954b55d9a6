/**
 * @module `oauth-https-proxy service …`: Docker services (service-docker.ts, service-logs.ts,
 * service-ports.ts) and `service external list|show|create|update|delete` (/services/external):
 * names for backend URLs that proxies (service://NAME) and routes (--to-service NAME) point at.
 */
import { defineCommand } from 'citty'
import { API_ARGS, apiPath, createApiClient, printJsonOrTable, printRecord, type Column } from '../client/index.ts'
import { defineApiCommand, given, requiredText, usageError } from './flags.ts'
import { deleteWithForceHint, printDone } from './results.ts'
import { dockerServiceCommands } from './service-docker.ts'
import { logsCommand } from './service-logs.ts'
import { servicePortsCommand } from './service-ports.ts'

const CLI = 'oauth-https-proxy service external'

const COLUMNS: Column[] = [
  { key: 'service_name', header: 'name' },
  { key: 'target_url', header: 'target' },
  { key: 'description', header: 'description' },
]

const NAME_ARG = { name: { type: 'positional', required: true, valueHint: 'name', description: 'the service\'s name' } } as const
const FIELD_ARGS = {
  'target-url': { type: 'string', valueHint: 'url', description: 'the backend URL (http:// when no scheme)' },
  description: { type: 'string', valueHint: 'text', description: 'free text, at most 500 characters' },
} as const

const list = defineApiCommand({
  meta: { name: 'list', description: `List external services by name\nExample: ${CLI} list` },
  args: { ...API_ARGS },
  async run({ args }) {
    printJsonOrTable(await createApiClient(args).get('/services/external'), COLUMNS, { ...args, empty: 'no external services' })
  },
})

const show = defineApiCommand({
  meta: { name: 'show', description: `Show one external service\nExample: ${CLI} show api` },
  args: { ...NAME_ARG, ...API_ARGS },
  async run({ args }) {
    printRecord(await createApiClient(args).get<Record<string, unknown>>(apiPath`/services/external/${args.name}`), { ...args, idKey: 'service_name' })
  },
})

const create = defineApiCommand({
  meta: {
    name: 'create',
    description: `Register an external service: a name for a backend URL\nExample: ${CLI} create --name api --target-url http://10.0.0.5:8080 --description "billing API"`,
  },
  args: {
    name: { type: 'string', required: true, valueHint: 'name', description: '1-63 lower-case letters, digits, "_" or "-"' },
    ...FIELD_ARGS,
    'target-url': { ...FIELD_ARGS['target-url'], required: true },
    ...API_ARGS,
  },
  async run({ args }) {
    const body = { service_name: requiredText('name', args.name), target_url: requiredText('target-url', args['target-url']), ...given({ description: args.description }) }
    printRecord(await createApiClient(args).post<Record<string, unknown>>('/services/external', body), { ...args, idKey: 'service_name' })
  },
})

const update = defineApiCommand({
  meta: {
    name: 'update',
    description: `Change an external service; what points at it follows at its next request\nExample: ${CLI} update api --target-url http://10.0.0.6:8080`,
  },
  args: { ...NAME_ARG, ...FIELD_ARGS, ...API_ARGS },
  async run({ args }) {
    const body = given({ target_url: args['target-url'], description: args.description })
    if (Object.keys(body).length === 0) throw usageError('nothing to change: give --target-url or --description')
    printRecord(await createApiClient(args).put<Record<string, unknown>>(apiPath`/services/external/${args.name}`, body), { ...args, idKey: 'service_name' })
  },
})

const remove = defineApiCommand({
  meta: {
    name: 'delete',
    description: `Delete an external service. Refused while proxies or routes point at it, unless --force\nExample: ${CLI} delete api\nExample: ${CLI} delete api --force`,
  },
  args: {
    ...NAME_ARG,
    force: { type: 'boolean', description: 'delete even when proxies or routes point at it (they answer 502 until changed)' },
    ...API_ARGS,
  },
  async run({ args }) {
    await deleteWithForceHint(() => createApiClient(args).delete(apiPath`/services/external/${args.name}`, args.force ? { force: true } : undefined))
    printDone(`deleted external service ${args.name}`, args.name, args)
  },
})

const external = defineCommand({
  meta: { name: 'external', description: 'External services: named backend URLs' },
  subCommands: { list, show, create, update, delete: remove },
})

export const serviceCommand = defineCommand({
  meta: { name: 'service', description: 'Services that proxies and routes point at: Docker services this server runs, and external ones' },
  subCommands: { ...dockerServiceCommands, logs: logsCommand, ports: servicePortsCommand, external },
})
