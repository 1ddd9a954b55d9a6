/**
 * @module `proxy auth show|enable|disable|set HOST` (/proxy/targets/{h}/auth): who may enter a proxy
 * and with which scopes. Flags carry the API's field names without the auth_/oauth_ prefix
 * (`--required-users` is auth_required_users); lists take commas or repeated flags; `none` empties.
 */
import { defineCommand } from 'citty'
import { API_ARGS, apiPath, createApiClient, printJson, printRecord, type ApiArgs } from '../client/index.ts'
import { choices, defineApiCommand, given, NONE, optionalText, usageError } from './flags.ts'

const CLI = 'oauth-https-proxy proxy auth'
const HOSTNAME_ARG = { hostname: { type: 'positional', required: true, valueHint: 'hostname', description: 'the proxy\'s hostname' } } as const

/**
 * The scope rule the edge applies on a protected proxy (the original's "three simple scopes"), for
 * people reading `show`: the settings alone do not say it.
 */
export const SCOPE_RULE = [
  'reads (GET, HEAD, OPTIONS) need the user scope',
  'writes (every other method) need the admin scope',
  'paths under /mcp need the mcp scope, whatever the method',
  'admin implies user and mcp',
  "a route's own auth overrides this rule",
  'auth_excluded_paths need no token at all',
] as const

/**
 * A list flag: repeatable, each value comma-separated. A lone `none` is null where the API falls back
 * to a default (the server's OAUTH_*_USERS, no org check), else the empty list; a lone "" is the empty
 * list (nobody).
 */
function listFlag(values: readonly string[] | undefined, nullable: boolean): string[] | null | undefined {
  if (values === undefined) return undefined
  if (values.length === 1 && values[0]!.trim() === NONE) return nullable ? null : []
  return values.flatMap((value) => value.split(',')).map((item) => item.trim()).filter((item) => item !== '')
}

const LIST_FLAGS = {
  'required-users': { field: 'auth_required_users', nullable: true, hint: 'login,...', description: 'who may enter: GitHub logins or * ("none": everyone in the three scope lists)' },
  'required-orgs': { field: 'auth_required_orgs', nullable: true, hint: 'org,...', description: 'the user must belong to one of these GitHub organisations ("none": no org check)' },
  'required-teams': { field: 'auth_required_teams', nullable: true, hint: 'org/team,...', description: 'the user must belong to one of these GitHub teams ("none": no team check)' },
  'excluded-paths': { field: 'auth_excluded_paths', nullable: false, hint: 'path,...', description: 'path prefixes that need no token ("none": no path)' },
  'admin-users': { field: 'oauth_admin_users', nullable: true, hint: 'login,...', description: 'who gets the admin scope ("none": OAUTH_ADMIN_USERS)' },
  'user-users': { field: 'oauth_user_users', nullable: true, hint: 'login,...', description: 'who gets the user scope ("none": OAUTH_USER_USERS)' },
  'mcp-users': { field: 'oauth_mcp_users', nullable: true, hint: 'login,...', description: 'who gets the mcp scope ("none": OAUTH_MCP_USERS)' },
  'allowed-origins': { field: 'auth_allowed_origins', nullable: false, hint: 'origin,...', description: 'origins besides the proxy\'s own that may send requests when the Origin check applies ("none": no other)' },
} as const
type ListFlag = keyof typeof LIST_FLAGS

const listArgs = Object.fromEntries(
  Object.entries(LIST_FLAGS).map(([name, flag]) => [name, { type: 'string', valueHint: flag.hint, description: `${flag.description}; comma-separated or repeatable; replaces the list; "" empties it` }]),
) as { readonly [K in ListFlag]: { type: 'string'; valueHint: string; description: string } }

const MODE_ARG = {
  mode: { type: 'enum', options: choices('forward', 'redirect', 'passthrough'), valueHint: 'forward|redirect|passthrough', description: 'auth_mode: forward (401 to clients), redirect (browsers to the login), passthrough' },
} as const

const SET_ARGS = {
  ...HOSTNAME_ARG,
  ...MODE_ARG,
  ...listArgs,
  'pass-authorization': { type: 'boolean', description: "send the client's Authorization header to the backend", negativeDescription: 'never send it (default)' },
  'origin-check': { type: 'enum', options: choices('auto', 'enforce', 'off'), valueHint: 'auto|enforce|off', description: 'the Origin check against DNS rebinding: auto (when the backend is on this machine), enforce, off' },
  realm: { type: 'string', valueHint: 'text', description: 'the realm of the WWW-Authenticate challenge ("none": no realm)' },
  ...API_ARGS,
} as const

/** What the API answers for /auth (the fields `show` reads). */
interface AuthSettings extends Record<string, unknown> {
  readonly auth_enabled: boolean
}

