/**
 * @module The device authorization endpoint (RFC 8628 §3.1–§3.2) and the device grant at /token
 * (§3.4–§3.5), delegated to GitHub's device flow (src/oauth/device). Form body, client authentication
 * as at /token, answers never cached, readable from any origin, served only on issuer hosts.
 */
import type { Context } from 'hono'
import * as v from 'valibot'
import type { Logger } from '../../lib/index.ts'
import {
  AS_ENDPOINT_PATHS,
  DEVICE_CODE_GRANT_TYPE,
  deviceScopes,
  type ClientRegistry,
  type ClientRules,
  type DeviceAuthorizations,
  type DeviceStartResult,
  type ResolveIssuer,
} from '../../oauth/index.ts'
import { allowAnyOrigin, corsPreflightRoute } from '../cors.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'
import { ApiError } from '../errors.ts'
import { authenticateClient } from './client-auth.ts'
import { readFormBody } from './form-body.ts'
import type { DeviceGrantHandler } from './token.ts'

const TAG = 'oauth'
const MAX_FORM_BYTES = 16 * 1024

export interface DeviceRoutesDeps {
  readonly devices: DeviceAuthorizations
  /** The registry, or a ClientFinder (metadata-document clients too). */
  readonly registry: Pick<ClientRegistry, 'authenticate'>
  readonly resolveIssuer: ResolveIssuer
  /** RFC 8707: the canonical resource, the API's when absent, null when unknown (invalid_target). */
  readonly resolveResource: (requested: string | undefined) => Promise<string | null>
  /** Which resources a client may ask for (a first-party client is bound to its own); absent: any. */
  readonly clientRules?: Pick<ClientRules, 'mayUseResource'>
  readonly logger: Logger
}

const DeviceAuthorizationResponseSchema = v.object({
  device_code: v.string(),
  user_code: v.string(),
  verification_uri: v.string(),
  expires_in: v.number(),
  interval: v.number(),
})

/** Why starting failed, in words for the client; the detail of GitHub's answer is in the log. */
const START_FAILURES: Record<Extract<DeviceStartResult, { ok: false }>['reason'], string> = {
  no_github_app: 'no GitHub app is configured for this resource',
  device_flow_disabled: 'the GitHub app for this resource does not have the device flow enabled',
  bad_credentials: 'GitHub refused the configured GitHub app',
  upstream: 'GitHub did not answer the device authorization request; retry later',
}

/** Wire text per poll error: never says which check failed beyond the code itself. */
const POLL_TEXT = {
  authorization_pending: 'the user has not yet approved the request at the verification URI (RFC 8628 §3.5)',
  slow_down: 'polling too fast: wait the interval, which grows by 5 seconds (RFC 8628 §3.5)',
  expired_token: 'the device_code has expired; start a new device authorization (RFC 8628 §3.5)',
  access_denied: 'the authorization request was denied (RFC 8628 §3.5)',
  invalid_grant: 'the device_code is invalid, already used, or was issued to another client',
} as const

export function deviceRoutes(deps: DeviceRoutesDeps): RouteSpec[] {
  const { devices, logger } = deps

  async function deviceCode(c: Context): Promise<Response> {
    // RFC 8628 §3.2 / RFC 6749 §5.1: an answer carrying a credential is never cached.
    allowAnyOrigin(c)
    c.header('Cache-Control', 'no-store')
    c.header('Pragma', 'no-cache')
    const issuer = await deps.resolveIssuer(c.req.raw)
    if (issuer === null) throw new ApiError(404, 'not_found', 'no authorization server at this address')
    const form = await readFormBody(c, { maxBytes: MAX_FORM_BYTES, repeatable: ['resource'] })
    const client = await authenticateClient(c, form, deps)
    if (!client.grant_types.includes(DEVICE_CODE_GRANT_TYPE)) throw new ApiError(400, 'unauthorized_client', `this client is not registered for the ${DEVICE_CODE_GRANT_TYPE} grant`)
    const resources = form.getAll('resource')
    if (resources.length > 1) throw new ApiError(400, 'invalid_target', 'at most one resource: every token has exactly one audience (RFC 8707 §2)')
    const resource = await deps.resolveResource(resources[0])
    if (resource === null) throw new ApiError(400, 'invalid_target', 'resource is not a resource of this authorization server (RFC 8707 §2)')
    if (deps.clientRules && !(await deps.clientRules.mayUseResource(client, resource))) throw new ApiError(400, 'invalid_target', 'this client may not ask for tokens for this resource (RFC 8707 §2)')
    const scopes = deviceScopes(form.get('scope'), client.scope)
    if (scopes === null || scopes.length === 0) throw new ApiError(400, 'invalid_scope', 'scope must name scopes this client is registered for: admin, user, mcp (RFC 6749 §3.3)')

    const started = await devices.start({ clientId: client.client_id, issuer, resource, scopes })
    if (!started.ok) {
      logger.warn('device authorization could not start', { clientId: client.client_id, resource, reason: started.reason })
      throw new ApiError(started.reason === 'upstream' ? 502 : 503, 'server_error', START_FAILURES[started.reason])
    }
    // RFC 8628 §3.2; GitHub has no verification_uri_complete, so none is sent.
    return c.json({
      device_code: started.deviceCode,
      user_code: started.userCode,
      verification_uri: started.verificationUri,
      expires_in: started.expiresInSec,
      interval: started.intervalSec,
    }, 200)
  }

  return [
    defineRoute({
      method: 'post',
      path: AS_ENDPOINT_PATHS.deviceAuthorization,
      scope: 'public',
      tag: TAG,
      summary: 'Device authorization (RFC 8628 §3.1): starts GitHub\'s device flow; poll /token with the device_code',
      responses: {
        200: { description: 'RFC 8628 §3.2 device authorization response', schema: DeviceAuthorizationResponseSchema },
        400: { description: 'RFC 6749 §5.2 error: invalid_request, unauthorized_client, invalid_scope, invalid_target' },
        401: { description: 'invalid_client: client authentication failed' },
        404: { description: 'this host is not an issuer of this server' },
        502: { description: 'server_error: GitHub did not answer' },
        503: { description: 'server_error: no usable GitHub app for this resource' },
      },
      handler: deviceCode,
    }),
    corsPreflightRoute(AS_ENDPOINT_PATHS.deviceAuthorization, ['POST'], TAG),
  ]
}

/** The device grant for tokenRoutes({ deviceGrant }): RFC 8628 §3.4 request, §3.5 errors. */
export function createDeviceGrant(deps: { readonly devices: DeviceAuthorizations; readonly logger: Logger }): DeviceGrantHandler {
  return async (params, client, issuer) => {
    const deviceCode = params.get('device_code')
    if (deviceCode === undefined) throw new ApiError(400, 'invalid_request', 'device_code is required (RFC 8628 §3.4)')
    const result = await deps.devices.poll({ deviceCode, clientId: client.client_id, issuer })
    if (result.ok) return result.tokens
    if (result.error !== 'authorization_pending' && result.error !== 'slow_down') {
      deps.logger.info('device grant refused', { clientId: client.client_id, error: result.error, reason: result.reason })
    }
    throw new ApiError(400, result.error, POLL_TEXT[result.error])
  }
}
