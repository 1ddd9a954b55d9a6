/**
 * @module Which request and response headers cross the proxy, and which the proxy sets itself.
 */
import type { ClientInfo } from './client.ts'

/** RFC 9110 §7.6.1 and RFC 9112 §9.6 (plus the non-standard ones proxies are known to leak). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization'])

/**
 * Identity headers only the proxy may set: a client sending them must never reach a backend as them
 * (Caddy GHSA-7r4p-vjf4-gxv4, oauth2-proxy #624). Compared ignoring case and "_" vs "-", because some
 * servers (WSGI, PHP) fold X_Auth_User into the same variable as X-Auth-User.
 */
function isIdentityHeader(name: string): boolean {
  const normal = name.toLowerCase().replaceAll('_', '-')
  return (
    normal.startsWith('x-auth-') ||
    normal.startsWith('remote-') ||
    normal === 'x-forwarded-user' ||
    normal === 'x-forwarded-email' ||
    normal === 'x-forwarded-groups' ||
    normal === 'x-forwarded-preferred-username' ||
    normal === 'x-forwarded-access-token' ||
    normal.startsWith('x-internal-')
  )
}

/** Forwarding headers describe the hop; from an untrusted client they are lies and get replaced. */
const FORWARDING = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-real-ip'])

export interface UpstreamHeaderOptions {
  readonly client: ClientInfo
  /** The Host the client asked for, as sent (port included). */
  readonly requestHost: string
  /** Host header for the backend: the client's when preserving it, else the target's. */
  readonly upstreamHost: string
  readonly customHeaders: Readonly<Record<string, string>>
}

export function buildUpstreamHeaders(incoming: Headers, options: UpstreamHeaderOptions): Headers {
  const { client } = options
  const connectionListed = listedInConnection(incoming)
  const headers = new Headers()
  let priorForwardedFor: string | null = null
  let priorForwarded: string | null = null
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name) || connectionListed.has(name) || name === 'host' || isIdentityHeader(name)) continue
    if (FORWARDING.has(name)) {
      if (client.isViaTrustedProxy && name === 'x-forwarded-for') priorForwardedFor = value
      if (client.isViaTrustedProxy && name === 'forwarded') priorForwarded = value
      continue
    }
    headers.append(name, value)
  }
  const proto = client.isTls ? 'https' : 'http'
  headers.set('host', options.upstreamHost)
  headers.set('x-forwarded-for', priorForwardedFor ? `${priorForwardedFor}, ${client.address}` : client.address)
  headers.set('x-forwarded-proto', proto)
  headers.set('x-forwarded-host', options.requestHost)
  headers.set('x-real-ip', client.address)
  // RFC 7239 §4: IPv6 addresses are quoted and bracketed; host is quoted when it has a port.
  const forNode = client.address.includes(':') ? `"[${client.address}]"` : client.address
  const element = `for=${forNode};proto=${proto};host="${options.requestHost.replaceAll('"', '')}"`
  headers.set('forwarded', priorForwarded ? `${priorForwarded}, ${element}` : element)
  for (const [name, value] of Object.entries(options.customHeaders)) headers.set(name, value)
  return headers
}

/** Removes hop-by-hop headers from a backend response in place and adds the proxy's configured ones. */
export function prepareResponseHeaders(headers: Headers, extra: Readonly<Record<string, string>>): void {
  const connectionListed = listedInConnection(headers)
  for (const name of HOP_BY_HOP) headers.delete(name)
  for (const name of connectionListed) headers.delete(name)
  for (const name in extra) headers.set(name, extra[name]!)
}

/** RFC 9110 §7.6.1: headers named in Connection are hop-by-hop too. */
function listedInConnection(headers: Headers): Set<string> {
  const connection = headers.get('connection')
  return new Set(connection ? connection.split(',').map((token) => token.trim().toLowerCase()).filter(Boolean) : [])
}

export { isIdentityHeader }