/** What null means in each access list; an empty list means nobody. Both would print as "-". */
const NULL_MEANS: Readonly<Record<string, string>> = {
  auth_required_users: '(everyone in the three scope lists)',
  oauth_admin_users: '(OAUTH_ADMIN_USERS)',
  oauth_user_users: '(OAUTH_USER_USERS)',
  oauth_mcp_users: '(OAUTH_MCP_USERS)',
  auth_required_orgs: '(no organisation check)',
  auth_required_teams: '(no team check)',
}

/** The settings for people: null and empty access lists spelled out, since they mean opposite things. */
function forPeople(settings: AuthSettings): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(settings).map(([field, value]) => {
      if (!(field in NULL_MEANS)) return [field, value]
      if (value === null) return [field, NULL_MEANS[field]]
      return [field, Array.isArray(value) && value.length === 0 ? '(nobody)' : value]
    }),
  )
}

/** The settings (--json: exactly the API's answer), then the scope rule in force, for people. */
function printAuth(hostname: string, settings: AuthSettings, args: Pick<ApiArgs, 'json' | 'quiet'>, withRule: boolean): void {
  if (args.json) return printJson(settings)
  printRecord({ proxy_hostname: hostname, ...forPeople(settings) }, { ...args, idKey: 'proxy_hostname' })
  if (args.quiet || !withRule) return
  const state = settings.auth_enabled ? 'auth is on; the scope rule in force' : 'auth is off (no token is checked); when it is on'
  process.stdout.write(`\n${state}:\n${SCOPE_RULE.map((line) => `  - ${line}\n`).join('')}`)
}

const show = defineApiCommand({
  meta: {
    name: 'show',
    description: `Show a proxy's auth settings and the scope rule in force (reads need user, writes admin, /mcp mcp)\nExample: ${CLI} show app.example.com\nExample: ${CLI} show app.example.com --json`,
  },
  args: { ...HOSTNAME_ARG, ...API_ARGS },
  async run({ args }) {
    printAuth(args.hostname, await createApiClient(args).get<AuthSettings>(apiPath`/proxy/targets/${args.hostname}/auth`), args, true)
  },
})

const enable = defineApiCommand({
  meta: {
    name: 'enable',
    description: `Protect a proxy with this server's OAuth login; the lists set before apply again\nExample: ${CLI} enable app.example.com\nExample: ${CLI} enable app.example.com --mode redirect`,
  },
  args: { ...HOSTNAME_ARG, ...MODE_ARG, ...API_ARGS },
  async run({ args }) {
    const body = given({ auth_enabled: true, auth_mode: args.mode })
    printAuth(args.hostname, await createApiClient(args).put<AuthSettings>(apiPath`/proxy/targets/${args.hostname}/auth`, body), args, true)
  },
})

const disable = defineApiCommand({
  meta: { name: 'disable', description: `Stop protecting a proxy; its lists and excluded paths are kept for when it is enabled again\nExample: ${CLI} disable app.example.com` },
  args: { ...HOSTNAME_ARG, ...API_ARGS },
  async run({ args }) {
    printAuth(args.hostname, await createApiClient(args).delete<AuthSettings>(apiPath`/proxy/targets/${args.hostname}/auth`), args, false)
  },
})

const set = defineApiCommand({
  meta: {
    name: 'set',
    description:
      `Change a proxy's auth settings; settings not given are kept (enable and disable turn auth on and off)\n` +
      `Example: ${CLI} set app.example.com --required-orgs acme --admin-users alice --user-users '*'\n` +
      `Example: ${CLI} set mcp.example.com --mcp-users alice,bob --excluded-paths /health --origin-check enforce --allowed-origins https://app.example.com\n` +
      `Example: ${CLI} set app.example.com --required-users none --realm none --no-pass-authorization`,
  },
  args: SET_ARGS,
  async run({ args, repeated }) {
    const lists = Object.fromEntries((Object.keys(LIST_FLAGS) as ListFlag[]).map((name) => [LIST_FLAGS[name].field, listFlag(repeated(name), LIST_FLAGS[name].nullable)]))
    const body = given({
      auth_mode: args.mode,
      ...lists,
      auth_pass_authorization: args['pass-authorization'],
      auth_origin_check: args['origin-check'],
      auth_realm: optionalText(args.realm, true),
    })
    if (Object.keys(body).length === 0) throw usageError(`nothing to change: give at least one of ${Object.keys(SET_ARGS).filter((name) => name !== 'hostname' && !(name in API_ARGS)).map((name) => `--${name}`).join(', ')}`)
    printAuth(args.hostname, await createApiClient(args).put<AuthSettings>(apiPath`/proxy/targets/${args.hostname}/auth`, body), args, false)
  },
})

export const proxyAuthCommand = defineCommand({
  meta: { name: 'auth', description: "Who may enter a proxy and with which scopes (this server's OAuth login)" },
  subCommands: { show, enable, disable, set },
})
