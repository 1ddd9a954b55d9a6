/**
 * @module The data plane's side of the request log (#12): request ids, and the one record per request
 * both paths write through the sink, made from what the decision and the exchange already know.
 */
import type { BackendErrorKind, CaptureTap, RequestOutcome, RequestRecord, RequestSink } from '../logs/index.ts'

export type { RequestOutcome }
import { maskTarget } from '../logs/index.ts'
import type { Scheme } from './handler.ts'

/** What a path needs to write records: where they go and which node this is. */
export interface RequestLogging {
  readonly sink: RequestSink
  readonly node: string
  /** Header captures an admin started for a host (POST /logs/capture); absent when there is no such service. */
  readonly tap?: CaptureTap
}

/** No log: records go nowhere (tests and tools that run the edge alone). */
export const NO_REQUEST_LOG: RequestLogging = { sink: { record() {} }, node: '' }

// Unique across nodes and restarts without a random call per request: a random prefix per process and a counter.
// With its "-", made by join (one flat string): an id is then two flat strings joined, which the ring
// copies (and so flattens) some 30-40 ns sooner than the three pieces a template makes, on the thread
// serving requests.
const PREFIX = [...Array.from(crypto.getRandomValues(new Uint8Array(6)), (byte) => byte.toString(36).padStart(2, '0')), '-'].join('')
let counter = 0

/** A new request id: 12 random base-36 characters per process, "-", then a counter. */
export function newRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return PREFIX + counter.toString(36)
}

/** When a request began: the wall clock for the record, the monotonic one for its duration. */
export interface RequestStart {
  readonly timeMs: number
  readonly atMs: number
}

export function requestStart(): RequestStart {
  return { timeMs: Date.now(), atMs: performance.now() }
}

export interface RecordInput {
  readonly start: RequestStart
  readonly requestId: string
  readonly scheme: Scheme
  readonly hostname: string
  readonly proxy: string | null
  readonly method: string
  readonly target: string
  readonly status: number
  readonly bytesIn: number
  readonly bytesOut: number
  readonly clientIp: string
  readonly userAgent: string | null
  readonly user: string | null
  readonly clientId: string | null
  readonly routeId: string | null
  readonly backend: string | null
  readonly outcome: RequestOutcome
  readonly backendError: BackendErrorKind | null
}

export function writeRecord(logging: RequestLogging, input: RecordInput): void {
  const record: RequestRecord = {
    time: input.start.timeMs,
    request_id: input.requestId,
    node: logging.node,
    scheme: input.scheme,
    host: input.hostname,
    proxy: input.proxy,
    method: input.method,
    path: maskTarget(input.target),
    status: input.status,
    duration_ms: Math.max(0, Math.round((performance.now() - input.start.atMs) * 100) / 100),
    bytes_in: input.bytesIn,
    bytes_out: input.bytesOut,
    client_ip: input.clientIp,
    user_agent: input.userAgent,
    user: input.user,
    client_id: input.clientId,
    route_id: input.routeId,
    backend: input.backend,
    outcome: input.outcome,
    backend_error: input.backendError,
  }
  logging.sink.record(record)
}

/** What a connect or socket error says about the backend (for the log and the metrics). */
export function backendErrorOf(detail: string): BackendErrorKind {
  if (/timeout|timed out|ETIMEDOUT/i.test(detail)) return 'timeout'
  // ECONNREFUSED (sockets) and ConnectionRefused (Bun's fetch).
  if (/ECONNREFUSED|refused/i.test(detail)) return 'refused'
  if (/ECONNRESET|reset|closed/i.test(detail)) return 'reset'
  if (/malformed|protocol|switched/i.test(detail)) return 'protocol'
  return 'unreachable'
}

/** "name: value\r\n" field lines as pairs, for a capture (only ever built while one runs for the host). */
export function fieldPairs(lines: string): [string, string][] {
  const pairs: [string, string][] = []
  for (const line of lines.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) pairs.push([line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()])
  }
  return pairs
}
