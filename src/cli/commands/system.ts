/**
 * @module `oauth-https-proxy system health|info|version` and the `system config` subgroup.
 * health and version are public: they need no login, so a fresh host can be checked before anyone
 * signs in; info names who you are, so it needs a token.
 */
import { defineCommand } from 'citty'
import { API_ARGS, apiError, CliError, createApiClient, EXIT, printRecord, resolveServerUrl, unreachable, type ApiArgs } from '../client/index.ts'
import { defineApiCommand } from './flags.ts'
import { systemConfigCommand } from './system-config.ts'

const CLI = 'oauth-https-proxy system'
const TIMEOUT_MS = 30_000

/** GET of a public path: no token is sent (--token is accepted and unused), so no login is needed. */
async function publicGet(args: Pick<ApiArgs, 'url'>, path: string): Promise<{ status: number; body: unknown }> {
  const serverUrl = resolveServerUrl(args, process.env)
  let response: Response
  let text: string
  try {
    response = await fetch(serverUrl + path, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) })
    text = await response.text()
  } catch (error) {
    throw unreachable(serverUrl, error)
  }
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // Not JSON: not this API (the status decides what is said).
  }
  if (response.status !== 200 && !(path === '/health' && response.status === 503 && typeof body === 'object')) throw apiError(response.status, body)
  return { status: response.status, body }
}

const health = defineApiCommand({
  meta: {
    name: 'health',
    description: `Check that the server and its store answer (public: no login needed); exit 1 when the store does not\nExample: ${CLI} health\nExample: ${CLI} health --quiet --url https://edge.example.com`,
  },
  args: { ...API_ARGS },
  async run({ args }) {
    const { status, body } = await publicGet(args, '/health')
    printRecord(body as Record<string, unknown>, { ...args, idKey: 'status' })
    if (status !== 200) {
      const store = (body as { store?: { kind?: string } }).store?.kind ?? 'store'
      throw new CliError(`unhealthy: the ${store} store does not answer`, EXIT.error)
    }
  },
})

const version = defineApiCommand({
  meta: { name: 'version', description: `Show the server's version and runtime (public: no login needed)\nExample: ${CLI} version` },
  args: { ...API_ARGS },
  async run({ args }) {
    const { body } = await publicGet(args, '/system/version')
    printRecord(body as Record<string, unknown>, { ...args, idKey: 'version' })
  },
})

const info = defineApiCommand({
  meta: { name: 'info', description: `Version, node, store and who you are on the server\nExample: ${CLI} info --json` },
  args: { ...API_ARGS },
  async run({ args }) {
    printRecord(await createApiClient(args).get<Record<string, unknown>>('/system/info'), { ...args, idKey: 'node_id' })
  },
})

export const systemCommand = defineCommand({
  meta: { name: 'system', description: 'The server itself: health, version, information, configuration' },
  subCommands: { health, info, version, config: systemConfigCommand },
})
