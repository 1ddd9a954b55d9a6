/**
 * @module The token endpoint (RFC 6749 §3.2, OAuth 2.1 §3.2), revocation (RFC 7009) and
 * introspection (RFC 7662). Form bodies only, client authentication per the client's registered
 * method, answers never cached, errors exactly per RFC 6749 §5.2: 400 with the code, except
 * invalid_client (401). Served only on issuer hosts, like every authorization server endpoint, and
 * readable from any origin for browser-based MCP clients.
 *
 * Every token issued records the client's use (last_used_at, and an unused client stops expiring).
 * Introspection answers a client only about its own tokens, unless an admin marked it a resource server.
 */
import type { Context } from 'hono'
import * as v from 'valibot'
import type { Logger } from '../../lib/index.ts'
import {
  AS_ENDPOINT_PATHS,
  DEVICE_CODE_GRANT_TYPE,
  type ClientRegistry,
  type GrantFailure,
  type GrantType,
  type Grants,
  type OAuthClient,
  type ResolveIssuer,
  type TokenResult,
} from '../../oauth/index.ts'
import { allowAnyOrigin, corsPreflightRoute } from '../cors.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'
import { ApiError } from '../errors.ts'
import { authenticateClient, invalidClient } from './client-auth.ts'
import { readFormBody, type FormParams } from './form-body.ts'

const TAG = 'oauth'
/** A token request is a few hundred bytes. */
const MAX_FORM_BYTES = 16 * 1024

/**
 * RFC 8628 §3.4: grant_type=urn:ietf:params:oauth:grant-type:device_code, for an authenticated client
 * registered for it. Answers with tokens, or throws ApiError(400, authorization_pending | slow_down |
 * expired_token | access_denied | invalid_grant, …).
 */
export type DeviceGrantHandler = (params: FormParams, client: OAuthClient, issuer: string) => Promise<TokenResult>

export interface TokenRoutesDeps {
  readonly grants: Grants
  /** The registry, or a ClientFinder so that metadata-document (CIMD) clients can use the token endpoint too. */
  readonly registry: Pick<ClientRegistry, 'authenticate' | 'recordUse'>
  readonly resolveIssuer: ResolveIssuer
  readonly logger: Logger
  /** Absent: the device grant is unsupported_grant_type. */
  readonly deviceGrant?: DeviceGrantHandler
}

const TokenResponseSchema = v.object({
  access_token: v.string(),
  token_type: v.literal('Bearer'),
  expires_in: v.number(),
  refresh_token: v.string(),
  scope: v.string(),
})

const ERRORS = {
  400: { description: 'RFC 6749 §5.2 error: invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, invalid_target' },
  401: { description: 'invalid_client: client authentication failed (WWW-Authenticate: Basic when Basic was tried)' },
  404: { description: 'this host is not an issuer of this server' },
} as const

/** What the wire says for each grant failure: the same for every reason, so nobody learns which check failed. */
const GRANT_ERROR_TEXT: Record<GrantFailure['error'], string> = {
  invalid_grant: 'the authorization grant or refresh token is invalid, expired, revoked, already used, or was issued to another client',
  invalid_target: 'resource must be the resource this grant was issued for (RFC 8707 §2.2)',
  invalid_scope: 'scope may name only scopes of the original grant (RFC 6749 §6)',
}

/** RFC 6749 §5.1: responses carrying tokens or credentials are never cached. Errors inherit it. */
function begin(c: Context): void {
  allowAnyOrigin(c)
  c.header('Cache-Control', 'no-store')
  c.header('Pragma', 'no-cache')
}

function required(form: FormParams, name: string): string {
  const value = form.get(name)
  if (value === undefined) throw new ApiError(400, 'invalid_request', `${name} is required`)
  return value
}

/** RFC 8707 §2: resource may repeat, but a token here has exactly one audience. */
function singleResource(form: FormParams): string | undefined {
  const all = form.getAll('resource')
  if (all.length > 1) throw new ApiError(400, 'invalid_target', 'at most one resource per token request: every token has exactly one audience (RFC 8707 §2)')
  return all[0]
}

/** RFC 6749 §5.2 unauthorized_client: the client is not registered for this grant type (RFC 7591 §2 grant_types). */
function requireGrantType(client: OAuthClient, grantType: GrantType): void {
  if (!client.grant_types.includes(grantType)) throw new ApiError(400, 'unauthorized_client', `this client is not registered for the ${grantType} grant`)
}

