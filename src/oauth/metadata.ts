/**
 * @module Authorization server metadata (RFC 8414): what this AS supports, for one issuer. Every
 * endpoint lives under the issuer, so a client that discovered https://auth.example.com never leaves
 * it. Per-proxy overrides (the original's oauth_server_* fields) may only narrow the scopes and add
 * fields of their own; they never change the issuer, an endpoint or a security-relevant list.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-2
 */
import * as v from 'valibot'
import { SCOPES } from './tokens/scopes.ts'

/** Where each endpoint is mounted, relative to the issuer. The endpoint modules mount at these paths. */
export const AS_ENDPOINT_PATHS = {
  authorization: '/authorize',
  token: '/token',
  registration: '/register',
  /** RFC 8628 §3.1 */
  deviceAuthorization: '/device/code',
  /** RFC 7009 §2 */
  revocation: '/revoke',
  /** RFC 7662 §2 */
  introspection: '/introspect',
  jwks: '/jwks',
} as const

export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code'

/** RFC 8414 §3: the well-known path, inserted between the issuer's host and its path component. */
export const AS_METADATA_PATH = '/.well-known/oauth-authorization-server'

export interface AuthorizationServerMetadata {
  readonly issuer: string
  readonly authorization_endpoint: string
  readonly token_endpoint: string
  /** Absent while registration is closed (OAUTH_REGISTRATION=closed): RFC 8414 §2 makes it OPTIONAL. */
  readonly registration_endpoint?: string
  readonly device_authorization_endpoint: string
  readonly revocation_endpoint: string
  readonly introspection_endpoint: string
  readonly jwks_uri: string
  readonly response_types_supported: readonly string[]
  readonly grant_types_supported: readonly string[]
  readonly code_challenge_methods_supported: readonly string[]
  readonly token_endpoint_auth_methods_supported: readonly string[]
  readonly revocation_endpoint_auth_methods_supported: readonly string[]
  readonly introspection_endpoint_auth_methods_supported: readonly string[]
  readonly scopes_supported: readonly string[]
  readonly authorization_response_iss_parameter_supported: boolean
  readonly client_id_metadata_document_supported: boolean
  readonly [custom: string]: unknown
}

const STANDARD_FIELDS = new Set([
  'issuer',
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'device_authorization_endpoint',
  'revocation_endpoint',
  'introspection_endpoint',
  'jwks_uri',
  'response_types_supported',
  'response_modes_supported',
  'grant_types_supported',
  'code_challenge_methods_supported',
  'token_endpoint_auth_methods_supported',
  'token_endpoint_auth_signing_alg_values_supported',
  'revocation_endpoint_auth_methods_supported',
  'revocation_endpoint_auth_signing_alg_values_supported',
  'introspection_endpoint_auth_methods_supported',
  'introspection_endpoint_auth_signing_alg_values_supported',
  'scopes_supported',
  'authorization_response_iss_parameter_supported',
  'client_id_metadata_document_supported',
  'signed_metadata',
])

type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
const JsonSchema: v.GenericSchema<Json> = v.union([
  v.string(),
  v.number(),
  v.boolean(),
  v.null(),
  v.array(v.lazy(() => JsonSchema)),
  v.record(v.string(), v.lazy(() => JsonSchema)),
])

/**
 * A proxy's additions to the metadata its host serves. Whoever stores them parses with this schema
 * (on write and on read), so the metadata builder can trust the type.
 */
export const MetadataOverridesSchema = v.strictObject(
  {
    /** Narrows the advertised scopes, e.g. ["mcp"] on a host that only fronts MCP servers. Never widens them. */
    scopes_supported: v.optional(v.pipe(v.array(v.picklist(SCOPES, 'expected admin, user or mcp')), v.minLength(1, 'expected at least one scope'))),
    /** Extra top-level fields such as service_documentation or op_policy_uri (RFC 8414 §2). */
    custom_metadata: v.optional(
      v.pipe(
        v.record(
          v.pipe(
            v.string(),
            v.regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected a snake_case metadata name'),
            v.check((name) => !STANDARD_FIELDS.has(name), 'this field is computed by the server and cannot be overridden'),
          ),
          JsonSchema,
        ),
        v.check((fields) => Object.keys(fields).length <= 32, 'at most 32 custom fields'),
        v.check((fields) => JSON.stringify(fields).length <= 8192, 'at most 8 KiB of custom fields'),
      ),
    ),
  },
  'unknown field',
)

export type MetadataOverrides = v.InferOutput<typeof MetadataOverridesSchema>

/** The overrides for the proxy serving a host name, or null. The composition root supplies it. */
export type MetadataOverridesFor = (hostname: string) => Promise<MetadataOverrides | null> | MetadataOverrides | null

export function buildAuthorizationServerMetadata(
  issuer: string,
  overrides: MetadataOverrides | null = null,
  options: { readonly offersRegistration?: boolean } = {},
): AuthorizationServerMetadata {
  const at = (path: string) => `${issuer}${path}`
  const scopes = overrides?.scopes_supported ? SCOPES.filter((scope) => overrides.scopes_supported!.includes(scope)) : [...SCOPES]
  const standard: AuthorizationServerMetadata = {
    // RFC 8414 §3.3: identical to the issuer the client built the metadata URL from.
    issuer,
    authorization_endpoint: at(AS_ENDPOINT_PATHS.authorization),
    token_endpoint: at(AS_ENDPOINT_PATHS.token),
    // A client that finds no registration_endpoint knows at once it must bring a client_id (or a CIMD URL).
    ...(options.offersRegistration === false ? {} : { registration_endpoint: at(AS_ENDPOINT_PATHS.registration) }),
    device_authorization_endpoint: at(AS_ENDPOINT_PATHS.deviceAuthorization),
    revocation_endpoint: at(AS_ENDPOINT_PATHS.revocation),
    introspection_endpoint: at(AS_ENDPOINT_PATHS.introspection),
    jwks_uri: at(AS_ENDPOINT_PATHS.jwks),
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT_TYPE],
    // OAuth 2.1 §4.1.1: PKCE for every client; plain is refused.
    code_challenge_methods_supported: ['S256'],
    // RFC 8414 §2: the default would be client_secret_basic alone, so public clients need "none" listed.
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    // RFC 7009 §2.1: a public client revokes its own tokens with its client_id alone.
    revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
    // RFC 7662 §2.1: introspection is protected against token scanning, so no "none".
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: scopes,
    // RFC 9207 §3: iss on every authorization response.
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
  }
  // Standard fields last, so even an override that escaped validation cannot replace them.
  return { ...overrides?.custom_metadata, ...standard }
}

/** The issuer's path component ("" for https://auth.example.com), for the RFC 8414 §3.1 path-suffixed form. */
export function issuerPath(issuer: string): string {
  const path = new URL(issuer).pathname
  return path === '/' ? '' : path.replace(/\/+$/, '')
}
