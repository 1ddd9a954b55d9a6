/**
 * @module What a proxy in front of the authorization server changes in the RFC 8414 metadata served on
 * its host (the original's oauth_server_* fields, original-behaviour §4.8): it may narrow
 * scopes_supported and add fields of its own. Nothing else: the issuer, the endpoints and the lists of
 * grant types, response types and client authentication methods describe what the server implements,
 * and advertising anything else would make clients fail.
 */
import * as v from 'valibot'
import { isJsonObject } from './resource-settings.ts'

const SCOPES = ['admin', 'user', 'mcp'] as const

/** Scopes a proxy's authorization-server metadata may advertise (a subset; original §4.8 oauth_server_scopes). */
const MetadataScopes = v.pipe(
  v.array(v.picklist(SCOPES, 'expected admin, user or mcp'), 'expected a list of scopes'),
  v.minLength(1, 'expected at least one scope'),
  v.transform((list) => [...new Set(list)]),
)

/**
 * RFC 8414 §2 fields that say where and how to talk to the server, never a proxy's to change: the
 * issuer, keys, endpoints (mtls_endpoint_aliases too, RFC 8705 §5), the *_supported lists, and
 * requirements clients obey (require_pushed_authorization_requests, RFC 9126 §5; *_required).
 */
const isReservedMetadataField = (name: string) =>
  ['issuer', 'jwks_uri', 'signed_metadata', 'mtls_endpoint_aliases', 'tls_client_certificate_bound_access_tokens'].includes(name) ||
  name.endsWith('_endpoint') ||
  name.endsWith('_supported') ||
  name.endsWith('_required') ||
  name.startsWith('require_')

/** RFC 8414 §2 extra fields (service_documentation, op_policy_uri, ...): snake_case names, small JSON values. */
const MetadataFields = v.pipe(
  v.custom<Record<string, unknown>>(isJsonObject, 'expected an object of metadata fields'),
  v.record(
    v.pipe(
      v.string(),
      v.regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected a snake_case field name'),
      v.check((name) => !isReservedMetadataField(name), 'the issuer, keys, endpoints, *_supported lists and requirements are the server\'s own and cannot be overridden'),
    ),
    v.unknown(),
  ),
  v.check((fields) => Object.keys(fields).length <= 32, 'at most 32 fields'),
  v.check((fields) => JSON.stringify(fields).length <= 8192, 'at most 8 KiB of JSON'),
)

export const OAuthServerEntries = {
  /** Narrows scopes_supported in the metadata served on this host (when it fronts the authorization server); null: all three. */
  oauth_server_scopes: v.optional(v.nullable(MetadataScopes), null),
  /** Extra metadata fields served on this host; the standard fields always win. */
  oauth_server_custom_metadata: v.optional(v.nullable(MetadataFields), null),
}

/** What GET /proxy/targets/{h}/oauth-server answers. */
export const OAuthServerSettingsSchema = v.object({
  oauth_server_scopes: v.nullable(v.array(v.picklist(SCOPES))),
  oauth_server_custom_metadata: v.nullable(v.record(v.string(), v.unknown())),
})
export type OAuthServerSettings = v.InferOutput<typeof OAuthServerSettingsSchema>

export function oauthServerSettingsOf(target: OAuthServerSettings): OAuthServerSettings {
  return { oauth_server_scopes: target.oauth_server_scopes, oauth_server_custom_metadata: target.oauth_server_custom_metadata }
}

/** Whether the proxy changes the metadata on its host at all. */
export const hasOAuthServerOverrides = (target: OAuthServerSettings): boolean => target.oauth_server_scopes !== null || target.oauth_server_custom_metadata !== null
