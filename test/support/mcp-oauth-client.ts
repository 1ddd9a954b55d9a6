/**
 * @module The MCP TypeScript SDK's client as an MCP host would run it, with nobody at the keyboard: an
 * OAuthClientProvider that keeps everything in memory and, when the SDK sends the user to /authorize,
 * walks that URL through the consent page's own form and the GitHub fake (driveBrowser) and keeps the
 * code for the SDK's finishAuth; a fetch that records every request (and the grant type of each token
 * request) and trusts the edge's self-signed certificates; and connectWithOAuth, the SDK's documented
 * sequence: connect, get UnauthorizedError after the redirect, finishAuth(code), connect again.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js'
import type { Notification } from '@modelcontextprotocol/sdk/types.js'
import { driveBrowser, type OAuthE2E } from './oauth-e2e.ts'

export interface FetchRecord {
  readonly method: string
  readonly url: string
  readonly status: number
  /** The grant_type of a form-encoded POST (the token endpoint's requests). */
  readonly grantType?: string
  /** The response's WWW-Authenticate, when it has one. */
  readonly challenge?: string
}

export interface RecordingFetch {
  readonly fetch: FetchLike
  readonly log: FetchRecord[]
}

/**
 * Bun's fetch, recording each request. It accepts any certificate: the edge serves a proxy without an
 * issued certificate with a self-signed one for its own name (Bun's `tls` option; plain http ignores it).
 */
export function recordingFetch(): RecordingFetch {
  const log: FetchRecord[] = []
  const recorded: FetchLike = async (input, init) => {
    const response = await fetch(input, { ...init, tls: { rejectUnauthorized: false } } as RequestInit)
    const body = init?.body
    const form = body instanceof URLSearchParams ? body : typeof body === 'string' && body.includes('grant_type=') ? new URLSearchParams(body) : null
    const grantType = form?.get('grant_type') ?? undefined
    const challenge = response.headers.get('www-authenticate') ?? undefined
    log.push({ method: init?.method ?? 'GET', url: String(input), status: response.status, ...(grantType ? { grantType } : {}), ...(challenge ? { challenge } : {}) })
    return response
  }
  return { fetch: recorded, log }
}

export interface BrowserDrivenOptions {
  /** The GitHub login the fake signs in. */
  readonly login: string
  /** A loopback redirect URI (RFC 8252 §7.3) that is never fetched: the browser stops when it is sent there. */
  readonly redirectUrl: string
  readonly clientName: string
}

/** In-memory OAuthClientProvider whose "browser" is driveBrowser: consent through its own form, GitHub fake, /callback. */
export class BrowserDrivenProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined
  saved: OAuthTokens | undefined
  /** Every authorization URL the SDK sent the user to. */
  readonly authorizationUrls: URL[] = []
  /** Every token set the SDK saved, in order. */
  readonly tokenHistory: OAuthTokens[] = []
  /** Every invalidateCredentials call: the SDK drops what it holds after a failed grant. */
  readonly invalidations: string[] = []
  /** The consent page the user approved last. */
  consentHtml = ''
  private verifier: string | undefined
  private code: string | undefined
  private readonly stateValue = crypto.randomUUID()

  constructor(
    private readonly t: OAuthE2E,
    private readonly options: BrowserDrivenOptions,
  ) {}

  get redirectUrl() {
    return this.options.redirectUrl
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.options.clientName,
      redirect_uris: [this.options.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
  }
  state() {
    return this.stateValue
  }
  clientInformation() {
    return this.client
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info
  }
  tokens() {
    return this.saved
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens
    this.tokenHistory.push(tokens)
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier
  }
  codeVerifier() {
    if (this.verifier === undefined) throw new Error('no code verifier saved')
    return this.verifier
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    this.invalidations.push(scope)
    if (scope === 'all' || scope === 'client') this.client = undefined
    if (scope === 'all' || scope === 'tokens') this.saved = undefined
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined
  }

  /**
   * The user's part, done at once: the browser follows the URL and lands on the redirect URI, whose
   * state and iss (RFC 9207 §2.4) the client checks before it keeps the code.
   */
  async redirectToAuthorization(url: URL) {
    this.authorizationUrls.push(url)
    const run = await driveBrowser(this.t, url, this.options.login)
    this.consentHtml = run.consentHtml
    const final = run.final
    if (final.origin + final.pathname !== this.options.redirectUrl) throw new Error(`the browser ended at ${final.href}`)
    if (final.searchParams.get('state') !== this.stateValue) throw new Error('the state came back changed')
    if (final.searchParams.get('iss') !== this.t.issuer) throw new Error(`iss ${final.searchParams.get('iss')} is not ${this.t.issuer}`)
    const code = final.searchParams.get('code')
    if (code === null) throw new Error(`no code: ${final.searchParams.get('error')} ${final.searchParams.get('error_description') ?? ''}`)
    this.code = code
  }

  /** The code the last authorization returned, once. */
  takeCode(): string {
    const code = this.code
    if (code === undefined) throw new Error('no authorization code: the SDK never sent the user to /authorize')
    this.code = undefined
    return code
  }
}

export interface ConnectedClient {
  readonly client: Client
  readonly transport: StreamableHTTPClientTransport
  /** Every notification the server sent, in arrival order. */
  readonly notifications: Notification[]
  /** Errors the transport reported (a dropped SSE stream, a failed reconnection). */
  readonly transportErrors: Error[]
}

/**
 * The SDK's sequence for an interactive client: the first connect meets the 401 and runs auth() up to
 * redirectToAuthorization (which, here, already holds the code when it returns) and fails with
 * UnauthorizedError; finishAuth redeems the code; a new transport connects with the token.
 */
export async function connectWithOAuth(serverUrl: URL, provider: BrowserDrivenProvider, fetchFn: FetchLike): Promise<ConnectedClient> {
  const first = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider, fetch: fetchFn })
  try {
    return await connect(serverUrl, provider, fetchFn, first)
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error
  }
  await first.finishAuth(provider.takeCode())
  return connect(serverUrl, provider, fetchFn)
}

async function connect(serverUrl: URL, provider: BrowserDrivenProvider, fetchFn: FetchLike, transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider, fetch: fetchFn })): Promise<ConnectedClient> {
  const notifications: Notification[] = []
  const transportErrors: Error[] = []
  const client = new Client({ name: 'mcp-sdk-e2e', version: '1.0.0' })
  client.fallbackNotificationHandler = async (notification) => void notifications.push(notification)
  transport.onerror = (error) => void transportErrors.push(error)
  await client.connect(transport)
  return { client, transport, notifications, transportErrors }
}
