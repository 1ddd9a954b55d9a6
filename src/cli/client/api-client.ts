/**
 * @module createApiClient: the one way a command calls the management API. It sends the token given
 * for this run (--token / OHP_TOKEN) or the stored login for the server URL; a stored login is
 * refreshed silently (RFC 6749 §6 refresh_token grant, rotated tokens saved) when the access token has
 * expired, or once when the API answers 401 invalid_token. Failures are CliErrors (one line, exit code).
 */
import { VERSION } from '../../version.ts'
import { resolveGivenToken, resolveServerUrl, type ApiArgs, type Env } from './args.ts'
import { createCredentialStore, type CredentialStore, type ServerCredentials } from './credentials.ts'
import { apiError, CliError, EXIT, keepSecret, printable, unreachable } from './errors.ts'
import { send, type HttpAnswer } from './http.ts'
import { postTokenEndpoint, storedTokens } from './oauth.ts'

/** Refresh this long before the recorded expiry: the request must still be valid when it arrives. */
export const EXPIRY_SKEW_MS = 5_000

export type Query = Readonly<Record<string, string | number | boolean | undefined>>

export interface ApiClient {
  /** The canonical server URL (the key of the stored login). */
  readonly serverUrl: string
  /**
   * Each resolves with the parsed JSON answer (null for 204) or throws a CliError. Any other 2xx must
   * carry a JSON object or array; `accept: 'text'` also takes a body that is not JSON (a YAML export).
   */
  get<T = unknown>(path: string, query?: Query, accept?: Accept): Promise<T>
  post<T = unknown>(path: string, body?: unknown, query?: Query): Promise<T>
  put<T = unknown>(path: string, body?: unknown, query?: Query): Promise<T>
  patch<T = unknown>(path: string, body?: unknown, query?: Query): Promise<T>
  delete<T = unknown>(path: string, query?: Query): Promise<T>
  /**
   * A GET whose answer arrives over time (Server-Sent Events): the 2xx Response with its body unread,
   * without the deadline of the other calls; `signal` ends it. Refusals are the same CliErrors.
   */
  stream(path: string, query: Query | undefined, signal: AbortSignal): Promise<Response>
}

/** What a 2xx answer may carry: JSON (an object or an array), or also plain text. */
export type Accept = 'json' | 'text'

export interface ApiClientDeps {
  readonly env?: Env
  readonly credentials?: CredentialStore
  readonly nowMs?: () => number
}

/**
 * `/proxy/targets/${hostname}` with every interpolated value percent-encoded as one path segment. An
 * empty value, "." or ".." is refused (exit 2): URL parsing resolves dot segments (RFC 3986 §5.2.4, and
 * WHATWG URL also for %2E), so `cert delete .` would become DELETE /certificates/.
 */
export function apiPath(strings: TemplateStringsArray, ...values: readonly (string | number)[]): string {
  for (const value of values) {
    const segment = String(value)
    if (segment === '' || segment === '.' || segment === '..') throw new CliError(`"${printable(segment)}" is not a name`, EXIT.usage)
  }
  return strings.reduce((path, text, index) => path + text + (index < values.length ? encodeURIComponent(String(values[index])) : ''), '')
}

/** How to sign in again, for messages: always names the server. */
export const loginHint = (serverUrl: string) => `run: oauth-https-proxy login --url ${serverUrl}`

