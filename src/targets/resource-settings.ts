/**
 * @module A protected proxy as an OAuth protected resource (RFC 9728): the path of its resource
 * identifier and what its metadata document says besides the fields the edge fills in itself
 * (resource, authorization_servers, bearer_methods_supported). The original's `resource_*` fields
 * (original-behaviour §4.9), reached through /proxy/targets/{h}/resource.
 */
import * as v from 'valibot'
import { isHttpUrl } from '../lib/index.ts'

/** Scopes a resource may advertise in scopes_supported. */
const ResourceScopes = v.pipe(
  v.array(v.picklist(['admin', 'user', 'mcp'], 'expected admin, user or mcp'), 'expected a list of scopes'),
  v.minLength(1, 'expected at least one scope'),
  v.transform((list) => [...new Set(list)]),
)

/**
 * RFC 9728 §2 fields the edge fills in, set by their own field, or that clients obey (a *_supported
 * list, *_required, mTLS-bound tokens): never configured as extra metadata, or clients would follow
 * promises the edge does not keep.
 */
const RESERVED_RESOURCE_FIELDS = new Set(['resource', 'authorization_servers', 'jwks_uri', 'resource_documentation', 'signed_metadata', 'tls_client_certificate_bound_access_tokens'])
const isReservedResourceField = (name: string) => RESERVED_RESOURCE_FIELDS.has(name) || name.endsWith('_supported') || name.endsWith('_required')

/** A JSON object: valibot's record alone would take an array as an object keyed by its indexes. */
export const isJsonObject = (input: unknown): boolean => typeof input === 'object' && input !== null && !Array.isArray(input)

const ResourceFields = v.pipe(
  v.custom<Record<string, unknown>>(isJsonObject, 'expected an object of metadata fields'),
  v.record(
    v.pipe(
      v.string(),
      v.regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected a snake_case field name'),
      v.check(
        (name) => !isReservedResourceField(name),
        'resource, authorization_servers, jwks_uri, resource_documentation, *_supported and *_required fields are set by their own fields or by the proxy',
      ),
    ),
    v.unknown(),
  ),
  v.check((fields) => Object.keys(fields).length <= 32, 'at most 32 fields'),
  v.check((fields) => JSON.stringify(fields).length <= 8192, 'at most 8 KiB of JSON'),
)

export const ResourceEntries = {
  /**
   * The path of the resource identifier (RFC 8707 §2, RFC 9728 §2): "/" makes it the origin itself,
   * "/mcp" makes it <origin>/mcp. Tokens are issued with exactly that aud, whatever path below the
   * origin a client asks for, and the edge accepts only that; changing it retires the tokens issued
   * before. It also names the path-suffixed metadata URL the 401 challenge points at (RFC 9728 §3.1).
   */
  resource_endpoint: v.optional(
    v.pipe(
      v.string('expected a path starting with "/"'),
      v.regex(/^\/([A-Za-z0-9._~!$&'()*+,;=:@-]+(\/[A-Za-z0-9._~!$&'()*+,;=:@-]+)*)?$/, 'expected "/" or a path such as /mcp (no query, fragment, trailing slash or empty segment)'),
      v.check((path) => !/(^|\/)\.\.?(\/|$)/.test(path), 'a resource path has no "." or ".." segments'),
      v.maxLength(256, 'at most 256 characters'),
    ),
    '/',
  ),
  /** scopes_supported in the metadata; null advertises all three. */
  resource_scopes: v.optional(v.nullable(ResourceScopes), null),
  /** RFC 9728 §2 resource_documentation: a page for people. */
  resource_documentation: v.optional(
    v.nullable(
      v.pipe(
        v.string('expected a URL'),
        v.check((text) => /^[\x21-\x7e]{1,2048}$/.test(text) && isHttpUrl(text), 'expected an http(s) URL with a host (printable ASCII, no credentials or fragment, at most 2048 characters)'),
      ),
    ),
    null,
  ),
  /** Extra metadata fields (resource_name, resource_policy_uri, …); the edge's own fields always win. */
  resource_custom_metadata: v.optional(v.nullable(ResourceFields), null),
}

export const ResourceSettingsSchema = v.object({
  resource_endpoint: v.string(),
  resource_scopes: v.nullable(v.array(v.picklist(['admin', 'user', 'mcp']))),
  resource_documentation: v.nullable(v.string()),
  resource_custom_metadata: v.nullable(v.record(v.string(), v.unknown())),
})
export type ResourceSettings = v.InferOutput<typeof ResourceSettingsSchema>

const RESOURCE_FIELDS = Object.keys(ResourceEntries) as (keyof typeof ResourceEntries)[]

/** A new proxy's resource settings: the origin itself is the resource, with nothing extra in its metadata. */
export const RESOURCE_DEFAULTS: ResourceSettings = Object.freeze(v.parse(v.object(ResourceEntries), {}))

export function resourceSettingsOf(target: ResourceSettings): ResourceSettings {
  return Object.fromEntries(RESOURCE_FIELDS.map((field) => [field, target[field]])) as ResourceSettings
}
