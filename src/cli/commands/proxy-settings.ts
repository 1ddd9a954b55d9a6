/**
 * @module `proxy routes show|set|enable|disable` (/proxy/targets/{h}/routes: which routes apply to one
 * proxy) and `proxy github show|set|clear` (/proxy/targets/{h}/github-oauth: the proxy's own GitHub
 * app, whose secret is write-only: read from stdin or a prompt, never an argument, never printed).
 */
import { defineCommand } from 'citty'
import { API_ARGS, apiPath, createApiClient, printJson, printRecord, printTable, type ApiArgs } from '../client/index.ts'
import { choices, defineApiCommand, given, NONE, requiredText, usageError } from './flags.ts'
import { ROUTE_COLUMNS, type RouteRow } from './route.ts'
import { promptSecret, readSecretFromStdin } from './secret-input.ts'

const CLI = 'oauth-https-proxy proxy'
const HOSTNAME_ARG = { hostname: { type: 'positional', required: true, valueHint: 'hostname', description: 'the proxy\'s hostname' } } as const
const ROUTE_ID_ARG = { 'route-id': { type: 'positional', required: true, valueHint: 'route-id', description: 'the route\'s id (see: oauth-https-proxy route list)' } } as const

interface RoutesView {
  readonly route_mode: string
  readonly enabled_routes: readonly string[]
  readonly disabled_routes: readonly string[]
  readonly applicable_routes: readonly RouteRow[]
}

/** The settings as a record, then the routes that apply as a table; --quiet: their ids. */
function printRoutesView(view: RoutesView, args: Pick<ApiArgs, 'json' | 'quiet'>): void {
  if (args.json) return printJson(view)
  if (args.quiet) return printTable(view.applicable_routes, ROUTE_COLUMNS, { quiet: true })
  printRecord({ route_mode: view.route_mode, enabled_routes: view.enabled_routes, disabled_routes: view.disabled_routes })
  process.stdout.write('\n')
  if (view.applicable_routes.length === 0) process.stdout.write('no route applies\n')
  else printTable(view.applicable_routes, ROUTE_COLUMNS)
}

const routesShow = defineApiCommand({
  meta: { name: 'show', description: `Show which routes apply to a proxy, in the order they are tried\nExample: ${CLI} routes show app.example.com` },
  args: { ...HOSTNAME_ARG, ...API_ARGS },
  async run({ args }) {
    printRoutesView(await createApiClient(args).get<RoutesView>(apiPath`/proxy/targets/${args.hostname}/routes`), args)
  },
})

const SET_ARGS = {
  ...HOSTNAME_ARG,
  'route-mode': { type: 'enum', options: choices('all', 'selective', 'none'), valueHint: 'all|selective|none', description: 'all: every route but the disabled ones; selective: only the enabled ones; none' },
  'enabled-route': { type: 'string', valueHint: 'route-id', description: 'a route for selective mode; repeatable; replaces the list; "none" empties it' },
  'disabled-route': { type: 'string', valueHint: 'route-id', description: 'a route all mode skips; repeatable; replaces the list; "none" empties it' },
  ...API_ARGS,
} as const

const idList = (ids: string[] | undefined) => (ids !== undefined && ids.length === 1 && ids[0] === NONE ? [] : ids)

const routesSet = defineApiCommand({
  meta: {
    name: 'set',
    description:
      `Change which routes apply to a proxy; settings not given are kept\n` +
      `Example: ${CLI} routes set app.example.com --route-mode selective --enabled-route api-3fa2c9d1\n` +
      `Example: ${CLI} routes set app.example.com --route-mode all --disabled-route none`,
  },
  args: SET_ARGS,
  async run({ args, repeated }) {
    const body = given({
      route_mode: args['route-mode'],
      enabled_routes: idList(repeated('enabled-route')),
      disabled_routes: idList(repeated('disabled-route')),
    })
    if (Object.keys(body).length === 0) throw usageError('nothing to change: give --route-mode, --enabled-route or --disabled-route')
    printRoutesView(await createApiClient(args).put<RoutesView>(apiPath`/proxy/targets/${args.hostname}/routes`, body), args)
  },
})

