/**
 * @module A proxy's configuration prepared for the hot path when it changes, never per request: its
 * backends (URLs parsed, relay heads pre-built), the response headers it sets, and how its routes
 * apply to it.
 */
import { SERVICE_SCHEME } from '../lib/index.ts'
import type { ProxyRouteSettings } from '../routes/index.ts'
import type { RateLimit } from '../ratelimit/index.ts'
import type { ProxyTarget } from '../targets/index.ts'
import type { Upstream } from './forward.ts'
import type { ResponseHeaderRules } from './relay/response-head.ts'
import type { RelayTarget } from './relay/upstream-head.ts'
import { prepareSiteAuth, type SiteAuth } from './auth/requirement.ts'

/** Why a request the relay could otherwise take goes to the hand-over server instead. */
export type HandOverReason = 'https_backend' | 'proxy_protocol_backend' | 'local_api' | 'non_latin1_headers'

/** One backend URL as a proxy reaches it: for the hand-over server (upstream) and, when it can, the relay. */
export interface Backend {
  readonly upstream: Upstream
  /** How the relay reaches it; null when only the hand-over server can (see handOver). */
  readonly relay: RelayTarget | null
  readonly handOver: HandOverReason | null
  /** The target is this process's own API: requests are handed to it in-process. */
  readonly isLocalApi: boolean
  /** scheme://host:port, for the request log. */
  readonly origin: string
  /** The port, when the host is this machine (loopback, unspecified or "localhost"): it may be the edge itself. */
  readonly localPort: number | null
}

export interface Site {
  readonly target: ProxyTarget
  readonly routeSettings: ProxyRouteSettings
  /** The backend of target_url; null when the target is a service (`service://name`), resolved per decision. */
  readonly ownBackend: Backend | null
  /** What follows `service://` (`name` or `name:port`), resolved per decision; null when the target is a URL. */
  readonly targetService: string | null
  /** The backend for a URL (a route's target), with this proxy's forwarding settings; prepared once per URL. */
  backendFor(url: string): Backend
  /** The headers the proxy sets on responses, per scheme the client used. */
  readonly responseRules: { readonly http: ResponseHeaderRules; readonly https: ResponseHeaderRules }
  /** Its auth settings, for the decision's auth step. */
  readonly auth: SiteAuth
  /** The client-address headers it passes on as sent (`trusted_request_headers`, lower-case); empty for almost every proxy. */
  readonly trustedRequestHeaders: ReadonlySet<string>
  /** Its `rate_limit` per client address (proxy/rate-limit.ts); null for a proxy without one. */
  readonly rateLimit: RateLimit | null
}

/** Distinct route target URLs a site remembers; beyond it (routes churned for days) it starts over. */
const MAX_REMEMBERED_BACKENDS = 10_000

/** `apiResource` is the management API's resource (PUBLIC_URL): a proxy in front of the API takes its tokens. */
export function prepareSite(target: ProxyTarget, apiOrigin: string, apiResource: string): Site {
  const responseHeaders = lowerCased(target.custom_response_headers)
  // RFC 6797 §7.2: HSTS only over HTTPS.
  const httpsResponseHeaders = target.hsts_max_age === null ? responseHeaders : { ...responseHeaders, 'strict-transport-security': `max-age=${target.hsts_max_age}; includeSubDomains` }
  const backends = new Map<string, Backend>()
  const backendFor = (url: string): Backend => {
    let backend = backends.get(url)
    if (!backend) {
      if (backends.size >= MAX_REMEMBERED_BACKENDS) backends.clear()
      backend = prepareBackend(new URL(url), target, apiOrigin)
      backends.set(url, backend)
    }
    return backend
  }
  const targetService = target.target_url.startsWith(SERVICE_SCHEME) ? target.target_url.slice(SERVICE_SCHEME.length) : null
  const ownBackend = targetService === null ? backendFor(target.target_url) : null
  return {
    target,
    routeSettings: {
      proxy_hostname: target.proxy_hostname,
      route_mode: target.route_mode,
      enabled_routes: target.enabled_routes,
      disabled_routes: target.disabled_routes,
    },
    ownBackend,
    targetService,
    backendFor,
    responseRules: { http: rulesOf(responseHeaders), https: rulesOf(httpsResponseHeaders) },
    auth: prepareSiteAuth(target, ownBackend, apiResource),
    trustedRequestHeaders: new Set(target.trusted_request_headers.map((name) => name.toLowerCase())),
    rateLimit: target.rate_limit === null ? null : { perSecond: target.rate_limit.requests_per_second, burst: target.rate_limit.burst },
  }
}

function prepareBackend(url: URL, target: ProxyTarget, apiOrigin: string): Backend {
  const isLocalApi = url.origin === apiOrigin
  const upstream: Upstream = {
    url,
    preserveHost: target.preserve_host_header,
    customHeaders: target.custom_headers,
    timeoutMs: target.upstream_timeout * 1000,
    proxyProtocol: target.proxy_protocol,
  }
  const handOver = handOverReason(url, isLocalApi, target)
  return { upstream, relay: handOver === null ? relayTargetOf(url, upstream) : null, handOver, isLocalApi, origin: url.origin, localPort: isThisMachine(url.hostname) ? Number(url.port || (url.protocol === 'https:' ? 443 : 80)) : null }
}

/** Names that reach this machine whatever its interfaces are. */
function isThisMachine(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname.startsWith('127.') || hostname === '[::1]' || hostname === '0.0.0.0' || hostname === '[::]' || hostname === '[::ffff:127.0.0.1]'
}

/** The relay speaks plain HTTP/1.1 and writes header bytes as Latin-1; everything else goes to the hand-over server. */
function handOverReason(url: URL, isLocalApi: boolean, target: ProxyTarget): HandOverReason | null {
  if (isLocalApi) return 'local_api'
  if (url.protocol !== 'http:') return 'https_backend'
  if (target.proxy_protocol !== null) return 'proxy_protocol_backend'
  if (/[^\x00-\xff]/.test(JSON.stringify(target.custom_headers))) return 'non_latin1_headers'
  return null
}

function relayTargetOf(url: URL, upstream: Upstream): RelayTarget {
  const customHeaders = lowerCased(upstream.customHeaders)
  // URL drops the default port; an IPv6 literal keeps its brackets in hostname, which connect does not want.
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  const port = Number(url.port || 80)
  return {
    origin: { key: `${hostname}:${port}`, hostname, port },
    pathPrefix: url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname,
    targetHost: url.host,
    preserveHost: upstream.preserveHost,
    // Compared with "_" as "-": a client's X_Team must not arrive beside (or as) the proxy's X-Team.
    customHeaderNames: new Set(Object.keys(customHeaders).map((name) => name.replaceAll('_', '-'))),
    customHeaderLines: linesOf(customHeaders),
    timeoutMs: upstream.timeoutMs,
  }
}

function rulesOf(headers: Record<string, string>): ResponseHeaderRules {
  return { setNames: new Set(Object.keys(headers)), setLines: linesOf(headers), entries: Object.entries(headers) }
}

function lowerCased(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]))
}

function linesOf(headers: Record<string, string>): string {
  return Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
}
