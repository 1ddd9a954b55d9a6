/**
 * @module Which request and response headers cross the proxy, and which the proxy sets itself.
 */
import { foldHeaderName, spoofableFamilyOf } from '../lib/index.ts'
import type { GateOutcome } from './auth/gate.ts'
import type { ClientInfo } from './client.ts'

/** RFC 9110 §7.6.1 and RFC 9112 §9.6 (plus the non-standard ones proxies are known to leak). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization'])

/**
 * Identity headers only the proxy may set: a client sending them must never reach a backend as them
 * (Caddy GHSA-7r4p-vjf4-gxv4, oauth2-proxy #624). Compared ignoring case and "_" vs "-", because some
 * servers (WSGI, PHP) fold X_Auth_User into the same variable as X-Auth-User.
 */
function isIdentityHeader(name: string): boolean {
  return spoofableFamilyOf(foldHeaderName(name)) === 'identity'
}

/**
 * Whether a client's field (its name folded: lower-case, "_" as "-") is left out for the backend as one
 * of the spoofable families (lib/spoofable-headers.ts): identity and path overrides always; the
 * client-address family unless the proxy trusts that name (`trusted_request_headers`, folded names)
 * and the client spelled it with "-" — a CDN sets CF-Connecting-IP, never CF_Connecting_IP, so the
 * underscore spelling is a client's, and would reach a WSGI or PHP backend as the CDN's.
 */
export function isStrippedRequestHeader(folded: string, hasUnderscore: boolean, trusted: ReadonlySet<string>): boolean {
  const family = spoofableFamilyOf(folded)
  return family !== null && (family !== 'client_address' || hasUnderscore || !trusted.has(folded))
}

const NOTHING_TRUSTED: ReadonlySet<string> = new Set()

/**
 * The client-address headers a request may pass on as sent: its proxy's `trusted_request_headers`,
 * only when the request came through a load balancer in PROXY_PROTOCOL_TRUSTED. That is the one list
 * of who may say who the client is (its X-Forwarded-For and Forwarded chains are kept on the same
 * condition); from anyone else a CF-Connecting-IP is as much the client's own claim as an
 * X-Forwarded-For, and is stripped. Both data-plane paths ask this.
 */
export function trustedHeadersFor(client: ClientInfo, trusted: ReadonlySet<string> | undefined): ReadonlySet<string> {
  return client.isViaTrustedProxy && trusted !== undefined ? trusted : NOTHING_TRUSTED
}

/** Forwarding headers describe the hop; from an untrusted client they are lies and get replaced. */
export const FORWARDING: ReadonlySet<string> = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip'])

export interface UpstreamHeaderOptions {
  readonly client: ClientInfo
  /** The Host the client asked for, as sent (port included). */
  readonly requestHost: string
  /** Host header for the backend: the client's when preserving it, else the target's. */
  readonly upstreamHost: string
  readonly customHeaders: Readonly<Record<string, string>>
  /** What the auth step let through: the credentials it removes and the identity it adds; null when no step ran. */
  readonly passed?: (GateOutcome & { kind: 'pass' }) | null
  /** X-Request-Id for the backend: replaces the client's (which is the same value when it was usable). */
  readonly requestId?: string
  /** The client-address headers the proxy trusts (its `trusted_request_headers`, folded; none by default): passed on as sent from a trusted load balancer only. */
  readonly trustedHeaders?: ReadonlySet<string>
}

export function buildUpstreamHeaders(incoming: Headers, options: UpstreamHeaderOptions): Headers {
  const { client } = options
  const connectionListed = listedInConnection(incoming)
  // Compared with "_" as "-", like the client's names below: a custom X_Team also drops the client's X-Team.
  const customNames = new Set(Object.keys(options.customHeaders).map((name) => name.toLowerCase().replaceAll('_', '-')))
  const trusted = trustedHeadersFor(client, options.trustedHeaders)
  const headers = new Headers()
  let priorForwardedFor: string | null = null
  let priorForwarded: string | null = null
  for (const [name, value] of incoming) {
    // "_" counts as "-": WSGI and PHP fold both into one variable (X_Forwarded_For would arrive as X-Forwarded-For).
    const folded = name.includes('_') ? name.replaceAll('_', '-') : name
    if (HOP_BY_HOP.has(folded) || connectionListed.has(folded) || folded === 'host' || customNames.has(folded) || isStrippedRequestHeader(folded, folded !== name, trusted)) continue
    if (folded !== name && (FORWARDING.has(folded) || folded === 'content-length' || folded === 'transfer-encoding')) continue
    if (FORWARDING.has(name)) {
      if (client.isViaTrustedProxy && name === 'x-forwarded-for') priorForwardedFor = value
      if (client.isViaTrustedProxy && name === 'forwarded') priorForwarded = value
      continue
    }
    headers.append(name, value)
  }
  headers.set('host', options.upstreamHost)
  const forwarding = forwardingFields(client, options.requestHost, priorForwardedFor, priorForwarded)
  for (let i = 0; i < FORWARDING_FIELD_NAMES.length; i++) headers.set(FORWARDING_FIELD_NAMES[i]!, forwarding[i]!)
  for (const [name, value] of Object.entries(options.customHeaders)) headers.set(name, value)
  if (options.requestId !== undefined) headers.set('x-request-id', options.requestId)
  const { passed } = options
  if (passed) {
    // RS-08: the token was for this proxy, not for the backend.
    if (!passed.keepsAuthorization) headers.delete('authorization')
    if (passed.cookies === null) headers.delete('cookie')
    else if (passed.cookies !== undefined) headers.set('cookie', passed.cookies)
    for (const [name, value] of passed.identity) headers.set(name, value)
  }
  return headers
}

/** The fields forwardingFields() fills, in its order. */
export const FORWARDING_FIELD_NAMES = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'forwarded'] as const

/**
 * The values of FORWARDING_FIELD_NAMES for one request: the real client, appended to what a trusted
 * load balancer said (prior values are null otherwise).
 */
export function forwardingFields(client: ClientInfo, requestHost: string, priorForwardedFor: string | null, priorForwarded: string | null): string[] {
  const proto = client.isTls ? 'https' : 'http'
  // RFC 7239 §4: IPv6 addresses are quoted and bracketed; host is quoted when it has a port.
  const forNode = client.address.includes(':') ? `"[${client.address}]"` : client.address
  const element = `for=${forNode};proto=${proto};host="${requestHost.replaceAll('"', '')}"`
  return [
    priorForwardedFor ? `${priorForwardedFor}, ${client.address}` : client.address,
    proto,
    requestHost,
    client.address,
    priorForwarded ? `${priorForwarded}, ${element}` : element,
  ]
}

/** Removes hop-by-hop headers from a backend response in place and sets the proxy's own (the decision's response rules). */
export function prepareResponseHeaders(headers: Headers, set: readonly (readonly [string, string])[]): void {
  const connectionListed = listedInConnection(headers)
  for (const name of HOP_BY_HOP) headers.delete(name)
  for (const name of connectionListed) headers.delete(name)
  for (const [name, value] of set) headers.set(name, value)
}

/** RFC 9110 §7.6.1: headers named in Connection are hop-by-hop too. */
function listedInConnection(headers: Headers): Set<string> {
  const connection = headers.get('connection')
  return new Set(connection ? connection.split(',').map((token) => token.trim().toLowerCase()).filter(Boolean) : [])
}

export { isIdentityHeader }
