/** @module A proxy's configuration prepared for the hot path: URLs parsed once per change, not per request. */
import type { ProxyTarget } from '../targets/index.ts'
import type { Upstream } from './forward.ts'
import type { ResponseHeaderRules } from './relay/response-head.ts'
import type { RelayTarget } from './relay/upstream-head.ts'

export interface Site {
  readonly target: ProxyTarget
  readonly upstream: Upstream
  /** The target is this process's own API: requests are handed to it in-process. */
  readonly isLocalApi: boolean
  /** How the relay reaches the backend; null when only the full server can (https, PROXY protocol, the local API). */
  readonly relay: RelayTarget | null
  /** The headers the proxy sets on responses, per scheme the client used. */
  readonly responseRules: { readonly http: ResponseHeaderRules; readonly https: ResponseHeaderRules }
}

export function prepareSite(target: ProxyTarget, apiOrigin: string): Site {
  const url = new URL(target.target_url)
  const isLocalApi = url.origin === apiOrigin
  const upstream: Upstream = {
    url,
    preserveHost: target.preserve_host_header,
    customHeaders: target.custom_headers,
    customResponseHeaders: target.custom_response_headers,
    timeoutMs: target.upstream_timeout * 1000,
    proxyProtocol: target.proxy_protocol,
  }
  const responseHeaders = lowerCased(target.custom_response_headers)
  const httpsResponseHeaders = target.hsts_max_age === null ? responseHeaders : { ...responseHeaders, 'strict-transport-security': `max-age=${target.hsts_max_age}; includeSubDomains` }
  return {
    target,
    isLocalApi,
    upstream,
    relay: isRelayable(url, isLocalApi, target) ? relayTargetOf(url, upstream) : null,
    responseRules: { http: rulesOf(responseHeaders), https: rulesOf(httpsResponseHeaders) },
  }
}

/** The relay speaks plain HTTP/1.1 and writes header bytes as Latin-1; everything else goes through fetch. */
function isRelayable(url: URL, isLocalApi: boolean, target: ProxyTarget): boolean {
  const headerText = JSON.stringify([target.custom_headers, target.custom_response_headers])
  return url.protocol === 'http:' && !isLocalApi && target.proxy_protocol === null && !/[^\x00-\xff]/.test(headerText)
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
    customHeaderNames: new Set(Object.keys(customHeaders)),
    customHeaderLines: linesOf(customHeaders),
    timeoutMs: upstream.timeoutMs,
  }
}

function rulesOf(headers: Record<string, string>): ResponseHeaderRules {
  return { setNames: new Set(Object.keys(headers)), setLines: linesOf(headers) }
}

function lowerCased(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]))
}

function linesOf(headers: Record<string, string>): string {
  return Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
}
