/**
 * @module First-party browser clients, one per proxy in redirect mode. The edge sends a browser that
 * has no session to /authorize as client `proxy:<hostname>` (the proxy's hostname as stored, wildcard
 * included) and takes the code back at `/_oauth/callback` on the origin the browser was on. Nobody
 * registers these clients: one exists exactly while its proxy is enabled, auth-enabled and in
 * redirect mode. Each is public (no secret; the edge proves the flow with PKCE S256, required of every
 * client, OAuth 2.1 §4.1.1) and may use only the authorization_code and refresh_token grants.
 *
 * The redirect URIs are a rule, not a list, because a proxy answers on any port and a wildcard proxy
 * on every name under it: exactly `<origin>/_oauth/callback`, where the origin is https with any port,
 * or http for a loopback name (RFC 8252 §8.3), and its host is a name this very proxy serves (the edge's
 * own lookup: the exact proxy first, then the "*.parent" one). Nothing else matches (RFC 6749
 * §3.1.2.4, RFC 9700 §2.1: no open redirector), and its tokens may only be for that proxy's origins.
 */
import { isValidHostname } from '../../lib/index.ts'
import { isLoopbackHost } from '../issuer.ts'
import type { OAuthClient } from './model.ts'

export const PROXY_CLIENT_PREFIX = 'proxy:'
/** Where the edge receives the authorization response, on the proxy's own origin. */
export const PROXY_CALLBACK_PATH = '/_oauth/callback'

/** What the proxy clients need to know about proxies; the composition root answers from the proxy list. */
export interface ProxyDirectory {
  /** Whether the proxy stored under exactly `hostname` (a name or "*.parent") is enabled, auth-enabled and in redirect mode. */
  isRedirectProxy(hostname: string): Promise<boolean>
  /** The stored hostname of the proxy that serves requests for `host` (the exact proxy, else its "*.parent" one), or null. */
  proxyServing(host: string): Promise<string | null>
}

export const proxyClientId = (hostname: string): string => `${PROXY_CLIENT_PREFIX}${hostname}`

/** The proxy hostname a `proxy:` client id names, or null when it is not one (any other client id, or a malformed name). */
export function proxyHostnameOf(clientId: string): string | null {
  if (!clientId.startsWith(PROXY_CLIENT_PREFIX)) return null
  const hostname = clientId.slice(PROXY_CLIENT_PREFIX.length)
  // Stored hostnames are lower-case (HostnameSchema); anything else names no proxy.
  return hostname === hostname.toLowerCase() && isValidHostname(hostname) ? hostname : null
}

/**
 * A first-party browser client nobody registers (a proxy's, the web UI's): public, code and refresh
 * grants only, and redirect_uris empty: a rule decides, so a request must name its redirect_uri.
 */
export function firstPartyClient(clientId: string, clientName: string): OAuthClient {
  return {
    client_id: clientId,
    client_name: clientName,
    redirect_uris: [],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'web',
    client_id_issued_at: 0,
  }
}

export const proxyClient = (hostname: string): OAuthClient => firstPartyClient(proxyClientId(hostname), hostname)

/** Whether `url` is on an origin of this proxy: https on any port (not 0), http only for loopback names, a host the proxy serves. */
async function servedHost(directory: ProxyDirectory, hostname: string, url: URL): Promise<boolean> {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) return false
  if (url.username !== '' || url.password !== '' || url.port === '0' || !isValidHostname(url.hostname) || url.hostname.startsWith('*')) return false
  return (await directory.proxyServing(url.hostname)) === hostname
}

/**
 * RFC 6749 §3.1.2.3 with OAuth 2.1's exact comparison: `uri` must be exactly what the URL parser prints
 * for `<origin>/_oauth/callback` (lower-case scheme and host, no default port, no query or fragment), so
 * the string checked is the string a browser navigates to.
 */
export async function isProxyRedirectUri(directory: ProxyDirectory, hostname: string, uri: string): Promise<boolean> {
  const url = URL.parse(uri)
  if (!url || url.href !== uri || url.pathname !== PROXY_CALLBACK_PATH || url.search !== '' || url.hash !== '') return false
  return servedHost(directory, hostname, url)
}

/**
 * Whether a proxy's client may ask for tokens for `resource` (resolved, RFC 8707): only a resource on an
 * origin of that proxy (the origin, or the origin and the proxy's resource_endpoint path).
 */
export async function isProxyResource(directory: ProxyDirectory, hostname: string, resource: string): Promise<boolean> {
  const url = URL.parse(resource)
  return url !== null && url.search === '' && url.hash === '' && servedHost(directory, hostname, url)
}
