/**
 * @module The proxy target: one public hostname and where its traffic goes. Field names follow the
 * original system's ProxyTarget (original-behaviour §2.1) so its users' scripts keep working.
 */
import * as v from 'valibot'
import { CERT_NAME_RULE, CLIENT_ADDRESS_HEADERS, HostnameSchema, isCertName, isHttpUrl, parseServiceRef, SERVICE_SCHEME } from '../lib/index.ts'
import { ProxyAuthEntries } from './auth-settings.ts'
import { ResourceEntries } from './resource-settings.ts'
import { RouteSettingsEntries } from './route-settings.ts'

/** RFC 9110 §5.1: a field name is a token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** RFC 9110 §5.5: a field value is visible characters, SP and HTAB; CR, LF, NUL and other controls are refused. */
const HEADER_VALUE = /^[^\x00-\x08\x0a-\x1f\x7f]*$/
/** Set by the proxy itself; configuring them would break framing or the forwarding contract. */
const RESERVED_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'content-length'])

const HeaderMap = v.pipe(
  v.record(
    v.pipe(
      v.string(),
      v.regex(HEADER_NAME, 'expected an HTTP header name'),
      v.check((name) => !RESERVED_HEADERS.has(name.toLowerCase()), 'this header is managed by the proxy'),
    ),
    v.pipe(v.string('expected a string'), v.regex(HEADER_VALUE, 'must not contain control characters (CR, LF, NUL and the like)'), v.maxLength(8192)),
  ),
  v.check((map) => Object.keys(map).length <= 64, 'at most 64 headers'),
)

/**
 * A client-address header a CDN or load balancer in front of the edge sets (lib/spoofable-headers.ts),
 * stored lower-case. Nothing else can be trusted: identity headers (X-Auth-*, Remote-*,
 * X-Forwarded-User, …) are the edge's alone, and path overrides would step round routes and auth.
 */
const TrustedRequestHeader = v.pipe(
  v.string('expected a header name'),
  v.check(
    (name) => CLIENT_ADDRESS_HEADERS.has(name.toLowerCase()),
    (issue) => `${JSON.stringify(issue.input)} cannot be trusted: expected one of the client-address headers ${[...CLIENT_ADDRESS_HEADERS].join(', ')} (identity headers and path overrides are always stripped)`,
  ),
  v.toLowerCase(),
)

/**
 * A backend URL, or `service://<name>[:<port name>]`: the service's URL at the time of each request (an
 * external service's target_url, a Docker service's published port: its first, or the one named).
 */
export const TargetUrlSchema = v.pipe(
  v.string('expected a URL'),
  v.trim(),
  v.check(
    (text) => (text.startsWith(SERVICE_SCHEME) ? parseServiceRef(text.slice(SERVICE_SCHEME.length)) !== null : isHttpUrl(text)),
    'expected an http(s) URL with a host (no credentials, no fragment), or service://<service name>[:<port name>]',
  ),
)

/** The service a proxy's target names (`service://<name>[:<port>]`, without the port), or null when the target is a URL. */
export function serviceNameOf(target: { readonly target_url: string }): string | null {
  return target.target_url.startsWith(SERVICE_SCHEME) ? (parseServiceRef(target.target_url.slice(SERVICE_SCHEME.length))?.name ?? null) : null
}

/**
 * A proxy's data-plane rate limit, per client address (an IPv6 one by its /64): `burst` requests at
 * once, then `requests_per_second` (GCRA). Counted in each node's memory, so N nodes admit up to N times it.
 */
export const ProxyRateLimitSchema = v.strictObject(
  {
    requests_per_second: v.pipe(v.number('expected requests per second'), v.gtValue(0, 'expected more than 0'), v.maxValue(1_000_000, 'expected at most 1,000,000')),
    burst: v.pipe(v.number('expected a whole number of requests'), v.integer('expected a whole number of requests'), v.minValue(1, 'expected at least 1'), v.maxValue(1_000_000, 'expected at most 1,000,000')),
  },
  'unknown field',
)

export const ProxyProtocolSchema = v.nullable(v.picklist(['v1', 'v2'], 'expected "v1", "v2" or null'))

