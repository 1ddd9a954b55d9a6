/**
 * @module The flags every API command shares, and how they resolve: which server (--url), which
 * credential (--token or the stored login), which output (--json, --quiet).
 */
import { CliError, EXIT } from './errors.ts'

/** The server when nothing names one: the API's own default address (API_HOST:API_PORT). */
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:9000'

export type Env = Readonly<Record<string, string | undefined>>

/** `--url`: spread into every command that talks to a server (login and logout too). */
export const SERVER_ARGS = {
  url: {
    type: 'string',
    valueHint: 'url',
    description: `server URL [env OHP_URL; else PUBLIC_URL when set; else ${DEFAULT_SERVER_URL}]`,
  },
} as const

/** `--token`: a bearer token for scripts and CI, used instead of (and never saved to) the stored login. */
export const TOKEN_ARGS = {
  token: { type: 'string', valueHint: 'token', description: 'access token to use instead of the stored login (CI) [env OHP_TOKEN]' },
} as const

/** `--json` and `--quiet`: how results are printed. */
export const OUTPUT_ARGS = {
  json: { type: 'boolean', default: false, description: 'print the API\'s JSON exactly' },
  quiet: { type: 'boolean', alias: 'q', default: false, description: 'print only ids, one per line' },
} as const

/** Everything an API command takes: `args: { ...API_ARGS, hostname: {...} }`. */
export const API_ARGS = { ...SERVER_ARGS, ...TOKEN_ARGS, ...OUTPUT_ARGS } as const

/** The parsed values of API_ARGS (citty gives undefined for absent strings). */
export interface ApiArgs {
  readonly url?: string
  readonly token?: string
  readonly json?: boolean
  readonly quiet?: boolean
}

export type OutputMode = 'table' | 'json' | 'quiet'

/**
 * The server's URL, canonical (lower-case scheme and host, no default port, no trailing slash), which
 * is also the key of its stored credentials. Order: --url, OHP_URL, PUBLIC_URL (the server's own
 * external URL, set when the CLI runs beside the server with its environment), the local default.
 */
export function resolveServerUrl(args: Pick<ApiArgs, 'url'>, env: Env): string {
  const [raw, source] = args.url
    ? [args.url, '--url']
    : env.OHP_URL
      ? [env.OHP_URL, 'OHP_URL']
      : env.PUBLIC_URL
        ? [env.PUBLIC_URL, 'PUBLIC_URL']
        : [DEFAULT_SERVER_URL, 'default']
  const url = URL.parse(raw.trim())
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash) {
    throw new CliError(`${source}: expected an http(s) URL without credentials, query or fragment, such as ${DEFAULT_SERVER_URL}`, EXIT.usage)
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

/** The token given for this run (--token, then OHP_TOKEN), or undefined to use the stored login. */
export function resolveGivenToken(args: Pick<ApiArgs, 'token'>, env: Env): string | undefined {
  const token = (args.token ?? env.OHP_TOKEN)?.trim()
  return token ? token : undefined
}

export function outputModeOf(args: Pick<ApiArgs, 'json' | 'quiet'>): OutputMode {
  if (args.json && args.quiet) throw new CliError('--json and --quiet cannot be combined', EXIT.usage)
  return args.json ? 'json' : args.quiet ? 'quiet' : 'table'
}
