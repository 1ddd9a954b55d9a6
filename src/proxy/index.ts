/** @module The request pipeline behind every proxy instance: forwarding, WebSocket bridging, error answers. */
export type { ClientInfo } from './client.ts'
export { errorResponse, escapeHtml } from './error-page.ts'
export { forward, pathAndQueryOf, upstreamUrl, type LocalFetch, type Upstream } from './forward.ts'
export { createInstanceHandler, type PipelineDeps, type RequestInterceptor, type Scheme } from './handler.ts'
export { buildUpstreamHeaders, isIdentityHeader, prepareResponseHeaders } from './headers.ts'
export { prepareSite, type Site } from './site.ts'
export type { BridgeData } from './websocket.ts'
export {
  parseProxyHeader,
  PROXY_MAX_HEADER_LENGTH,
  serializeProxyV1,
  serializeProxyV2,
  type ParseResult,
  type ProxyAddresses,
  type ProxyHeader,
  type ProxyTlv,
} from './proxy-protocol.ts'
export { openRelaySession, type RelayDeps, type RelaySession } from './relay/relay.ts'
export { createUpstreamPool, type UpstreamPool } from './relay/upstream-pool.ts'