/** Everything a client may set; the defaults are the original's. */
export const ProxySettingsEntries = {
  target_url: TargetUrlSchema,
  enabled: v.optional(v.boolean('expected true or false'), true),
  enable_http: v.optional(v.boolean('expected true or false'), true),
  enable_https: v.optional(v.boolean('expected true or false'), true),
  preserve_host_header: v.optional(v.boolean('expected true or false'), true),
  custom_headers: v.optional(HeaderMap, {}),
  custom_response_headers: v.optional(HeaderMap, {}),
  /** The certificate's name, by the certificate manager's own rule (a store key: never "." or ".."). */
  cert_name: v.optional(v.nullable(v.pipe(v.string(), v.maxLength(128, 'expected at most 128 characters'), v.check(isCertName, `expected ${CERT_NAME_RULE}`))), null),
  /** The ACME account email for this proxy's certificate (the original's field); null = ACME_EMAIL. Without either, no certificate is ordered. */
  cert_email: v.optional(v.nullable(v.pipe(v.string('expected an email address'), v.trim(), v.email('expected an email address'), v.maxLength(254))), null),
  /** The ACME directory to order from; null = the server's choice by `staging`. */
  acme_directory_url: v.optional(v.nullable(v.pipe(v.string('expected a URL'), v.check((text) => URL.parse(text)?.protocol === 'https:', 'expected an https URL (RFC 8555 §6.1)'))), null),
  /** true: ACME_STAGING_URL; false: ACME_DIRECTORY_URL (production); null: production. */
  staging: v.optional(v.nullable(v.boolean('expected true, false or null')), null),
  redirect_http_to_https: v.optional(v.boolean('expected true or false'), false),
  /** RFC 6797 max-age in seconds; null sends no Strict-Transport-Security. */
  hsts_max_age: v.optional(v.nullable(v.pipe(v.number('expected seconds'), v.integer('expected whole seconds'), v.minValue(0), v.maxValue(63_072_000))), null),
  /** Send a PROXY protocol header to the backend (for backends that want the client address that way). */
  proxy_protocol: v.optional(ProxyProtocolSchema, null),
  /** Seconds to wait for the backend's response head before answering 504. */
  upstream_timeout: v.optional(v.pipe(v.number('expected seconds'), v.integer('expected whole seconds'), v.minValue(1), v.maxValue(3600)), 60),
  /** Client-address headers passed to the backend as its CDN sent them, on requests through a load balancer in PROXY_PROTOCOL_TRUSTED only; every other spoofable header is stripped. */
  trusted_request_headers: v.optional(v.pipe(v.array(TrustedRequestHeader, 'expected a list of header names'), v.maxLength(CLIENT_ADDRESS_HEADERS.size, `expected at most ${CLIENT_ADDRESS_HEADERS.size} names`)), []),
  /** Requests a client address may send (429 with Retry-After beyond it); null: no limit. */
  rate_limit: v.optional(v.nullable(ProxyRateLimitSchema), null),
  ...ProxyAuthEntries,
  ...ResourceEntries,
  ...RouteSettingsEntries,
}

const Stamps = {
  created_by: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
  config_version: v.number(),
}

/** Read back as written: a proxy stored before cert_name followed the certificate rule still loads (it gets no certificate by that name). */
const StoredCertName = v.optional(v.nullable(v.pipe(v.string(), v.maxLength(253))), null)

/**
 * The document in the store. It alone holds the GitHub client secret; it never leaves the targets
 * module except through ProxyTargets.gitHubApp(). Fields added since a document was written read as
 * their defaults.
 */
export const StoredProxyTargetSchema = v.object({
  proxy_hostname: HostnameSchema,
  ...ProxySettingsEntries,
  cert_name: StoredCertName,
  github_client_id: v.optional(v.nullable(v.string()), null),
  github_client_secret: v.optional(v.nullable(v.string()), null),
  ...Stamps,
})

export type StoredProxyTarget = v.InferOutput<typeof StoredProxyTargetSchema>

/** A proxy as every reader sees it (API, edge): the GitHub secret replaced by whether one is set. */
export const ProxyTargetSchema = v.object({
  proxy_hostname: HostnameSchema,
  ...ProxySettingsEntries,
  cert_name: StoredCertName,
  github_client_id: v.nullable(v.string()),
  github_client_secret_set: v.boolean(),
  ...Stamps,
})

export type ProxyTarget = v.InferOutput<typeof ProxyTargetSchema>

export function toPublicTarget({ github_client_secret, ...target }: StoredProxyTarget): ProxyTarget {
  return { ...target, github_client_secret_set: github_client_secret !== null }
}

export const CreateProxyTargetSchema = v.strictObject({ proxy_hostname: HostnameSchema, ...ProxySettingsEntries }, 'unknown field')

/** PUT applies every field it is given (original-behaviour §12.2: the original silently ignored most). */
export const UpdateProxyTargetSchema = v.strictObject(partialOf(ProxySettingsEntries), 'unknown field')

/** PUT /proxy/targets/{h}/auth: the auth fields only; those not given keep their values (§12.2: the original nulled them). */
export const UpdateProxyAuthSchema = v.strictObject(partialOf(ProxyAuthEntries), 'unknown field')

/** PUT /proxy/targets/{h}/resource: the resource fields only; those not given keep their values. */
export const UpdateResourceSettingsSchema = v.strictObject(partialOf(ResourceEntries), 'unknown field')

/** PUT /proxy/targets/{h}/routes: any of route_mode, enabled_routes, disabled_routes. */
export const UpdateRouteSettingsSchema = v.strictObject(partialOf(RouteSettingsEntries), 'unknown field')

export type CreateProxyTarget = v.InferOutput<typeof CreateProxyTargetSchema>
export type UpdateProxyTarget = v.InferOutput<typeof UpdateProxyTargetSchema>
export type UpdateProxyAuth = v.InferOutput<typeof UpdateProxyAuthSchema>
export type UpdateRouteSettings = v.InferOutput<typeof UpdateRouteSettingsSchema>
export type UpdateResourceSettings = v.InferOutput<typeof UpdateResourceSettingsSchema>

type PartialEntries<E extends Record<string, v.GenericSchema>> = {
  [K in keyof E]: v.OptionalSchema<v.GenericSchema<v.InferInput<E[K]>, Exclude<v.InferOutput<E[K]>, undefined>>, undefined>
}

/** Every entry optional, without the defaults: an update must not fill in fields it did not mention. */
function partialOf<E extends Record<string, v.GenericSchema>>(entries: E): PartialEntries<E> {
  return Object.fromEntries(Object.entries(entries).map(([name, schema]) => [name, v.optional(unwrapDefault(schema))])) as PartialEntries<E>
}

function unwrapDefault(schema: v.GenericSchema): v.GenericSchema {
  return 'wrapped' in schema && (schema as { type: string }).type === 'optional' ? (schema as unknown as { wrapped: v.GenericSchema }).wrapped : schema
}