const routeUse = (verb: 'enable' | 'disable', description: string) =>
  defineApiCommand({
    meta: { name: verb, description: `${description}\nExample: ${CLI} routes ${verb} app.example.com api-3fa2c9d1` },
    args: { ...HOSTNAME_ARG, ...ROUTE_ID_ARG, ...API_ARGS },
    async run({ args }) {
      printRoutesView(await createApiClient(args).post<RoutesView>(apiPath`/proxy/targets/${args.hostname}/routes/${args['route-id']}/${verb}`), args)
    },
  })

export const proxyRoutesCommand = defineCommand({
  meta: { name: 'routes', description: 'Which routes apply to a proxy (route_mode, enabled and disabled routes)' },
  subCommands: {
    show: routesShow,
    set: routesSet,
    enable: routeUse('enable', 'Make a route apply to a proxy (selective mode: enabled_routes; all mode: out of disabled_routes)'),
    disable: routeUse('disable', 'Stop a route applying to a proxy (selective mode: out of enabled_routes; all mode: disabled_routes)'),
  },
})

const githubShow = defineApiCommand({
  meta: { name: 'show', description: `Show a proxy's own GitHub app: its client id and whether a secret is set\nExample: ${CLI} github show app.example.com` },
  args: { ...HOSTNAME_ARG, ...API_ARGS },
  async run({ args }) {
    const app = await createApiClient(args).get<Record<string, unknown>>(apiPath`/proxy/targets/${args.hostname}/github-oauth`)
    printRecord(app, { ...args, idKey: 'proxy_hostname' })
  },
})

const GITHUB_SET_ARGS = {
  ...HOSTNAME_ARG,
  'client-id': { type: 'string', required: true, valueHint: 'id', description: 'the GitHub OAuth app\'s client id' },
  'client-secret-stdin': { type: 'boolean', description: 'read the client secret from standard input (else it is asked for, without echo)' },
  ...API_ARGS,
} as const

const githubSet = defineApiCommand({
  meta: {
    name: 'set',
    description:
      `Give a proxy its own GitHub OAuth app; the secret is stored, never shown\n` +
      `Example: ${CLI} github set app.example.com --client-id Iv1.0123456789abcdef\n` +
      `Example: printf %s "$SECRET" | ${CLI} github set app.example.com --client-id Iv1.0123456789abcdef --client-secret-stdin`,
  },
  args: GITHUB_SET_ARGS,
  async run({ args }) {
    const clientId = requiredText('client-id', args['client-id'])
    const secret = args['client-secret-stdin'] ? await readSecretFromStdin('client secret') : await promptSecret('GitHub client secret', '--client-secret-stdin')
    const body = { github_client_id: clientId, github_client_secret: secret }
    const app = await createApiClient(args).post<Record<string, unknown>>(apiPath`/proxy/targets/${args.hostname}/github-oauth`, body)
    printRecord(app, { ...args, idKey: 'proxy_hostname' })
  },
})

const githubClear = defineApiCommand({
  meta: { name: 'clear', description: `Remove a proxy's own GitHub app; its logins use GITHUB_CLIENT_ID again\nExample: ${CLI} github clear app.example.com` },
  args: { ...HOSTNAME_ARG, ...API_ARGS },
  async run({ args }) {
    const app = await createApiClient(args).delete<Record<string, unknown>>(apiPath`/proxy/targets/${args.hostname}/github-oauth`)
    printRecord(app, { ...args, idKey: 'proxy_hostname' })
  },
})

export const proxyGitHubCommand = defineCommand({
  meta: { name: 'github', description: "A proxy's own GitHub OAuth app (else GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET apply)" },
  subCommands: { show: githubShow, set: githubSet, clear: githubClear },
})
