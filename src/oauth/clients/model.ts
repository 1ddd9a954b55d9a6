/**
 * @module The OAuth client: its registered metadata (RFC 7591 §2, wire names kept), what the store
 * holds (secrets only as SHA-256 hashes) and the view everyone else gets (no hashes at all).
 */
import * as v from 'valibot'
import { MAX_REDIRECT_URI_LENGTH } from './redirect-uri.ts'

/** RFC 7591 §2 token_endpoint_auth_method values this server implements. */
export const TOKEN_ENDPOINT_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number]

/** RFC 7591 §2 grant_types this server implements (RFC 8628 §3.4 for the device grant). */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] as const
export type GrantType = (typeof GRANT_TYPES)[number]

/** OAuth 2.1 drops the implicit grant, so "code" is the only response type. */
export const RESPONSE_TYPES = ['code'] as const
export type ResponseType = (typeof RESPONSE_TYPES)[number]

export const APPLICATION_TYPES = ['web', 'native'] as const

/** Abuse limits on one registration (RFC 7591 §5: open registration needs them). */
/** The registration (or RFC 7592 update) body: a real one is a few hundred bytes; this bounds what one stored client can weigh. */
export const MAX_CLIENT_METADATA_BYTES = 16 * 1024
export const MAX_REDIRECT_URIS = 10
export const MAX_CLIENT_NAME_LENGTH = 200
export const MAX_METADATA_URL_LENGTH = 2000
export const MAX_SCOPE_LENGTH = 1000

/** Is a confidential client (has a secret) under this auth method. */
export function isConfidentialMethod(method: TokenEndpointAuthMethod): boolean {
  return method !== 'none'
}