export function tokenRoutes(deps: TokenRoutesDeps): RouteSpec[] {
  const { grants, logger } = deps

  /** The issuer of this host, or 404 like every AS endpoint on a host that is not ours. */
  async function issuerOf(c: Context): Promise<string> {
    const issuer = await deps.resolveIssuer(c.req.raw)
    if (issuer === null) throw new ApiError(404, 'not_found', 'no authorization server at this address')
    return issuer
  }

  /** Issuer, form and client, in the order the errors must come: 404, 400 for the body, then 401. */
  async function readRequest(c: Context) {
    begin(c)
    const issuer = await issuerOf(c)
    const form = await readFormBody(c, { maxBytes: MAX_FORM_BYTES, repeatable: ['resource'] })
    const client = await authenticateClient(c, form, deps)
    return { issuer, form, client }
  }

  /**
   * Tokens were issued to the client: its use is recorded, which also lifts an unused client's expiry.
   * A client that vanished meanwhile (it expired, or an admin deleted it, after it authenticated) keeps
   * nothing: the tokens just issued are revoked and the answer is the one for an unknown client.
   */
  async function recordUse(client: OAuthClient): Promise<void> {
    let exists: boolean
    try {
      exists = await deps.registry.recordUse(client)
    } catch (error) {
      // Only a first use must be written (it ends the client's expiry); a later one only moves last_used_at.
      if (client.expires_at !== undefined) throw error
      logger.warn('last use of a client not recorded', { clientId: client.client_id, error: String(error) })
      return
    }
    if (exists) return
    await grants.revokeClientFamilies(client.client_id)
    logger.info('tokens revoked: the client was deleted or expired while they were issued', { clientId: client.client_id })
    throw invalidClient(false)
  }

  function refuse(failure: GrantFailure, grantType: string, client: OAuthClient): never {
    logger.info('token request refused', { grantType, clientId: client.client_id, error: failure.error, reason: failure.reason })
    throw new ApiError(400, failure.error, GRANT_ERROR_TEXT[failure.error])
  }

  async function token(c: Context): Promise<Response> {
    const { issuer, form, client } = await readRequest(c)
    const grantType = required(form, 'grant_type')
    let tokens: TokenResult
    switch (grantType) {
      case 'authorization_code': {
        requireGrantType(client, 'authorization_code')
        const result = await grants.exchangeAuthorizationCode({
          code: required(form, 'code'),
          clientId: client.client_id,
          // RFC 6749 §4.1.3: required, as /authorize always takes one; OAuth 2.1 clients still send it.
          redirectUri: required(form, 'redirect_uri'),
          // OAuth 2.1 §4.1.3: PKCE is required of every client, so the verifier is a required parameter.
          codeVerifier: required(form, 'code_verifier'),
          issuer,
          resource: singleResource(form),
        })
        if (!result.ok) refuse(result, grantType, client)
        tokens = result.tokens
        break
      }
      case 'refresh_token': {
        requireGrantType(client, 'refresh_token')
        const result = await grants.refresh({
          refreshToken: required(form, 'refresh_token'),
          clientId: client.client_id,
          issuer,
          resource: singleResource(form),
          scope: form.get('scope'),
        })
        if (!result.ok) refuse(result, grantType, client)
        tokens = result.tokens
        break
      }
      case DEVICE_CODE_GRANT_TYPE: {
        if (!deps.deviceGrant) throw new ApiError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported here`)
        requireGrantType(client, DEVICE_CODE_GRANT_TYPE)
        tokens = await deps.deviceGrant(form, client, issuer)
        break
      }
      default:
        throw new ApiError(400, 'unsupported_grant_type', 'grant_type must be authorization_code, refresh_token or the device_code grant')
    }
    await recordUse(client)
    return c.json(tokens, 200)
  }

  async function revoke(c: Context): Promise<Response> {
    const { form, client } = await readRequest(c)
    // RFC 7009 §2.1: token_type_hint is optional and only a hint; ours are told apart by their form.
    const outcome = await grants.revoke(required(form, 'token'), client.client_id)
    logger.info('token revocation', { clientId: client.client_id, outcome })
    // RFC 7009 §2.2: 200 whether or not there was anything to revoke.
    return c.body(null, 200)
  }

  async function introspect(c: Context): Promise<Response> {
    const { form, client } = await readRequest(c)
    // RFC 7662 §2.1 / §4: the endpoint is protected against token scanning; a public client has no credential.
    if (client.token_endpoint_auth_method === 'none') throw invalidClient(false, 'introspection requires a confidential client (RFC 7662 §2.1)')
    const answer = await grants.introspect(required(form, 'token'))
    // RFC 7662 §4: the server decides which callers may learn about which tokens. Here a client learns
    // only about its own, and a resource server (an admin's flag) about all, so no client can read
    // another's users through their tokens. Anyone else gets what an unknown token gets (§2.2).
    if (answer.active && answer.client_id !== client.client_id && client.resource_server !== true) {
      logger.info('introspection of another client\'s token answered inactive', { clientId: client.client_id })
      return c.json({ active: false }, 200)
    }
    return c.json(answer, 200)
  }

  const post = (path: string, summary: string, responses: RouteSpec['responses'], handler: (c: Context) => Promise<Response>) =>
    defineRoute({ method: 'post', path, scope: 'public', tag: TAG, summary, responses: { ...responses, ...ERRORS }, handler })

  return [
    post(
      AS_ENDPOINT_PATHS.token,
      'Token endpoint (RFC 6749 §3.2): authorization_code with PKCE, refresh_token (rotating), device_code; form body',
      { 200: { description: 'RFC 6749 §5.1 token response', schema: TokenResponseSchema } },
      token,
    ),
    corsPreflightRoute(AS_ENDPOINT_PATHS.token, ['POST'], TAG),
    post(AS_ENDPOINT_PATHS.revocation, 'Revoke an access or refresh token (RFC 7009); 200 also for unknown tokens', { 200: { description: 'revoked, or nothing to revoke' } }, revoke),
    corsPreflightRoute(AS_ENDPOINT_PATHS.revocation, ['POST'], TAG),
    post(
      AS_ENDPOINT_PATHS.introspection,
      'Introspect a token (RFC 7662); confidential clients only, about their own tokens (a resource server: any)',
      { 200: { description: 'RFC 7662 §2.2: {active: false} alone for any token that is not active', schema: v.looseObject({ active: v.boolean() }) } },
      introspect,
    ),
    corsPreflightRoute(AS_ENDPOINT_PATHS.introspection, ['POST'], TAG),
  ]
}
