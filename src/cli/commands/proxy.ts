/**
 * @module `oauth-https-proxy proxy list|show|create|update|delete` (/proxy/targets), with the
 * `auth` (proxy-auth.ts), `resource` (proxy-resource.ts), `routes` and `github` (proxy-settings.ts) subgroups. Flags carry the API's field names
 * (`--target-url` is target_url); booleans take `--no-…`; `none` empties a nullable field.
 */
import { defineCommand } from 'citty'
import { API_ARGS, apiPath, createApiClient, printJsonOrTable, printRecord, type Column } from '../client/index.ts'
import { choices, defineApiCommand, given, headerMap, NONE, optionalInteger, optionalText, requiredText, usageError } from './flags.ts'
import { proxyAuthCommand } from './proxy-auth.ts'
import { proxyResourceCommand } from './proxy-resource.ts'
import { proxyGitHubCommand, proxyRoutesCommand } from './proxy-settings.ts'
import { deleteWithForceHint, printDone } from './results.ts'

const CLI = 'oauth-https-proxy proxy'

interface ProxyRow {
  readonly proxy_hostname: string
  readonly target_url: string
  readonly enable_http: boolean
  readonly enable_https: boolean
  readonly auth_enabled: boolean
  readonly auth_mode: string
  readonly enabled: boolean
}

const COLUMNS: Column<ProxyRow>[] = [
  { key: 'proxy_hostname', header: 'hostname' },
  { key: 'target_url', header: 'target' },
  { key: 'enable_http', header: 'http' },
  { key: 'enable_https', header: 'https' },
  { key: 'auth_enabled', header: 'auth', format: (_, row) => (row.auth_enabled ? row.auth_mode : 'no') },
  { key: 'enabled', header: 'enabled' },
]

const HOSTNAME_ARG = { hostname: { type: 'positional', required: true, valueHint: 'hostname', description: 'the proxy\'s hostname' } } as const

const bool = (description: string, negativeDescription: string) => ({ type: 'boolean', description, negativeDescription }) as const

/** The settable fields of a proxy, shared by create and update (update sends only what is given). */
const SETTINGS_ARGS = {
  'target-url': { type: 'string', valueHint: 'url', description: 'backend: http(s)://host[:port][/prefix], or service://NAME for an external service' },
  enabled: bool('serve it (default on create)', 'answer 404 for it'),
  'enable-http': bool('serve it on the HTTP listener (default)', 'not on HTTP'),
  'enable-https': bool('serve it on the HTTPS listener (default)', 'not on HTTPS'),
  'preserve-host-header': bool('send the client\'s Host to the backend (default)', 'send the target\'s host'),
  'redirect-http-to-https': bool('answer HTTP with a 308 to HTTPS', 'serve HTTP as it is (default)'),
  'custom-header': { type: 'string', valueHint: 'name=value', description: 'header added to requests to the backend; repeatable; replaces the set; "none" empties it' },
  'custom-response-header': { type: 'string', valueHint: 'name=value', description: 'header added to responses; repeatable; replaces the set; "none" empties it' },
  'cert-name': { type: 'string', valueHint: 'name', description: 'certificate to serve ("none": by hostname)' },
  'hsts-max-age': { type: 'string', valueHint: 'seconds', description: 'Strict-Transport-Security max-age on HTTPS ("none": no header)' },
  'upstream-timeout': { type: 'string', valueHint: 'seconds', description: 'seconds to wait for the backend\'s response head (default 60)' },
  'proxy-protocol': { type: 'enum', options: choices('v1', 'v2', NONE), valueHint: 'v1|v2|none', description: 'send a PROXY protocol header to the backend' },
  'trusted-request-headers': {
    type: 'string',
    valueHint: 'name,...',
    description: 'client-address headers your CDN sets (CF-Connecting-IP, True-Client-IP, …) passed to the backend as sent, on requests through a load balancer in PROXY_PROTOCOL_TRUSTED only; comma-separated or repeatable; replaces the list; "none" empties it',
  },
  'rate-limit': { type: 'string', valueHint: 'rps,burst', description: 'requests each client address may send: per second, and at once ("10,20"); beyond, 429; counted on each node; "none": no limit' },
} as const

type SettingsFlags = { readonly [K in keyof typeof SETTINGS_ARGS]?: (typeof SETTINGS_ARGS)[K]['type'] extends 'boolean' ? boolean : string }

/** The request body for the settings flags given; unknown values are left to the API's 400. */
function settingsBody(args: SettingsFlags, repeated: (name: 'custom-header' | 'custom-response-header' | 'trusted-request-headers') => string[] | undefined): Record<string, unknown> {
  return given({
    target_url: args['target-url'],
    enabled: args.enabled,
    enable_http: args['enable-http'],
    enable_https: args['enable-https'],
    preserve_host_header: args['preserve-host-header'],
    redirect_http_to_https: args['redirect-http-to-https'],
    custom_headers: headerMap('custom-header', repeated('custom-header')),
    custom_response_headers: headerMap('custom-response-header', repeated('custom-response-header')),
    cert_name: optionalText(args['cert-name'], true),
    hsts_max_age: optionalInteger('hsts-max-age', args['hsts-max-age'], true),
    upstream_timeout: optionalInteger('upstream-timeout', args['upstream-timeout']),
    proxy_protocol: optionalText(args['proxy-protocol'], true),
    trusted_request_headers: nameList(repeated('trusted-request-headers')),
    rate_limit: rateLimitOf(args['rate-limit']),
  })
}

