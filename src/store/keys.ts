/**
 * @module The only place store keys are built. Keys are paths ("keys/signing/<kid>"); every
 * caller-supplied segment goes through safe(), so a segment can never contain "/" or escape its
 * prefix. The whole key space is documented in storage-schema.md beside this file.
 */

/** Encodes one path segment: "/" "%" and control characters are percent-encoded, ".." is refused. */
export function safe(segment: string): string {
  if (segment === '' || segment === '.' || segment === '..') throw new Error(`invalid key segment ${JSON.stringify(segment)}`)
  return segment.replace(/[%/\u0000-\u001f\u007f]/g, (ch) => '%' + ch.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase())
}

export function unsafe(segment: string): string {
  return decodeURIComponent(segment)
}

/** Collection prefixes: every document of a collection lives at prefix + safe(id). */
export const COLLECTIONS = {
  signingKeys: 'keys/signing/',
  /** targets: one ProxyTarget per proxy hostname. */
  proxyTargets: 'proxy/',
  /** services: one external service (a named backend URL) per service name. */
  externalServices: 'services/external/',
  /** docker: one Docker service (a container this server runs) per service name. */
  dockerServices: 'services/docker/',
  /** certs: the self-signed certificate an HTTPS instance serves until it has a real one. */
  selfSignedCertificates: 'certs/self-signed/',
  /** certs: one ACME certificate per cert_name (domains, status, chain, and its private key, which no list or read API returns). */
  acmeCertificates: 'certs/acme/',
  /** certs: ACME account keys, keyed by "<sha256 hex of directory URL>.<sha256 hex of email>". */
  acmeAccounts: 'certs/accounts/',
  /** certs: a pending HTTP-01 challenge (RFC 8555 §8.3), keyed by its token: the key authorization and the domain, with a TTL. */
  acmeChallenges: 'certs/challenges/',
  /** ports: each hostname's loopback port assignment, keyed by the lower-cased hostname. */
  portAssignments: 'ports/host/',
  /** oauth: one dynamically registered client (RFC 7591) per server-chosen client_id; secrets only as hashes. */
  oauthClients: 'oauth/clients/',
  /** oauth: a pending authorization code, keyed by the SHA-256 hex of the code; single use (taken). */
  oauthCodes: 'oauth/codes/',
  /** oauth: what outlives a code for replay detection (RFC 6749 §10.5): its bindings and token family. */
  oauthCodeTraces: 'oauth/code-traces/',
  /** oauth: one refresh-token family (one per authorization), keyed by its random family id. */
  oauthTokenFamilies: 'oauth/families/',
  /** oauth: a pending device authorization (RFC 8628), keyed by the SHA-256 hex of our device_code. */
  oauthDeviceCodes: 'oauth/device-codes/',
  /** oauth: an initial access token (RFC 7591 §3) an admin issued for OAUTH_REGISTRATION=token, keyed by its SHA-256 hex. */
  oauthRegistrationTokens: 'oauth/registration-tokens/',
  /** oauth: a remembered consent decision, keyed by "<sha256(browser id)>.<client_id>.<sha256(resource)>". */
  oauthConsents: 'oauth/consents/',
  /** oauth: a consent page's CSRF ticket holding the pending authorization request, keyed by the SHA-256 hex of the ticket. */
  oauthConsentTickets: 'oauth/consent-tickets/',
  /** oauth: the single-use `state` of a GitHub login in progress, keyed by the SHA-256 hex of the state. */
  oauthLoginStates: 'oauth/login-states/',
  /** auth: a browser sign-in in progress (redirect mode), keyed by the SHA-256 hex of its sign-in cookie and state; single use (taken). */
  authSignIns: 'auth/sign-ins/',
  /** auth: a browser session (redirect mode), keyed by the SHA-256 hex of its session cookie; its tokens sealed under the cookie. */
  authSessions: 'auth/sessions/',
  /** routes: one Route per generated route_id ("<path slug>-<8 hex>"). */
  routes: 'routes/',
  /** routes: which route holds one (path, regex flag, priority, scope, proxies) combination, keyed by its SHA-256 hex. */
  routeClaims: 'route-claims/',
  /** logs: a header capture (POST /logs/capture), keyed by its random id: host, limits, start and end. */
  logCaptures: 'logs/captures/',
  /** nodes: each running node's heartbeat (node-heartbeats.ts), keyed by NODE_ID, expiring unless renewed. */
  nodes: 'nodes/',
} as const

export const keys = {
  lock: (name: string) => `lock/${safe(name)}`,
  /** The kid of the key that signs new tokens. */
  activeSigningKey: () => 'keys/active',
  inCollection: (prefix: string, id: string) => prefix + safe(id),

  // ---- oauth grants ----
  /** The family a refresh token belongs to, keyed by the SHA-256 hex of the token. */
  refreshToken: (tokenHash: string) => `oauth/refresh-tokens/${safe(tokenHash)}`,
  /** A revoked access token's jti (RFC 7009), kept until the token would have expired anyway. */
  revokedAccessToken: (jti: string) => `oauth/revoked-jti/${safe(jti)}`,

  /** How many registrations (RFC 7591) one client address (an IPv6 one by its /64) asked for in one clock hour (epoch ms / 3,600,000). */
  registrationCount: (addressBucket: string, hour: number) => `oauth/registration-counts/${safe(addressBucket)}/${Math.floor(hour)}`,

  // ---- rate limits ----
  /** One client's GCRA bucket for one limit (ratelimit/): its theoretical arrival time; absent means a full bucket. */
  rateLimit: (scope: string, identity: string) => `ratelimit/${safe(scope)}/${safe(identity)}`,

  // ---- routes ----
  /** The count of routes ever created, on any node: each new route's `sequence` (the tie-breaker of equal priorities). */
  routeSequence: () => 'route-sequence',

  // ---- services ----
  /** The prefix of the name claims: which kind of service (external or docker) holds each service name. */
  serviceNameClaims: () => 'services/name/',
  /** The random id every Docker container of this deployment (all nodes sharing this store) is labelled with. */
  dockerDeployment: () => 'docker/deployment',

  // ---- ports ----
  /** Who holds a port of one kind ("http", "https": proxy instances; "service": Docker services' host ports); the claim is the unit of exclusivity. */
  portClaim: (kind: string, port: number) => {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`invalid port ${port}`)
    return keys.portClaims(kind) + String(port)
  },
  /** The prefix of every claim of one kind. */
  portClaims: (kind: string) => `ports/claim/${safe(kind)}/`,
}

/** Log streams (the append-only, time-indexed collection). */
export const STREAMS = {
  requests: 'requests',
  /** OAuth activity (logs/oauth-activity.ts): logins, consent, tokens, registrations; never a secret. */
  oauth: 'oauth',
  /** Header captures (logs/capture.ts): one entry per captured exchange, tagged with its capture id. */
  captures: 'captures',
} as const
