/** @module The request pipeline: the one decision per request, the relay, the hand-over server, forwarding, error answers. */
export type { ClientInfo } from './client.ts'
export { decide, decideHost, type AnswerDecision, type Decision, type DecisionInput, type DecisionTables, type ForwardDecision } from './decide.ts'
export { Deadlines, type Expiring } from './deadlines.ts'
export { errorResponse, escapeHtml } from './error-page.ts'
export { forward, pathAndQueryOf, upstreamUrl, type LocalFetch, type Upstream } from './forward.ts'
export { createInstanceHandler, type PipelineDeps, type Scheme } from './handler.ts'
export { buildUpstreamHeaders, isIdentityHeader, prepareResponseHeaders } from './headers.ts'
export { normalizeHost } from './host.ts'
export { readRequestHead, type HeadResult } from './http-head.ts'
export { prepareSite, type Backend, type HandOverReason, type Site } from './site.ts'
export { rateLimitAnswer, type ProxyRateLimiter } from './rate-limit.ts'
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
export { parseResponseHead } from './http1-response.ts'
export { createBodyTracker, type BodyTracker } from './relay/body-tracker.ts'
export type { RequestFraming } from './relay/request-head.ts'
export { openRelaySession, type RelayDeps, type RelaySession, type RelayTimeouts, type ShutdownState } from './relay/relay.ts'
export { createUpstreamPool, type UpstreamPool } from './relay/upstream-pool.ts'
export { createAuthGate, originOf, type AuthGate, type AuthGateDeps, type GateOutcome, type GateRequest } from './auth/gate.ts'
export { authStepFor, METADATA_PATH, prepareSiteAuth, scopeByRule, type AuthStep, type SiteAuth } from './auth/requirement.ts'
export { NO_REQUEST_LOG, newRequestId, type RequestLogging } from './request-log.ts'
