/**
 * @module `oauth-https-proxy health`: exit 0 when the server on this host answers /health with its store
 * up, 1 otherwise. It is the container image's HEALTHCHECK, so it needs nothing but the executable (no
 * curl) and asks the API this host runs, found from the server's own API_HOST and API_PORT, never
 * PUBLIC_URL or OHP_URL: those name the server as the outside sees it, which a container may not reach.
 */
import { defineCommand } from 'citty'
import { CliError, EXIT, printable, resolveServerUrl, unreachable, type Env } from '../client/index.ts'

/** Docker's HEALTHCHECK kills a check after its own timeout (30 s by default); answer well before that. */
const TIMEOUT_MS = 5_000
const DEFAULT_API_PORT = 9000
/** Addresses a server binds to listen everywhere: the check reaches such a server on loopback. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]'])

/** The API of the server on this host: http://API_HOST:API_PORT, a wildcard API_HOST read as loopback. */
export function localApiUrl(env: Env): string {
  const rawPort = env.API_PORT?.trim() || String(DEFAULT_API_PORT)
  const port = Number(rawPort)
  if (!/^\d{1,5}$/.test(rawPort) || port < 1 || port > 65_535) throw new CliError(`API_PORT: expected a port 1-65535, got "${printable(rawPort, 40)}"`, EXIT.usage)
  const host = env.API_HOST?.trim() || '127.0.0.1'
  const reachable = WILDCARD_HOSTS.has(host) ? '127.0.0.1' : host
  return `http://${reachable.includes(':') && !reachable.startsWith('[') ? `[${reachable}]` : reachable}:${port}`
}

interface HealthBody {
  readonly status?: unknown
  readonly store?: { readonly kind?: unknown; readonly status?: unknown }
}

/** One GET of /health; resolves to the line to print when the server and its store are up, throws CliError otherwise. */
export async function checkHealth(serverUrl: string): Promise<string> {
  let response: Response
  let body: HealthBody | null = null
  try {
    response = await fetch(`${serverUrl}/health`, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) })
    const text = await response.text()
    try {
      body = JSON.parse(text) as HealthBody
    } catch {
      // Not JSON: not this API; the status line below says so.
    }
  } catch (error) {
    throw unreachable(serverUrl, error)
  }
  const store = body && typeof body.store === 'object' && body.store ? `${String(body.store.kind)} store ${String(body.store.status)}` : null
  if (response.status === 200 && body?.status === 'ok' && store) return `ok: ${store}`
  throw new CliError(`unhealthy: ${serverUrl}/health answered ${response.status}${store ? ` (${store})` : ''}`, EXIT.error)
}

export const healthCommand = defineCommand({
  meta: {
    name: 'health',
    description:
      'Check the server on this host (API_HOST:API_PORT): exit 0 when it and its store answer, 1 otherwise; the container image\'s HEALTHCHECK' +
      '\nExample: oauth-https-proxy health' +
      '\nExample: oauth-https-proxy health --url http://127.0.0.1:9000',
  },
  args: {
    url: { type: 'string', valueHint: 'url', description: 'the API to check instead of http://API_HOST:API_PORT (a wildcard API_HOST means 127.0.0.1)' },
  },
  async run({ args }) {
    const serverUrl = args.url ? resolveServerUrl({ url: args.url }, process.env) : localApiUrl(process.env)
    console.log(await checkHealth(serverUrl))
  },
})
