/**
 * @module Which issuer a request is talking to. The authorization server answers on several hosts (the
 * API itself, PUBLIC_URL, every proxy whose target is the API), and each host is its own issuer
 * (RFC 8414 §2): the exact external URL a client used. The host comes from the request's Host header,
 * but only configured hosts are issuers; anything else gets no issuer, so the AS endpoints answer 404.
 * X-Forwarded-Host is never consulted: a client sets it at will, and the edge already puts the client's
 * Host in Host when it hands a request to the API.
 */

/** The issuer for a request, or null when its host is not one of ours. */
export type ResolveIssuer = (request: Request) => Promise<string | null>

export interface IssuerResolverDeps {
  /** PUBLIC_URL without a trailing slash: its host's issuer is exactly this URL. */
  readonly publicUrl: string
  /** The API's own listening origin (http://127.0.0.1:9000); asked per request, as it is known only once the API listens. */
  apiOrigin(): string
  /** Hostnames of enabled proxies whose target is the API. Called per request; the caller caches. */
  apiProxyHostnames(): Promise<readonly string[]> | readonly string[]
}

/** A Host header split into a canonical lower-case host name (IPv6 in brackets) and an optional port. */
export interface HostAuthority {
  readonly hostname: string
  readonly port: number | null
}

/** RFC 9110 §7.2: Host = uri-host [ ":" port ]. Only a reg-name, IPv4 or bracketed IPv6 host; no userinfo, path or empty port. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::([1-9][0-9]{0,4}))?$/

/**
 * Parses a Host header strictly. Null for anything a browser would not send: an empty value, userinfo,
 * a path, a trailing dot, a port of 0 or with leading zeros, or a host that is not in canonical form
 * (127.1, 0x7f.0.0.1, [0:0::1]), since such spellings exist only to slip past comparisons.
 */
export function parseHostHeader(value: string): HostAuthority | null {
  const match = HOST_HEADER.exec(value.toLowerCase())
  if (!match) return null
  const hostname = match[1]!
  const port = match[2] === undefined ? null : Number(match[2])
  if (port !== null && port > 65_535) return null
  if (URL.parse(`http://${hostname}/`)?.hostname !== hostname) return null
  return { hostname, port }
}

/** Loopback names (RFC 6761 §6.3: localhost and *.localhost) and addresses (127.0.0.0/8, ::1). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === '[::1]'
}

const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '[::]'])

/** The authority as a browser writes it in a URL (port only when it is not http's default). */
const httpOrigin = (authority: HostAuthority) => `http://${authority.hostname}${authority.port === null || authority.port === 80 ? '' : `:${authority.port}`}`

const effectivePort = (url: URL) => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80)

/**
 * In order:
 * (a) the host of PUBLIC_URL → exactly PUBLIC_URL;
 * (b) a loopback host on the API's own port (a browser or CLI on the host talking to the API directly)
 *     → http://that-host:port;
 * (c) a proxy whose target is the API → https://hostname, or for a loopback name (the built-in
 *     `localhost` proxy) http://hostname[:port] with the port the client sent, which is what its
 *     address bar holds even behind a container port mapping.
 * Non-loopback hosts ignore the port: their issuer is https on the default port. Loopback issuers keep
 * it, because a development setup runs on ports other than 80; a forged loopback port can only point
 * a client at its own machine.
 */
export function createIssuerResolver(deps: IssuerResolverDeps): ResolveIssuer {
  const publicUrl = new URL(deps.publicUrl)
  const publicHostname = publicUrl.hostname.toLowerCase()
  const isPublicLoopback = isLoopbackHost(publicHostname)

  const isApiAddress = (authority: HostAuthority): boolean => {
    const api = URL.parse(deps.apiOrigin())
    if (!api || !(isLoopbackHost(api.hostname) || WILDCARD_ADDRESSES.has(api.hostname))) return false
    return (authority.port ?? 80) === effectivePort(api)
  }

  return async function resolveIssuer(request) {
    // No fallback to the request URL: Bun derives it from this same header, and the edge's hand-off URL
    // names the API's socket, not the host the client asked for.
    const header = request.headers.get('host')
    const authority = header === null ? null : parseHostHeader(header)
    if (!authority) return null
    const isLoopback = isLoopbackHost(authority.hostname)

    if (authority.hostname === publicHostname && (!isPublicLoopback || (authority.port ?? 80) === effectivePort(publicUrl))) return deps.publicUrl
    if (isLoopback && isApiAddress(authority)) return httpOrigin(authority)
    // Exact names only: a wildcard proxy would make every label under it an issuer of its own.
    if ((await deps.apiProxyHostnames()).includes(authority.hostname)) return isLoopback ? httpOrigin(authority) : `https://${authority.hostname}`
    return null
  }
}