/** --rate-limit RPS,BURST ("10,20", "0.5,5") or none; whether the numbers are allowed is the API's to say. */
function rateLimitOf(text: string | undefined): { requests_per_second: number; burst: number } | null | undefined {
  if (text === undefined) return undefined
  if (text.trim() === NONE) return null
  const pair = /^\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*$/.exec(text)
  if (!pair) throw usageError(`--rate-limit: expected REQUESTS_PER_SECOND,BURST such as 10,20, or none; got ${JSON.stringify(text)}`)
  return { requests_per_second: Number(pair[1]), burst: Number(pair[2]) }
}

/** A list flag (comma-separated or repeatable); a lone "none" empties the list. Which names are allowed is the API's to say. */
function nameList(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined
  if (values.length === 1 && values[0]!.trim() === NONE) return []
  return values.flatMap((value) => value.split(',')).map((item) => item.trim()).filter((item) => item !== '')
}

const list = defineApiCommand({
  meta: { name: 'list', description: `List proxies\nExample: ${CLI} list\nExample: ${CLI} list --quiet` },
  args: { ...API_ARGS },
  async run({ args }) {
    const proxies = await createApiClient(args).get('/proxy/targets')
    printJsonOrTable<ProxyRow>(proxies, COLUMNS, { ...args, empty: 'no proxies' })
  },
})

const show = defineApiCommand({
  meta: { name: 'show', description: `Show one proxy with every field\nExample: ${CLI} show app.example.com` },
  args: { ...HOSTNAME_ARG, ...API_ARGS },
  async run({ args }) {
    const proxy = await createApiClient(args).get<Record<string, unknown>>(apiPath`/proxy/targets/${args.hostname}`)
    printRecord(proxy, { ...args, idKey: 'proxy_hostname' })
  },
})

const CREATE_ARGS = {
  hostname: { type: 'string', required: true, valueHint: 'hostname', description: 'public hostname (app.example.com, or *.example.com for one label below it)' },
  ...SETTINGS_ARGS,
  'target-url': { ...SETTINGS_ARGS['target-url'], required: true },
  ...API_ARGS,
} as const

const create = defineApiCommand({
  meta: {
    name: 'create',
    description:
      `Create a proxy: a hostname and the backend its traffic goes to\n` +
      `Example: ${CLI} create --hostname app.example.com --target-url http://127.0.0.1:3000\n` +
      `Example: ${CLI} create --hostname api.example.com --target-url service://api --custom-header X-Env=prod --no-enable-http`,
  },
  args: CREATE_ARGS,
  async run({ args, repeated }) {
    const hostname = requiredText('hostname', args.hostname)
    const targetUrl = requiredText('target-url', args['target-url'])
    const body = { proxy_hostname: hostname, ...settingsBody(args, repeated), target_url: targetUrl }
    const created = await createApiClient(args).post<Record<string, unknown>>('/proxy/targets', body)
    printRecord(created, { ...args, idKey: 'proxy_hostname' })
  },
})

const update = defineApiCommand({
  meta: {
    name: 'update',
    description:
      `Change a proxy: only the fields given change, and the next request uses them\n` +
      `Example: ${CLI} update app.example.com --target-url http://127.0.0.1:4000 --hsts-max-age 31536000\n` +
      `Example: ${CLI} update app.example.com --no-enabled --custom-header none`,
  },
  args: { ...HOSTNAME_ARG, ...SETTINGS_ARGS, ...API_ARGS },
  async run({ args, repeated }) {
    const body = settingsBody(args, repeated)
    if (Object.keys(body).length === 0) throw usageError(`nothing to change: give at least one of ${Object.keys(SETTINGS_ARGS).map((name) => `--${name}`).join(', ')}`)
    const updated = await createApiClient(args).put<Record<string, unknown>>(apiPath`/proxy/targets/${args.hostname}`, body)
    printRecord(updated, { ...args, idKey: 'proxy_hostname' })
  },
})

const remove = defineApiCommand({
  meta: {
    name: 'delete',
    description:
      `Delete a proxy; its instances stop. Refused while routes target it, unless --force\n` +
      `Example: ${CLI} delete app.example.com\n` +
      `Example: ${CLI} delete app.example.com --force`,
  },
  args: {
    ...HOSTNAME_ARG,
    force: { type: 'boolean', description: 'delete even when routes target it (they answer 502 until changed)' },
    ...API_ARGS,
  },
  async run({ args }) {
    await deleteWithForceHint(() => createApiClient(args).delete(apiPath`/proxy/targets/${args.hostname}`, args.force ? { force: true } : undefined))
    printDone(`deleted proxy ${args.hostname}`, args.hostname, args)
  },
})

export const proxyCommand = defineCommand({
  meta: { name: 'proxy', description: 'Proxies: a public hostname and the backend it forwards to' },
  subCommands: { list, show, create, update, delete: remove, auth: proxyAuthCommand, resource: proxyResourceCommand, routes: proxyRoutesCommand, github: proxyGitHubCommand },
})
