/**
 * @module `oauth-https-proxy route list|show|create|update|delete` (/routes). A route's target is one
 * of `--to-url`, `--to-port`, `--to-service` or `--to-proxy`: the flag names the target_type, its
 * value is the target_value. `--proxy` (repeatable) limits it to those proxies (scope proxy).
 */
import { defineCommand } from 'citty'
import { API_ARGS, apiPath, createApiClient, printJsonOrTable, printRecord, type Column } from '../client/index.ts'
import { choices, defineApiCommand, exclusive, given, optionalInteger, parseInteger, requiredText, usageError } from './flags.ts'
import { printDone } from './results.ts'

const CLI = 'oauth-https-proxy route'

export interface RouteRow {
  readonly route_id: string
  readonly path_pattern: string
  readonly is_regex: boolean
  readonly methods: readonly string[] | null
  readonly priority: number
  readonly target_type: string
  readonly target_value: string
  readonly scope: string
  readonly proxy_hostnames: readonly string[]
  readonly enabled: boolean
}

/** url targets as they are; the others as "port:3000", "service:api", "proxy:b.example.com". */
const targetText = (row: RouteRow) => (row.target_type === 'url' ? row.target_value : `${row.target_type === 'hostname' ? 'proxy' : row.target_type}:${row.target_value}`)

export const ROUTE_COLUMNS: Column<RouteRow>[] = [
  { key: 'route_id', header: 'id' },
  { key: 'priority', header: 'priority' },
  { key: 'path_pattern', header: 'path', format: (_, row) => (row.is_regex ? `~${row.path_pattern}` : row.path_pattern) },
  { key: 'methods', header: 'methods', format: (methods) => (Array.isArray(methods) && methods.length > 0 ? methods.join(',') : 'any') },
  { key: 'target_value', header: 'target', format: (_, row) => targetText(row) },
  { key: 'scope', header: 'scope', format: (_, row) => (row.scope === 'global' ? 'global' : row.proxy_hostnames.join(',')) },
  { key: 'enabled', header: 'enabled' },
]

const ROUTE_ID_ARG = { 'route-id': { type: 'positional', required: true, valueHint: 'route-id', description: 'the route\'s id (see: oauth-https-proxy route list)' } } as const

/** The settable fields, shared by create and update (update sends only what is given). */
const FIELD_ARGS = {
  path: { type: 'string', valueHint: 'path', description: 'path prefix (/api matches /api and /api/x), or a regular expression with --regex' },
  regex: { type: 'boolean', description: '--path is a regular expression (RE2, anchored at the start)', negativeDescription: '--path is a prefix' },
  method: { type: 'string', valueHint: 'method', description: 'an HTTP method it matches; repeatable; "*" (or none given on create) means any' },
  priority: { type: 'string', valueHint: '0-999', description: 'higher is tried first (default 50)' },
  'to-url': { type: 'string', valueHint: 'url', description: 'target: a backend URL (http:// when no scheme)' },
  'to-port': { type: 'string', valueHint: 'port', description: 'target: a backend on 127.0.0.1 at this port' },
  'to-service': { type: 'string', valueHint: 'name', description: 'target: an external service' },
  'to-proxy': { type: 'string', valueHint: 'hostname', description: 'target: another proxy, reached as it reaches its own backend' },
  'strip-prefix': { type: 'boolean', description: 'remove the matched start of the path before forwarding', negativeDescription: 'forward the path whole' },
  scope: { type: 'enum', options: choices('global', 'proxy'), valueHint: 'global|proxy', description: 'global: every proxy (default); proxy: only those given with --proxy' },
  proxy: { type: 'string', valueHint: 'hostname', description: 'a proxy it applies to (implies --scope proxy); repeatable; replaces the list' },
  description: { type: 'string', valueHint: 'text', description: 'free text, at most 500 characters' },
  enabled: { type: 'boolean', description: 'match it' },
  disabled: { type: 'boolean', description: 'keep it but never match it' },
} as const

type FieldFlags = {
  readonly path?: string
  readonly regex?: boolean
  readonly priority?: string
  readonly 'to-url'?: string
  readonly 'to-port'?: string
  readonly 'to-service'?: string
  readonly 'to-proxy'?: string
  readonly 'strip-prefix'?: boolean
  readonly scope?: string
  readonly description?: string
  readonly enabled?: boolean
  readonly disabled?: boolean
}

/** The one target flag given, as target_type and target_value; none given is undefined. */
function targetOf(args: FieldFlags): { target_type: string; target_value: string | number } | undefined {
  exclusive({ 'to-url': args['to-url'], 'to-port': args['to-port'], 'to-service': args['to-service'], 'to-proxy': args['to-proxy'] })
  if (args['to-url'] !== undefined) return { target_type: 'url', target_value: args['to-url'] }
  if (args['to-port'] !== undefined) return { target_type: 'port', target_value: parseInteger('to-port', args['to-port']) }
  if (args['to-service'] !== undefined) return { target_type: 'service', target_value: args['to-service'] }
  if (args['to-proxy'] !== undefined) return { target_type: 'hostname', target_value: args['to-proxy'] }
  return undefined
}

