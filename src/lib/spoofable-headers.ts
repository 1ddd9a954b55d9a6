/**
 * @module The request headers a client must never be able to set for a backend: what a backend (or a
 * framework in front of it) reads as the client's address, as the authenticated user, or as the real
 * request path. Shared by the proxy, which strips them on every path, and by the proxy settings, whose
 * `trusted_request_headers` may admit the client-address family — and only it, and only on requests
 * through a load balancer in PROXY_PROTOCOL_TRUSTED (proxy/headers.ts trustedHeadersFor).
 *
 * Names are compared folded: lower-case, with "_" as "-", because WSGI, PHP, CGI and Rack fold
 * X_Client_IP and X-Client-IP into the same variable (HTTP_X_CLIENT_IP).
 */

/**
 * Client-address headers: set by a CDN or load balancer in front of the edge (Cloudflare
 * CF-Connecting-IP, CF-Connecting-IPv6 and CF-Pseudo-IPv4; Akamai and Cloudflare Enterprise
 * True-Client-IP; Fastly-Client-IP; Azure Front Door X-Azure-ClientIP and X-Azure-SocketIP), and read
 * as the client's address by common libraries (Rack and Rails read Client-IP; the request-ip package
 * X-Client-IP, X-Cluster-Client-IP, X-Forwarded and Forwarded-For; the original system
 * X-Original-Forwarded-For, original-behaviour §5). X-Forwarded-For, X-Real-IP and Forwarded are not
 * here: the edge replaces them with the real client (headers.ts FORWARDING).
 */
export const CLIENT_ADDRESS_HEADERS: ReadonlySet<string> = new Set([
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'cf-pseudo-ipv4',
  'true-client-ip',
  'fastly-client-ip',
  'x-azure-clientip',
  'x-azure-socketip',
  'x-client-ip',
  'x-cluster-client-ip',
  'x-original-forwarded-for',
  'x-forwarded',
  'forwarded-for',
  'client-ip',
])

/**
 * Identity headers by exact name: what authenticating proxies set for their backends (oauth2-proxy
 * X-Forwarded-User/-Email/-Groups/-Preferred-Username/-Access-Token; Traefik forward-auth as commonly
 * configured; Kong X-Anonymous-Consumer), what backends read as "who is this" (X-User, X-Username,
 * X-Email), and the client certificate a TLS-terminating proxy vouches for (Envoy
 * X-Forwarded-Client-Cert; nginx configurations' X-Client-Cert and X-Client-Verify). The edge asks for
 * no client certificates, so no client may claim one.
 */
const IDENTITY_NAMES: ReadonlySet<string> = new Set([
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
  'x-forwarded-access-token',
  'x-user',
  'x-username',
  'x-user-id',
  'x-user-name',
  'x-user-email',
  'x-user-groups',
  'x-email',
  'x-anonymous-consumer',
  'x-forwarded-client-cert',
  'x-client-cert',
  'x-client-verify',
])

/**
 * Identity headers by prefix: ours (X-Auth-*, including nginx's X-Auth-Request-*), Authelia's
 * Remote-User/-Email/-Groups/-Name, X-Remote-User and the like, Grafana's auth proxy X-WEBAUTH-*,
 * X-Authenticated-* (Kong, Envoy filters), authentik X-authentik-*, Pomerium X-Pomerium-*, Vouch
 * X-Vouch-*, Google IAP X-Goog-Authenticated-User-* and X-Goog-IAP-*, AWS ALB X-Amzn-OIDC-*, Azure App
 * Service X-MS-Client-Principal* and X-MS-Token-*, Kong X-Consumer-* and X-Credential-*, nginx
 * X-SSL-Client-*, and X-Internal-* (what backends keep for the hops they trust).
 */
const IDENTITY_PREFIXES: readonly string[] = [
  'x-auth-',
  'remote-',
  'x-remote-',
  'x-webauth-',
  'x-authenticated-',
  'x-authentik-',
  'x-pomerium-',
  'x-vouch-',
  'x-goog-authenticated-user-',
  'x-goog-iap-',
  'x-amzn-oidc-',
  'x-ms-client-principal',
  'x-ms-token-',
  'x-consumer-',
  'x-credential-',
  'x-ssl-client-',
  'x-internal-',
]

/** The prefixes as one anchored pattern: one match per name instead of a startsWith per prefix (the relay parser runs this for every x-* field). */
const IDENTITY_PREFIX = new RegExp(`^(?:${IDENTITY_PREFIXES.map((prefix) => prefix.replaceAll('-', '\\-')).join('|')})`)

/** Path overrides: IIS, Symfony, Laminas and others route by these instead of the request line, past any route or auth rule of ours. */
const PATH_OVERRIDES: ReadonlySet<string> = new Set(['x-original-url', 'x-rewrite-url'])

export type SpoofableFamily = 'client_address' | 'identity' | 'path_override'

/**
 * The family of a folded header name (lower-case, "_" as "-"), or null when a client may send it.
 * Exact names first (one Set lookup each); prefixes only for names starting with "x-" or "r".
 */
export function spoofableFamilyOf(folded: string): SpoofableFamily | null {
  if (CLIENT_ADDRESS_HEADERS.has(folded)) return 'client_address'
  if (IDENTITY_NAMES.has(folded)) return 'identity'
  if (PATH_OVERRIDES.has(folded)) return 'path_override'
  const first = folded.charCodeAt(0)
  if (first !== 0x78 /* x */ && first !== 0x72 /* r */) return null
  return IDENTITY_PREFIX.test(folded) ? 'identity' : null
}

/** Lower-case with "_" as "-": how the names above are compared. */
export function foldHeaderName(name: string): string {
  const lower = name.toLowerCase()
  return lower.includes('_') ? lower.replaceAll('_', '-') : lower
}

/** Every name of the three families that is not a prefix, for the parsers' cheap pre-checks and for tests. */
export const SPOOFABLE_EXACT_NAMES: readonly string[] = [...CLIENT_ADDRESS_HEADERS, ...IDENTITY_NAMES, ...PATH_OVERRIDES]
