/** @module A proxy's configuration prepared for the hot path: URLs parsed once per change, not per request. */
import type { ProxyTarget } from '../targets/index.ts'
import type { Upstream } from './forward.ts'

export interface Site {
  readonly target: ProxyTarget
  readonly upstream: Upstream
  /** The target is this process's own API: requests are handed to it in-process. */
  readonly isLocalApi: boolean
}

export function prepareSite(target: ProxyTarget, apiOrigin: string): Site {
  const url = new URL(target.target_url)
  return {
    target,
    isLocalApi: url.origin === apiOrigin,
    upstream: {
      url,
      preserveHost: target.preserve_host_header,
      customHeaders: target.custom_headers,
      customResponseHeaders: target.custom_response_headers,
      timeoutMs: target.upstream_timeout * 1000,
      proxyProtocol: target.proxy_protocol,
    },
  }
}
