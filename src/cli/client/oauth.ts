/**
 * @module The CLI as an OAuth client of its own server: RFC 8414 discovery, RFC 7591 registration as a
 * public client, token requests (RFC 8628 device grant, RFC 6749 §6 refresh) and RFC 7009 revocation.
 * The flows themselves (login polling, silent refresh) live with their callers.
 */
import type { StoredTokens } from './credentials.ts'
import { apiError, CliError, EXIT, printable } from './errors.ts'
import { formPost, send } from './http.ts'

export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code'
/** What the CLI may ask for: admin (write) and user (read). mcp is for MCP clients, not the API. */
export const CLI_SCOPES = 'admin user'

export interface ServerMetadata {
  readonly issuer: string
  readonly token_endpoint: string
  readonly device_authorization_endpoint?: string
  readonly registration_endpoint?: string
  readonly revocation_endpoint?: string
}

/** RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path. */
export function metadataUrl(serverUrl: string): string {
  const url = new URL(serverUrl)
  return `${url.origin}/.well-known/oauth-authorization-server${url.pathname === '/' ? '' : url.pathname}`
}

export async function discover(serverUrl: string): Promise<ServerMetadata> {
  const answer = await send(metadataUrl(serverUrl), { headers: { accept: 'application/json' } }, serverUrl)
  if (answer.status !== 200) throw new CliError(`${serverUrl} has no OAuth authorization server (${answer.status} at ${metadataUrl(serverUrl)}); is it an oauth-https-proxy API?`)
  const metadata = answer.body as Partial<ServerMetadata> | null
  if (typeof metadata?.issuer !== 'string' || typeof metadata.token_endpoint !== 'string') {
    throw new CliError(`${serverUrl}: the authorization server metadata lacks issuer or token_endpoint (RFC 8414 §2)`)
  }
  // RFC 8414 §3.3: the issuer MUST be identical to the URL discovery started from (mix-up defence).
  if (metadata.issuer.replace(/\/+$/, '') !== serverUrl) {
    throw new CliError(`${serverUrl} says its issuer is ${printable(metadata.issuer, 200)}, which RFC 8414 §3.3 requires to be the URL itself; check --url`, EXIT.usage)
  }
  return metadata as ServerMetadata
}

/** RFC 6749 §5.1 successful token response (the fields the CLI keeps). */
export interface TokenResponse {
  readonly access_token: string
  readonly token_type: string
  readonly expires_in?: number
  readonly refresh_token?: string
  readonly scope?: string
}

export type TokenResult =
  | { readonly ok: true; readonly tokens: TokenResponse }
  | { readonly ok: false; readonly status: number; readonly error: string; readonly body: unknown }

/** POST to the token (or device authorization) endpoint; an OAuth error comes back as a value, not thrown. */
export async function postTokenEndpoint(endpoint: string, form: Record<string, string | undefined>, serverUrl: string): Promise<TokenResult> {
  const answer = await send(endpoint, formPost(form), serverUrl)
  const body = answer.body as Partial<TokenResponse> & { error?: unknown } | null
  if (answer.status === 200 && typeof body?.access_token === 'string') return { ok: true, tokens: body as TokenResponse }
  return { ok: false, status: answer.status, error: typeof body?.error === 'string' ? body.error : 'invalid_response', body: answer.body }
}

/** RFC 8628 §3.2 device authorization response. */
export interface DeviceAuthorization {
  readonly device_code: string
  readonly user_code: string
  readonly verification_uri: string
  readonly verification_uri_complete?: string
  readonly expires_in: number
  readonly interval?: number
}

export type DeviceStart =
  | { readonly ok: true; readonly device: DeviceAuthorization }
  | { readonly ok: false; readonly status: number; readonly error: string; readonly body: unknown }

/** RFC 8628 §3.1: POST the device authorization endpoint; an OAuth error comes back as a value. */
export async function startDeviceAuthorization(endpoint: string, form: Record<string, string | undefined>, serverUrl: string): Promise<DeviceStart> {
  const answer = await send(endpoint, formPost(form), serverUrl)
  const body = answer.body as Partial<DeviceAuthorization> & { error?: unknown } | null
  if (answer.status === 200 && typeof body?.device_code === 'string' && typeof body.user_code === 'string' && typeof body.verification_uri === 'string' && typeof body.expires_in === 'number') {
    return { ok: true, device: body as DeviceAuthorization }
  }
  return { ok: false, status: answer.status, error: typeof body?.error === 'string' ? body.error : 'invalid_response', body: answer.body }
}

/** What the CLI stores from a token response; expires_in absent means "unknown", treated as one hour. */
export function storedTokens(response: TokenResponse, nowMs: number, previous?: StoredTokens): StoredTokens {
  const lifetimeSec = typeof response.expires_in === 'number' && response.expires_in > 0 ? response.expires_in : 3600
  return {
    access_token: response.access_token,
    // RFC 6749 §6: a refresh response may omit refresh_token, and then the old one stays valid.
    ...(response.refresh_token ?? previous?.refresh_token ? { refresh_token: response.refresh_token ?? previous?.refresh_token } : {}),
    expires_at_ms: nowMs + lifetimeSec * 1000,
    ...(response.scope ?? previous?.scope ? { scope: response.scope ?? previous?.scope } : {}),
  }
}

/** RFC 7009 §2.1: true once revoked (200, also for a token the server no longer knows), else why not. */
export async function revokeToken(endpoint: string, token: string, hint: 'access_token' | 'refresh_token', clientId: string, serverUrl: string): Promise<true | string> {
  try {
    const answer = await send(endpoint, formPost({ token, token_type_hint: hint, client_id: clientId }), serverUrl)
    return answer.status === 200 ? true : apiError(answer.status, answer.body).message
  } catch (error) {
    return (error as Error).message
  }
}

/** The claims of a JWT, decoded WITHOUT verification: only for showing the user what they hold. */
export function decodeJwtPayload(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1]
  if (payload === undefined) return null
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null
  } catch {
    return null
  }
}
