/**
 * @module Dynamic client registration: POST /register (RFC 7591 §3), the client configuration
 * endpoint GET/PUT/DELETE /register/{client_id} (RFC 7592 §2, authenticated by the registration
 * access token) and the admin view GET /oauth/clients. Errors are RFC 7591 §3.2.2 / RFC 6750 §3.1
 * codes in the API's {error, error_description} body.
 */
import type { Context } from 'hono'
import * as v from 'valibot'
import { OAuthClientSchema, parseClientMetadata, type ClientRegistry, type OAuthClient, type ResolveIssuer } from '../../oauth/index.ts'
import { allowAnyOrigin, corsPreflightRoute } from '../cors.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'
import { ApiError } from '../errors.ts'
import { readJsonBody } from './json-body.ts'

/** A registration is a few hundred bytes; 64 KiB is generous and bounds what an anonymous caller can make us parse. */
const MAX_REGISTRATION_BODY_BYTES = 64 * 1024
const TAG = 'oauth'

/** RFC 7591 §3.2.1 + RFC 7592 §3: the client information response. */
const ClientInformationSchema = v.object({
  ...OAuthClientSchema.entries,
  client_secret: v.optional(v.string()),
  registration_access_token: v.string(),
  registration_client_uri: v.string(),
})

const ERROR_RESPONSES = {
  400: { description: 'invalid_redirect_uri or invalid_client_metadata (RFC 7591 §3.2.2)' },
  413: { description: 'the body is larger than 64 KiB' },
} as const
const UNAUTHORIZED = { 401: { description: 'missing or wrong registration access token, or no such client (RFC 7592 §2.1)' } } as const

/** RFC 6750 §3: no credentials → a bare challenge, no error code. */
function missingToken(): ApiError {
  return new ApiError(401, 'invalid_token', 'the registration access token is required (Authorization: Bearer)', { 'WWW-Authenticate': 'Bearer' })
}

/** RFC 6750 §3.1 invalid_token; also RFC 7592 §2.1's answer for a client that does not exist. */
function invalidToken(): ApiError {
  return new ApiError(401, 'invalid_token', 'the registration access token is invalid', { 'WWW-Authenticate': 'Bearer error="invalid_token"' })
}

function bearerToken(c: Context): string {
  const header = c.req.header('authorization')
  if (!header) throw missingToken()
  // RFC 6750 §2.1 b64token syntax.
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header)
  if (!match) throw invalidToken()
  return match[1]!
}

/** RFC 7592 §2: the registration access token must belong to the client named in the path. */
async function authorizedClient(c: Context, registry: ClientRegistry): Promise<{ client: OAuthClient; token: string }> {
  const token = bearerToken(c)
  const client = await registry.verifyRegistrationToken(c.req.param('client_id') ?? '', token)
  // RFC 7592 §2.1: an unknown client gets 401, like a wrong token, so client ids cannot be probed.
  if (!client) throw invalidToken()
  return { client, token }
}

/** Secrets and registration tokens travel in these bodies: never cached (RFC 7591 §3.2.1 example, RFC 6749 §5.1). */
function clientInformation(c: Context, client: OAuthClient, registrationAccessToken: string, clientSecret: string | undefined, status: 200 | 201): Response {
  c.header('Cache-Control', 'no-store')
  c.header('Pragma', 'no-cache')
  const registrationClientUri = `${c.get('issuer') ?? new URL(c.req.url).origin}/register/${encodeURIComponent(client.client_id)}`
  return c.json(
    {
      ...client,
      ...(clientSecret === undefined ? {} : { client_secret: clientSecret }),
      registration_access_token: registrationAccessToken,
      registration_client_uri: registrationClientUri,
    },
    status,
  )
}

function metadataFrom(body: unknown) {
  const parsed = parseClientMetadata(body)
  if (!parsed.ok) throw new ApiError(400, parsed.error, parsed.description)
  return parsed.metadata
}

const readBody = (c: Context) => readJsonBody(c, { maxBytes: MAX_REGISTRATION_BODY_BYTES, invalidCode: 'invalid_client_metadata' })