/** The request body for the field flags given. */
function fieldsBody(args: FieldFlags, repeated: (name: 'proxy' | 'method') => string[] | undefined): Record<string, unknown> {
  exclusive({ enabled: args.enabled, disabled: args.disabled })
  const proxies = repeated('proxy')
  if (proxies !== undefined && args.scope === 'global') throw usageError('--proxy and --scope global cannot be combined')
  const methods = repeated('method')
  return given({
    path_pattern: args.path,
    is_regex: args.regex,
    // The API reads null, [] and ["*"] alike: any method.
    methods: methods?.map((method) => method.trim()),
    priority: optionalInteger('priority', args.priority),
    ...targetOf(args),
    strip_prefix: args['strip-prefix'],
    // --proxy implies scope proxy; --scope global empties the list, which that scope requires.
    scope: args.scope ?? (proxies !== undefined ? 'proxy' : undefined),
    proxy_hostnames: proxies ?? (args.scope === 'global' ? [] : undefined),
    description: args.description,
    enabled: args.disabled ? false : args.enabled,
  })
}

const list = defineApiCommand({
  meta: { name: 'list', description: `List routes in the order they are tried (priority, then creation)\nExample: ${CLI} list\nExample: ${CLI} list --disabled --quiet` },
  args: {
    enabled: { type: 'boolean', description: 'only enabled routes' },
    disabled: { type: 'boolean', description: 'only disabled routes' },
    ...API_ARGS,
  },
  async run({ args }) {
    exclusive({ enabled: args.enabled, disabled: args.disabled })
    const filter = args.enabled ? 'true' : args.disabled ? 'false' : undefined
    const routes = await createApiClient(args).get('/routes', { enabled: filter })
    printJsonOrTable<RouteRow>(routes, ROUTE_COLUMNS, { ...args, empty: 'no routes' })
  },
})

const show = defineApiCommand({
  meta: { name: 'show', description: `Show one route with every field\nExample: ${CLI} show api-3fa2c9d1` },
  args: { ...ROUTE_ID_ARG, ...API_ARGS },
  async run({ args }) {
    const route = await createApiClient(args).get<Record<string, unknown>>(apiPath`/routes/${args['route-id']}`)
    printRecord(route, { ...args, idKey: 'route_id' })
  },
})

const CREATE_ARGS = { ...FIELD_ARGS, path: { ...FIELD_ARGS.path, required: true }, ...API_ARGS } as const
const UPDATE_ARGS = { ...ROUTE_ID_ARG, ...FIELD_ARGS, ...API_ARGS } as const

const create = defineApiCommand({
  meta: {
    name: 'create',
    description:
      `Create a route: requests whose path matches go to another backend\n` +
      `Example: ${CLI} create --path /api --to-url http://127.0.0.1:4000 --strip-prefix\n` +
      `Example: ${CLI} create --path '^/v[0-9]+/' --regex --method GET --to-service api --proxy app.example.com --priority 80`,
  },
  args: CREATE_ARGS,
  async run({ args, repeated }) {
    requiredText('path', args.path)
    if (!targetOf(args)) throw usageError('a target is required: one of --to-url, --to-port, --to-service, --to-proxy')
    const created = await createApiClient(args).post<Record<string, unknown>>('/routes', fieldsBody(args, repeated))
    printRecord(created, { ...args, idKey: 'route_id' })
  },
})

const update = defineApiCommand({
  meta: {
    name: 'update',
    description:
      `Change a route: only the fields given change\n` +
      `Example: ${CLI} update api-3fa2c9d1 --priority 90 --to-port 4001\n` +
      `Example: ${CLI} update api-3fa2c9d1 --scope global --disabled`,
  },
  args: UPDATE_ARGS,
  async run({ args, repeated }) {
    const body = fieldsBody(args, repeated)
    if (Object.keys(body).length === 0) throw usageError(`nothing to change: give at least one of ${Object.keys(FIELD_ARGS).map((name) => `--${name}`).join(', ')}`)
    const updated = await createApiClient(args).put<Record<string, unknown>>(apiPath`/routes/${args['route-id']}`, body)
    printRecord(updated, { ...args, idKey: 'route_id' })
  },
})

const remove = defineApiCommand({
  meta: { name: 'delete', description: `Delete a route\nExample: ${CLI} delete api-3fa2c9d1` },
  args: { ...ROUTE_ID_ARG, ...API_ARGS },
  async run({ args }) {
    await createApiClient(args).delete(apiPath`/routes/${args['route-id']}`)
    printDone(`deleted route ${args['route-id']}`, args['route-id'], args)
  },
})

export const routeCommand = defineCommand({
  meta: { name: 'route', description: 'Routes: paths sent to another backend, before a proxy\'s own target' },
  subCommands: { list, show, create, update, delete: remove },
})