const HEX_SHA256 = v.pipe(v.string('expected a SHA-256 hash'), v.regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 hash (64 lower-case hex digits)'))

/** Our ids are base64url; anything else (a CIMD URL, "..", a 1 MB string) is simply not a registered client. */
export const CLIENT_ID_SYNTAX = /^[A-Za-z0-9_-]{1,128}$/
export const ClientIdSchema = v.pipe(v.string('expected a client id'), v.regex(CLIENT_ID_SYNTAX, 'expected a registered client id (1-128 letters, digits, "_" or "-")'))

/**
 * The client's own metadata after registration defaults are applied: what RFC 7592 §2.2 replaces.
 * This checks shape only; the registration policy (redirect URI rules, which URLs may be shown) is
 * parseClientMetadata's, so tightening a rule later never makes a stored registration unreadable.
 */
export const ClientMetadataEntries = {
  redirect_uris: v.pipe(v.array(v.pipe(v.string(), v.maxLength(MAX_REDIRECT_URI_LENGTH))), v.maxLength(MAX_REDIRECT_URIS)),
  token_endpoint_auth_method: v.picklist(TOKEN_ENDPOINT_AUTH_METHODS),
  grant_types: v.pipe(v.array(v.picklist(GRANT_TYPES)), v.minLength(1)),
  response_types: v.array(v.picklist(RESPONSE_TYPES)),
  client_name: v.optional(v.pipe(v.string(), v.maxLength(MAX_CLIENT_NAME_LENGTH))),
  client_uri: v.optional(v.pipe(v.string(), v.maxLength(MAX_METADATA_URL_LENGTH))),
  logo_uri: v.optional(v.pipe(v.string(), v.maxLength(MAX_METADATA_URL_LENGTH))),
  scope: v.optional(v.pipe(v.string(), v.maxLength(MAX_SCOPE_LENGTH))),
  application_type: v.optional(v.picklist(APPLICATION_TYPES)),
}

export const ClientMetadataSchema = v.object(ClientMetadataEntries)
export type ClientMetadata = v.InferOutput<typeof ClientMetadataSchema>

/**
 * The server's own state of a client, beside its metadata: no client may set these through RFC 7591
 * or RFC 7592, and the registration responses leave them out (register.ts); the admin views show them.
 */
export const ClientStateEntries = {
  /** When a token was last issued to it (a code exchanged, a refresh, a device grant), epoch seconds; written at most once a minute. */
  last_used_at: v.optional(v.pipe(v.number(), v.integer())),
  /**
   * Present only while the client has never completed an authorization: when it is deleted unless it
   * does (OAUTH_UNUSED_CLIENT_TTL after registration), epoch seconds. The store document carries the
   * same TTL, so the deletion needs no sweeper and holds on every node.
   */
  expires_at: v.optional(v.pipe(v.number(), v.integer())),
  /** Set by an admin: introspection (RFC 7662) answers this client about every client's tokens, not only its own. */
  resource_server: v.optional(v.boolean()),
}

/** What everyone outside the registry sees: metadata plus server-assigned fields, never a hash. */
export const OAuthClientSchema = v.object({
  client_id: v.string(),
  ...ClientMetadataEntries,
  /** RFC 7591 §3.2.1, seconds since the epoch. */
  client_id_issued_at: v.pipe(v.number(), v.integer()),
  /** RFC 7591 §3.2.1: present for clients with a secret; 0 means it never expires. */
  client_secret_expires_at: v.optional(v.literal(0)),
  ...ClientStateEntries,
})
export type OAuthClient = v.InferOutput<typeof OAuthClientSchema>

/** The stored document (collection oauth/clients/): the view plus the hashes of the two secrets. */
export const StoredClientSchema = v.object({
  ...OAuthClientSchema.entries,
  /** SHA-256 (hex) of the client secret; present exactly when the method is not "none". */
  client_secret_hash: v.optional(HEX_SHA256),
  /** SHA-256 (hex) of the RFC 7592 registration access token. */
  registration_access_token_hash: HEX_SHA256,
  updated_at: v.pipe(v.number(), v.integer()),
})
export type StoredClient = v.InferOutput<typeof StoredClientSchema>

/** Builds the view field by field, so a hash can never leak through a spread. */
export function toClientView(stored: StoredClient): OAuthClient {
  const view: OAuthClient = {
    client_id: stored.client_id,
    redirect_uris: stored.redirect_uris,
    token_endpoint_auth_method: stored.token_endpoint_auth_method,
    grant_types: stored.grant_types,
    response_types: stored.response_types,
    client_id_issued_at: stored.client_id_issued_at,
  }
  if (stored.client_name !== undefined) view.client_name = stored.client_name
  if (stored.client_uri !== undefined) view.client_uri = stored.client_uri
  if (stored.logo_uri !== undefined) view.logo_uri = stored.logo_uri
  if (stored.scope !== undefined) view.scope = stored.scope
  if (stored.application_type !== undefined) view.application_type = stored.application_type
  if (stored.client_secret_expires_at !== undefined) view.client_secret_expires_at = stored.client_secret_expires_at
  if (stored.last_used_at !== undefined) view.last_used_at = stored.last_used_at
  if (stored.expires_at !== undefined) view.expires_at = stored.expires_at
  if (stored.resource_server === true) view.resource_server = true
  return view
}

/**
 * A client as the configuration export carries it: the view, plus (only when secrets are exported) the
 * two hashes, so an imported client authenticates with the secret it already has. Never plaintext.
 * Metadata is checked here for shape; the import runs parseClientMetadata for the registration policy.
 */
export const PortableClientSchema = v.strictObject(
  {
    ...ClientMetadataEntries,
    client_id: ClientIdSchema,
    client_id_issued_at: v.pipe(v.number('expected seconds since the epoch'), v.integer('expected whole seconds'), v.minValue(0)),
    client_secret_expires_at: v.optional(v.literal(0, 'expected 0 (secrets do not expire)')),
    client_secret_hash: v.optional(HEX_SHA256),
    registration_access_token_hash: v.optional(HEX_SHA256),
    /** An admin's decision, so it travels with the client; last_used_at and expires_at are this store's state and do not. */
    resource_server: v.optional(v.boolean('expected true or false')),
  },
  'unknown field',
)
export type PortableClient = v.InferOutput<typeof PortableClientSchema>