export function createApiClient(args: ApiArgs, deps: ApiClientDeps = {}): ApiClient {
  const env = deps.env ?? process.env
  const nowMs = deps.nowMs ?? Date.now
  const serverUrl = resolveServerUrl(args, env)
  const givenToken = resolveGivenToken(args, env)
  keepSecret(givenToken)
  keepSecret(args.token)
  const store = deps.credentials ?? createCredentialStore(env)

  function signedIn(): ServerCredentials & { tokens: NonNullable<ServerCredentials['tokens']> } {
    const credentials = store.get(serverUrl)
    keepSecret(credentials?.tokens?.access_token)
    keepSecret(credentials?.tokens?.refresh_token)
    if (!credentials?.tokens) throw new CliError(`not signed in to ${serverUrl}; ${loginHint(serverUrl)}`, EXIT.auth)
    return credentials as ServerCredentials & { tokens: NonNullable<ServerCredentials['tokens']> }
  }

  /** A fresh access token from the refresh token; the rotated pair replaces the stored one. */
  async function refresh(used: string): Promise<string> {
    const credentials = signedIn()
    // Another run may have refreshed since this one read the file: use its token rather than spend ours.
    if (credentials.tokens.access_token !== used && credentials.tokens.expires_at_ms - EXPIRY_SKEW_MS > nowMs()) return credentials.tokens.access_token
    const refreshToken = credentials.tokens.refresh_token
    if (!refreshToken) throw new CliError(`the session at ${serverUrl} has expired; ${loginHint(serverUrl)}`, EXIT.auth)
    const result = await postTokenEndpoint(
      credentials.token_endpoint,
      { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: credentials.client_id, resource: credentials.resource },
      serverUrl,
    )
    if (!result.ok) {
      // RFC 6749 §5.2: the refresh token (or this client) is no longer good; forget it, keep the registration.
      if (['invalid_grant', 'invalid_client', 'unauthorized_client'].includes(result.error)) {
        store.set(serverUrl, { ...credentials, tokens: undefined })
        throw new CliError(`the session at ${serverUrl} has ended (${result.error}); ${loginHint(serverUrl)}`, EXIT.auth)
      }
      throw apiError(result.status, result.body, 'refreshing the access token')
    }
    const tokens = storedTokens(result.tokens, nowMs(), credentials.tokens)
    keepSecret(tokens.access_token)
    keepSecret(tokens.refresh_token)
    store.set(serverUrl, { ...credentials, tokens })
    return tokens.access_token
  }

  async function accessToken(): Promise<string> {
    if (givenToken !== undefined) return givenToken
    const { tokens } = signedIn()
    return tokens.expires_at_ms - EXPIRY_SKEW_MS > nowMs() ? tokens.access_token : refresh(tokens.access_token)
  }

  function urlOf(path: string, query: Query | undefined): URL {
    const url = new URL(serverUrl + (path.startsWith('/') ? path : `/${path}`))
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value))
    return url
  }

  function exchange(method: string, path: string, token: string, body: unknown, query: Query | undefined): Promise<HttpAnswer> {
    const url = urlOf(path, query)
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}`, 'user-agent': `oauth-https-proxy-cli/${VERSION}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    return send(url.href, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, serverUrl)
  }

  async function request<T>(method: string, path: string, body: unknown, query: Query | undefined, accept: Accept = 'json'): Promise<T> {
    let token = await accessToken()
    let answer = await exchange(method, path, token, body, query)
    // RFC 6750 §3.1: invalid_token means this token (expired, revoked, rotated key) — a refresh may help once.
    if (answer.status === 401 && givenToken === undefined && isInvalidToken(answer)) {
      token = await refresh(token)
      answer = await exchange(method, path, token, body, query)
    }
    // A redirect is not followed: the token must not travel to another address.
    if (answer.status < 200 || answer.status >= 300) throw refusal(answer)
    if (answer.status === 204) return null as T
    // A captive portal, a login page or the wrong --url answers 200 with HTML; an empty 200 is no record.
    const isJson = typeof answer.body === 'object' && answer.body !== null
    if (!isJson && !(accept === 'text' && typeof answer.body === 'string')) {
      const type = answer.headers.get('content-type') || 'no content type'
      const what = answer.body === null ? 'an empty body' : 'a body that is not a JSON object or array'
      throw new CliError(`unexpected answer from ${printable(urlOf(path, query).href)}: ${answer.status} with ${what} (${printable(type, 100)})`)
    }
    return answer.body as T
  }

  function refusal(answer: HttpAnswer): CliError {
    const hint = answer.status !== 401 ? undefined : givenToken !== undefined ? 'the token from --token or OHP_TOKEN' : loginHint(serverUrl)
    return apiError(answer.status, answer.body, hint)
  }

  async function stream(path: string, query: Query | undefined, signal: AbortSignal): Promise<Response> {
    const open = async (token: string) => {
      const headers = { accept: 'text/event-stream', authorization: `Bearer ${token}`, 'user-agent': `oauth-https-proxy-cli/${VERSION}` }
      try {
        return await fetch(urlOf(path, query).href, { headers, redirect: 'manual', signal })
      } catch (error) {
        if (signal.aborted) throw error
        throw unreachable(serverUrl, error)
      }
    }
    let token = await accessToken()
    let response = await open(token)
    if (response.status >= 200 && response.status < 300) return response
    let answer = await answerOf(response)
    // RFC 6750 §3.1, as for the other calls: one refresh for an invalid_token.
    if (answer.status === 401 && givenToken === undefined && isInvalidToken(answer)) {
      token = await refresh(token)
      response = await open(token)
      if (response.status >= 200 && response.status < 300) return response
      answer = await answerOf(response)
    }
    throw refusal(answer)
  }

  return {
    serverUrl,
    stream,
    get: (path, query, accept) => request('GET', path, undefined, query, accept),
    post: (path, body, query) => request('POST', path, body, query),
    put: (path, body, query) => request('PUT', path, body, query),
    patch: (path, body, query) => request('PATCH', path, body, query),
    delete: (path, query) => request('DELETE', path, undefined, query),
  }
}

/** A refused stream's status, headers and body (JSON when it parses), as send() reads an answer. */
async function answerOf(response: Response): Promise<HttpAnswer> {
  const text = await response.text().catch(() => '')
  let body: unknown = text === '' ? null : text
  try {
    body = JSON.parse(text)
  } catch {
    // Not JSON: the status alone is said.
  }
  return { status: response.status, headers: response.headers, body }
}

function isInvalidToken(answer: HttpAnswer): boolean {
  const code = (answer.body as { error?: unknown } | null)?.error
  return code === 'invalid_token' || /error="invalid_token"/.test(answer.headers.get('www-authenticate') ?? '')
}
