/**
 * @module `proxy resource show|set|clear HOST` (/proxy/targets/{h}/resource): a protected proxy as an
 * OAuth protected resource (RFC 9728): the path of its resource identifier and what its metadata
 * document adds. Flags carry the API's field names without resource_ (`--endpoint` is resource_endpoint).
 */
import { defineCommand } from 'citty'
import { API_ARGS, apiPath, createApiClient, printRecord } from '../client/index.ts'
import { defineApiCommand, given, NONE, optionalText, usageError } from './flags.ts'

const CLI = 'oauth-https-proxy proxy resource'
const HOSTNAME_ARG = { hostname: { type: 'positional', required: true, valueHint: 'hostname', description: 'the proxy\'s hostname' } } as const

const SET_ARGS = {
  ...HOSTNAME_ARG,
  endpoint: { type: 'string', valueHint: 'path', description: 'resource_endpoint: the resource identifier is the origin followed by it ("/" : the origin itself)' },
  scopes: { type: 'string', valueHint: 'scope,...', description: 'scopes_supported: admin, user, mcp; comma-separated or repeatable ("none": all three)' },
  documentation: { type: 'string', valueHint: 'url', description: 'resource_documentation: a page for people ("none": no page)' },
  metadata: { type: 'string', valueHint: 'json', description: 'extra metadata fields as one JSON object, e.g. \'{"resource_name":"Docs MCP"}\'; replaces them ("none": no extra fields)' },
  ...API_ARGS,
} as const

function scopesFlag(values: readonly string[] | undefined): string[] | null | undefined {
  if (values === undefined) return undefined
  if (values.length === 1 && values[0]!.trim() === NONE) return null
  return values.flatMap((value) => value.split(',')).map((scope) => scope.trim()).filter((scope) => scope !== '')
}

/** --metadata: one JSON object; anything else is the command line's mistake (exit 2), not the API's. */
function metadataFlag(text: string | undefined): Record<string, unknown> | null | undefined {
  if (text === undefined) return undefined
  if (text.trim() === NONE) return null
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw usageError('--metadata: expected a JSON object, e.g. \'{"resource_name":"Docs MCP"}\'')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError('--metadata: expected a JSON object, e.g. \'{"resource_name":"Docs MCP"}\'')
  return parsed as Record<string, unknown>
}

const show = defineApiCommand({
  meta: {
    name: 'show',
    description: `Show a proxy's protected-resource settings (RFC 9728); the resource identifier is the origin followed by resource_endpoint\nExample: ${CLI} show mcp.example.com`,
  },
  args: { ...HOSTNAME_ARG, ...API_ARGS },
  async run({ args }) {
    const settings = await createApiClient(args).get<Record<string, unknown>>(apiPath`/proxy/targets/${args.hostname}/resource`)
    printRecord(args.json ? settings : { proxy_hostname: args.hostname, ...settings }, { ...args, idKey: 'proxy_hostname' })
  },
})

const set = defineApiCommand({
  meta: {
    name: 'set',
    description:
      `Change a proxy's protected-resource settings; settings not given are kept\n` +
      `Example: ${CLI} set mcp.example.com --endpoint /mcp --scopes mcp --documentation https://docs.example.com/mcp\n` +
      `Example: ${CLI} set mcp.example.com --metadata '{"resource_name":"Docs MCP"}' --scopes none`,
  },
  args: SET_ARGS,
  async run({ args, repeated }) {
    const body = given({
      resource_endpoint: args.endpoint,
      resource_scopes: scopesFlag(repeated('scopes')),
      resource_documentation: optionalText(args.documentation, true),
      resource_custom_metadata: metadataFlag(args.metadata),
    })
    if (Object.keys(body).length === 0) throw usageError('nothing to change: give --endpoint, --scopes, --documentation or --metadata')
    const settings = await createApiClient(args).put<Record<string, unknown>>(apiPath`/proxy/targets/${args.hostname}/resource`, body)
    printRecord(args.json ? settings : { proxy_hostname: args.hostname, ...settings }, { ...args, idKey: 'proxy_hostname' })
  },
})

const clear = defineApiCommand({
  meta: { name: 'clear', description: `Reset a proxy's protected-resource settings to the defaults (endpoint "/", nothing extra)\nExample: ${CLI} clear mcp.example.com` },
  args: { ...HOSTNAME_ARG, ...API_ARGS },
  async run({ args }) {
    const settings = await createApiClient(args).delete<Record<string, unknown>>(apiPath`/proxy/targets/${args.hostname}/resource`)
    printRecord(args.json ? settings : { proxy_hostname: args.hostname, ...settings }, { ...args, idKey: 'proxy_hostname' })
  },
})

export const proxyResourceCommand = defineCommand({
  meta: { name: 'resource', description: 'A protected proxy as an OAuth protected resource (RFC 9728): resource path, scopes, documentation, extra metadata' },
  subCommands: { show, set, clear },
})
