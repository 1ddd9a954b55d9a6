/**
 * @module One record per request, written by the data plane from the decision's outcome on both paths
 * (the relay and the hand-over server), and what it may never hold: credentials, cookies, tokens in
 * query strings, or an OAuth redirect's code and state (masked before a record is made).
 */

/** How the request ended. */
export type RequestOutcome =
  /** Forwarded by the relay, and the backend answered. */
  | 'forwarded'
  /** Forwarded by the hand-over server (WebSocket, HTTP/1.0, https or PROXY-protocol backends, the API). */
  | 'handed_over'
  /** Answered by the decision itself: 404, 421, 308, 400, an ACME key authorization, … */
  | 'answered'
  /** Answered by the auth step: a 401/403 challenge, RFC 9728 metadata, a sign-in redirect or callback. */
  | 'auth'
  /** The backend failed: 502 or 504 (see backend_error), or the response was cut. */
  | 'backend_error'

/** Why a backend failed, as far as the proxy can tell. */
export type BackendErrorKind = 'refused' | 'timeout' | 'reset' | 'protocol' | 'unreachable'

export interface RequestRecord {
  /** When the request head was complete, epoch milliseconds. */
  readonly time: number
  /** The request id: also sent to the backend and returned to the client as X-Request-Id. */
  readonly request_id: string
  /** The node (NODE_ID) that served it. */
  readonly node: string
  readonly scheme: 'http' | 'https'
  /** The requested host, normalised (no port); '' when none was sent. */
  readonly host: string
  /** The proxy that served it (may be a wildcard); null when none did. */
  readonly proxy: string | null
  readonly method: string
  /** Path and query, with secret query parameters masked (maskTarget). */
  readonly path: string
  readonly status: number
  /** From the complete head to the last byte of the response (or the failure). */
  readonly duration_ms: number
  /** Request body bytes read from the client. */
  readonly bytes_in: number
  /** Response bytes written to the client, head included. */
  readonly bytes_out: number
  /** The real client address (after a trusted PROXY header). */
  readonly client_ip: string
  readonly user_agent: string | null
  /** The authenticated user's login and the token's client, when the auth step verified one. */
  readonly user: string | null
  readonly client_id: string | null
  readonly route_id: string | null
  /** The backend's origin (http://host:port), when the request was forwarded. */
  readonly backend: string | null
  readonly outcome: RequestOutcome
  readonly backend_error: BackendErrorKind | null
}

/** Where the data plane puts records: synchronous, bounded, never throws, never waits (logs/ring.ts). */
export interface RequestSink {
  record(record: RequestRecord): void
}

/** Query parameters whose values are secrets (RFC 6750 §2.3, RFC 6749 §4.1.2, OIDC, common API keys). */
const SECRET_PARAMETERS = new Set(['access_token', 'refresh_token', 'id_token', 'code', 'state', 'token', 'client_secret', 'password', 'api_key', 'apikey', 'key', 'secret', 'code_verifier', 'session', 'sig', 'signature'])

/** The request target with the values of secret query parameters replaced by "***" (names compared case-insensitively). */
export function maskTarget(target: string): string {
  const queryAt = target.indexOf('?')
  if (queryAt === -1) return target
  const masked = target
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=')
      const name = equals === -1 ? pair : pair.slice(0, equals)
      let decoded = name
      try {
        decoded = decodeURIComponent(name.replaceAll('+', ' '))
      } catch {
        // a malformed escape: compare the raw name
      }
      return equals !== -1 && SECRET_PARAMETERS.has(decoded.toLowerCase()) ? `${name}=***` : pair
    })
    .join('&')
  return `${target.slice(0, queryAt)}?${masked}`
}