/** RFC 7592 §2.2: the update must name the client, and may repeat its secret but never choose one. */
async function checkUpdateIdentity(registry: ClientRegistry, client: OAuthClient, body: unknown): Promise<void> {
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
  if (fields.client_id !== client.client_id) {
    throw new ApiError(400, 'invalid_client_metadata', 'client_id: must be included and equal the registered client_id (RFC 7592 §2.2)')
  }
  const secret = fields.client_secret
  if (secret === undefined || secret === null) return
  const matches = typeof secret === 'string' && (await registry.authenticate(client.client_id, secret, client.token_endpoint_auth_method)).ok
  if (!matches) throw new ApiError(400, 'invalid_client_metadata', 'client_secret: must equal the issued secret; a client cannot choose its own (RFC 7592 §2.2)')
}

/**
 * With resolveIssuer, registration is served only on issuer hosts (404 elsewhere, like every AS
 * endpoint) and registration_client_uri is built from the issuer, never from an arbitrary Host.
 */
export function registerRoutes(registry: ClientRegistry, resolveIssuer?: ResolveIssuer): RouteSpec[] {
  const onIssuerHost = async (c: Context) => {
    if (!resolveIssuer) return
    const issuer = await resolveIssuer(c.req.raw)
    if (issuer === null) throw new ApiError(404, 'not_found', 'no authorization server at this address')
    c.set('issuer', issuer)
  }
  return [
    defineRoute({
      method: 'post',
      path: '/register',
      scope: 'public',
      tag: TAG,
      summary: 'Register an OAuth client (RFC 7591); the secret and registration access token are shown only here',
      responses: { 201: { description: 'the client information response (RFC 7591 §3.2.1)', schema: ClientInformationSchema }, ...ERROR_RESPONSES },
      async handler(c) {
        await onIssuerHost(c)
        allowAnyOrigin(c)
        const metadata = metadataFrom(await readBody(c))
        const registered = await registry.register(metadata)
        return clientInformation(c, registered.client, registered.registrationAccessToken, registered.clientSecret, 201)
      },
    }),
    corsPreflightRoute('/register', ['POST'], TAG),
    defineRoute({
      method: 'get',
      path: '/register/:client_id',
      scope: 'public',
      ownCredential: 'registrationAccessToken',
      tag: TAG,
      summary: 'Read a client registration (RFC 7592 §2.1; Bearer registration access token)',
      responses: { 200: { description: 'the client information, without the secret', schema: ClientInformationSchema }, ...UNAUTHORIZED },
      async handler(c) {
        await onIssuerHost(c)
        allowAnyOrigin(c)
        const { client, token } = await authorizedClient(c, registry)
        return clientInformation(c, client, token, undefined, 200)
      },
    }),
    defineRoute({
      method: 'put',
      path: '/register/:client_id',
      scope: 'public',
      ownCredential: 'registrationAccessToken',
      tag: TAG,
      summary: 'Replace a client registration (RFC 7592 §2.2): omitted fields are removed; client_id and the secret stay',
      responses: { 200: { description: 'the client information; client_secret only if a new one was issued', schema: ClientInformationSchema }, ...ERROR_RESPONSES, ...UNAUTHORIZED },
      async handler(c) {
        await onIssuerHost(c)
        allowAnyOrigin(c)
        const { client, token } = await authorizedClient(c, registry)
        const body = await readBody(c)
        await checkUpdateIdentity(registry, client, body)
        const updated = await registry.update(client.client_id, metadataFrom(body))
        // Deleted between the token check and the write: the same answer as for any unknown client.
        if (!updated) throw invalidToken()
        return clientInformation(c, updated.client, token, updated.clientSecret, 200)
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/register/:client_id',
      scope: 'public',
      ownCredential: 'registrationAccessToken',
      tag: TAG,
      summary: 'Delete a client registration (RFC 7592 §2.3)',
      responses: { 204: { description: 'deleted; the client id, secret and registration access token stop working' }, ...UNAUTHORIZED },
      async handler(c) {
        await onIssuerHost(c)
        allowAnyOrigin(c)
        const { client } = await authorizedClient(c, registry)
        await registry.delete(client.client_id)
        c.header('Cache-Control', 'no-store')
        return c.body(null, 204)
      },
    }),
    corsPreflightRoute('/register/:client_id', ['GET', 'PUT', 'DELETE'], TAG),
    defineRoute({
      method: 'get',
      path: '/oauth/clients',
      scope: 'admin',
      tag: TAG,
      summary: 'List registered OAuth clients (never a secret or a hash)',
      responses: { 200: { description: 'every registered client', schema: v.array(OAuthClientSchema) } },
      handler: async (c) => c.json(await registry.list()),
    }),
  ]
}
