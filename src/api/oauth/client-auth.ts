/**
 * @module Client authentication at the token, revocation and introspection endpoints (RFC 6749
 * §2.3.1): HTTP Basic (client_secret_basic), the secret in the form (client_secret_post), or only a
 * client_id for public clients (none); each client must use the method it registered. invalid_client
 * means exactly this failed, because MCP clients throw their registration away when they see it.
 */
import type { Context } from 'hono'
import type { Logger } from '../../lib/index.ts'
import type { ClientRegistry, OAuthClient, TokenEndpointAuthMethod } from '../../oauth/index.ts'
import { ApiError } from '../errors.ts'
import { decodeFormComponent, type FormParams } from './form-body.ts'

const REALM = 'oauth-https-proxy'

export type BasicAuthorization =
  | { readonly kind: 'absent' }
  | { readonly kind: 'other-scheme' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'credentials'; readonly clientId: string; readonly secret: string }

/**
 * RFC 6749 §2.3.1: `Basic base64(urlencode(client_id) ":" urlencode(client_secret))`, each part
 * form-urlencoded before base64 (RFC 7617 §2 otherwise), so both are decoded after the split.
 */
export function parseBasicAuthorization(header: string | undefined): BasicAuthorization {
  if (header === undefined) return { kind: 'absent' }
  const match = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header)
  if (!match) return /^Basic\b/i.test(header) ? { kind: 'malformed' } : { kind: 'other-scheme' }
  let decoded: string
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(match[1]!, 'base64'))
  } catch {
    return { kind: 'malformed' }
  }
  const colon = decoded.indexOf(':')
  if (colon === -1) return { kind: 'malformed' }
  try {
    const clientId = decodeFormComponent(decoded.slice(0, colon))
    const secret = decodeFormComponent(decoded.slice(colon + 1))
    return clientId === '' || secret === '' ? { kind: 'malformed' } : { kind: 'credentials', clientId, secret }
  } catch {
    return { kind: 'malformed' }
  }
}

/**
 * RFC 6749 §5.2: 401 invalid_client, with a Basic challenge when the client tried Basic. Without one
 * there is no challenge: a Basic challenge in answer to a page's fetch could make a browser open
 * its password dialog.
 */
export function invalidClient(basicTried: boolean, description = 'client authentication failed'): ApiError {
  return new ApiError(401, 'invalid_client', description, basicTried ? { 'WWW-Authenticate': `Basic realm="${REALM}"` } : {})
}

export interface ClientAuthDeps {
  /** The registry, or a ClientFinder, which also authenticates metadata-document (CIMD) clients. */
  readonly registry: Pick<ClientRegistry, 'authenticate'>
  readonly logger: Logger
}

/** The authenticated client, or throws invalid_client (401) / invalid_request (400). */
export async function authenticateClient(c: Context, form: FormParams, deps: ClientAuthDeps): Promise<OAuthClient> {
  const basic = parseBasicAuthorization(c.req.header('authorization'))
  const bodyId = form.get('client_id')
  const bodySecret = form.get('client_secret')
  if (basic.kind === 'malformed') throw invalidClient(true, 'the Authorization header is not valid Basic client credentials (RFC 6749 §2.3.1)')

  let clientId: string
  let secret: string | undefined
  let method: TokenEndpointAuthMethod
  if (basic.kind === 'credentials') {
    // RFC 6749 §2.3: a client MUST NOT use more than one authentication method in each request.
    if (bodySecret !== undefined) throw new ApiError(400, 'invalid_request', 'client credentials in both the Authorization header and the body; use one method (RFC 6749 §2.3)')
    if (bodyId !== undefined && bodyId !== basic.clientId) throw new ApiError(400, 'invalid_request', 'client_id in the body differs from the one in the Authorization header')
    ;({ clientId, secret } = basic)
    method = 'client_secret_basic'
  } else if (bodySecret !== undefined) {
    if (bodyId === undefined) throw new ApiError(400, 'invalid_request', 'client_secret requires client_id (RFC 6749 §2.3.1)')
    ;[clientId, secret, method] = [bodyId, bodySecret, 'client_secret_post']
  } else if (bodyId !== undefined) {
    // RFC 6749 §3.2.1: a public client identifies itself with client_id alone.
    ;[clientId, secret, method] = [bodyId, undefined, 'none']
  } else {
    throw invalidClient(false, 'client authentication is required: client_id, with the secret when the client has one (RFC 6749 §3.2.1)')
  }

  const result = await deps.registry.authenticate(clientId, secret, method)
  if (!result.ok) {
    // An unknown id is whatever the caller typed (possibly a token pasted in the wrong field): not logged.
    deps.logger.info('client authentication failed', { path: c.req.path, method, reason: result.reason, ...(result.reason === 'unknown_client' ? {} : { clientId }) })
    throw invalidClient(method === 'client_secret_basic')
  }
  return result.client
}
