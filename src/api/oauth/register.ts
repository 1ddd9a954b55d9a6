/**
 * @module Dynamic client registration: POST /register (RFC 7591 §3), the client configuration
 * endpoint GET/PUT/DELETE /register/{client_id} (RFC 7592 §2, authenticated by the registration
 * access token) and the admin view GET /oauth/clients. Errors are RFC 7591 §3.2.2 / RFC 6750 §3.1
 * codes in the API's {error, error_description} body.
 *
 * Who may register is OAUTH_REGISTRATION's (registration-gate.ts): anyone, holders of an initial access
 * token (RFC 7591 §3), or nobody; and each client address only so often per hour.
 */
import type { Context } from 'hono'
import * as v from 'valibot'
import { MAX_CLIENT_METADATA_BYTES, OAuthClientSchema, parseClientMetadata, type ClientRegistry, type OAuthClient, type ResolveIssuer } from '../../oauth/index.ts'
import { allowAnyOrigin, corsPreflightRoute } from '../cors.ts'
import { defineRoute, type RouteSpec } from '../define-route.ts'
import { ApiError } from '../errors.ts'
import { AdminClientSchema, adminClientView } from './client-views.ts'
import { readJsonBody } from './json-body.ts'
import { bearerToken, invalidToken } from './registration-bearer.ts'
import { admitRegistration, OPEN_REGISTRATION, REGISTRATION_REFUSALS, type RegistrationGate } from './registration-gate.ts'

const TAG = 'oauth'

/** RFC 7591 §3.2.1 + RFC 7592 §3: the client information response; the server's own state of the client is the admin's to see. */
const { last_used_at: _lastUsed, expires_at: _expires, resource_server: _resourceServer, ...RegisteredClientEntries } = OAuthClientSchema.entries
const ClientInformationSchema = v.object({
  ...RegisteredClientEntries,
  client_secret: v.optional(v.string()),
  registration_access_token: v.string(),
  registration_client_uri: v.string(),
})

const ERROR_RESPONSES = {
  400: { description: 'invalid_redirect_uri or invalid_client_metadata (RFC 7591 §3.2.2)' },
  413: { description: `invalid_client_metadata: the body is larger than ${MAX_CLIENT_METADATA_BYTES / 1024} KiB` },
} as const
const UNAUTHORIZED = { 401: { description: 'missing or wrong registration access token, or no such client (RFC 7592 §2.1)' } } as const

const REGISTRATION_ACCESS_TOKEN = 'registration access token' as const

/** RFC 7592 §2: the registration access token must belong to the client named in the path. */
async function authorizedClient(c: Context, registry: ClientRegistry): Promise<{ client: OAuthClient; token: string }> {
  const token = bearerToken(c, REGISTRATION_ACCESS_TOKEN)
  const client = await registry.verifyRegistrationToken(c.req.param('client_id') ?? '', token)
  // RFC 7592 §2.1: an unknown client gets 401, like a wrong token, so client ids cannot be probed.
  if (!client) throw invalidToken(REGISTRATION_ACCESS_TOKEN)
  return { client, token }
}

/** Secrets and registration tokens travel in these bodies: never cached (RFC 7591 §3.2.1 example, RFC 6749 §5.1). */
function clientInformation(c: Context, client: OAuthClient, registrationAccessToken: string, clientSecret: string | undefined, status: 200 | 201): Response {
  c.header('Cache-Control', 'no-store')
  c.header('Pragma', 'no-cache')
  const registrationClientUri = `${c.get('issuer') ?? new URL(c.req.url).origin}/register/${encodeURIComponent(client.client_id)}`
  const { last_used_at: _lastUsed, expires_at: _expires, resource_server: _resourceServer, ...registered } = client
  return c.json(
    {
      ...registered,
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

/** RFC 7591 §5 asks for abuse limits: the body's size bounds what one client can weigh in the store, and what an anonymous caller makes us parse. */
async function readBody(c: Context): Promise<unknown> {
  try {
    return await readJsonBody(c, { maxBytes: MAX_CLIENT_METADATA_BYTES, invalidCode: 'invalid_client_metadata' })
  } catch (error) {
    if (error instanceof ApiError && error.status === 413) {
      throw new ApiError(413, 'invalid_client_metadata', `the client metadata must be at most ${MAX_CLIENT_METADATA_BYTES} bytes (16 KiB)`)
    }
    throw error
  }
}

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
export function registerRoutes(registry: ClientRegistry, resolveIssuer?: ResolveIssuer, gate: RegistrationGate = OPEN_REGISTRATION): RouteSpec[] {
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
      responses: { 201: { description: 'the client information response (RFC 7591 §3.2.1)', schema: ClientInformationSchema }, ...ERROR_RESPONSES, ...REGISTRATION_REFUSALS },
      async handler(c) {
        await onIssuerHost(c)
        allowAnyOrigin(c)
        // Refused before the body is read: a closed endpoint, a missing token or an address over its limit costs no parsing.
        const admitted = await admitRegistration(c, gate)
        const metadata = metadataFrom(await readBody(c))
        await admitted.redeem()
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
        if (!updated) throw invalidToken(REGISTRATION_ACCESS_TOKEN)
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
      summary: 'List registered OAuth clients (never a secret or a hash), with when each was last used and when an unused one expires',
      responses: { 200: { description: 'every registered client', schema: v.array(AdminClientSchema) } },
      async handler(c) {
        c.header('Cache-Control', 'no-store')
        return c.json((await registry.list()).map(adminClientView))
      },
    }),
  ]
}
