/**
 * @module The per-request pipeline of a proxy instance: host check → ACME challenge → HTTPS redirect →
 * route match → authorization → forward (HTTP or WebSocket). Routes and authorization are explicit
 * seams that later modules fill; today they let every request through to the proxy's target.
 */
import type { Server } from 'bun'
import type { Logger } from '../lib/index.ts'
import type { ClientInfo } from './client.ts'
import { errorResponse } from './error-page.ts'
import { forward, pathAndQueryOf, type LocalFetch } from './forward.ts'
import type { Site } from './site.ts'
import { bridgeWebSocket, isWebSocketUpgrade, websocketBridgeHandler, type BridgeData } from './websocket.ts'

export type Scheme = 'http' | 'https'

/** A seam: answers the request itself (e.g. an ACME HTTP-01 challenge), or returns undefined to go on. */
export type RequestInterceptor = (request: Request, hostname: string) => Response | undefined | Promise<Response | undefined>

export interface PipelineDeps {
  /** The proxy's current configuration; undefined once it is deleted. Read on every request, so updates apply to the next one. */
  readonly siteOf: (proxyHostname: string) => Site | undefined
  /** The proxy that serves a hostname on this scheme (exact name first, then its wildcard), as for a new connection. */
  readonly proxyFor: (hostname: string, scheme: Scheme) => string | undefined
  readonly clientOf: (request: Request, server: Server<BridgeData>, scheme: Scheme) => ClientInfo
  readonly apiFetch: LocalFetch
  /** The public HTTPS port, for redirects (443 is left out of the URL). Asked per redirect: with HTTPS_PORT=0 it is known only once the dispatcher listens. */
  readonly httpsPort: () => number
  readonly interceptors?: readonly RequestInterceptor[]
  readonly logger: Logger
}

export function createInstanceHandler(proxyHostname: string, scheme: Scheme, deps: PipelineDeps) {
  return {
    async fetch(request: Request, server: Server<BridgeData>): Promise<Response | undefined> {
      const site = deps.siteOf(proxyHostname)
      const accept = request.headers.get('accept')
      if (!site || !site.target.enabled) return errorResponse(404, `no proxy for ${proxyHostname}`, accept)
      const requestHost = request.headers.get('host') ?? ''
      const hostname = hostOnly(requestHost)
      // A connection routed here by SNI or by its first request must not carry requests for other
      // proxies: a name with its own proxy goes there even when this one is its wildcard.
      if (deps.proxyFor(hostname, scheme) !== proxyHostname) return errorResponse(421, `this connection serves ${proxyHostname}, not ${hostname || 'an empty Host'}`, accept)

      for (const intercept of deps.interceptors ?? []) {
        const answered = await intercept(request, hostname)
        if (answered) return answered
      }
      if (scheme === 'http' && site.target.redirect_http_to_https && site.target.enable_https) {
        // RFC 9110 §15.4.9: 308 keeps the method and body.
        const httpsPort = deps.httpsPort()
        const httpsSuffix = httpsPort === 443 ? '' : `:${httpsPort}`
        return new Response(null, { status: 308, headers: { location: `https://${hostname}${httpsSuffix}${pathAndQueryOf(request.url)}` } })
      }

      const client = deps.clientOf(request, server, scheme)
      const context = {
        client,
        instance: { address: server.hostname ?? '127.0.0.1', port: server.port ?? 0 },
        upstream: site.upstream,
        localFetch: site.isLocalApi ? deps.apiFetch : undefined,
        onError: (detail: string) => deps.logger.warn('upstream failed', { proxy: proxyHostname, detail }),
      }
      if (isWebSocketUpgrade(request)) return bridgeWebSocket(request, server, requestHost, context)
      const response = await forward(request, requestHost, context)
      if (scheme === 'https' && site.target.hsts_max_age !== null) {
        response.headers.set('strict-transport-security', `max-age=${site.target.hsts_max_age}; includeSubDomains`)
      }
      return response
    },
    websocket: websocketBridgeHandler,
  }
}

/** Host header without its port; IPv6 literals keep their brackets. */
function hostOnly(host: string): string {
  const lower = host.toLowerCase()
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1)
  const colon = lower.lastIndexOf(':')
  return colon === -1 ? lower : lower.slice(0, colon)
}
