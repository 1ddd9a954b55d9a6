/**
 * @module The shapes of a header capture: what an admin asks for, the stored capture (one document per
 * capture, read by every node), and one captured exchange (one entry of the `captures` stream).
 */
import * as v from 'valibot'
import type { CapturedHeaders } from './capture-mask.ts'

/** Limits of one capture: short, small, and bodies only when asked for. */
export const CAPTURE_LIMITS = {
  maxDurationSec: 900,
  maxRequests: 1000,
  defaultRequests: 100,
  maxBodyBytes: 65_536,
  /** Captures running at once, over all hosts. */
  maxActive: 20,
} as const

export interface CaptureRequest {
  /** The request host, lower case, no port. */
  readonly host: string
  readonly durationSec: number
  /** Exchanges to keep, on each node (the read returns the first max_requests over all nodes). */
  readonly maxRequests: number
  /** Bytes of each body to keep; 0 keeps none. */
  readonly bodyBytes: number
  /** Who asked (the admin's login), for the record. */
  readonly createdBy: string
}

export const StoredCaptureSchema = v.object({
  id: v.string(),
  host: v.string(),
  started_at_ms: v.number(),
  expires_at_ms: v.number(),
  /** Ended early (DELETE); null while it runs to expires_at_ms. */
  stopped_at_ms: v.nullable(v.number()),
  max_requests: v.number(),
  body_bytes: v.number(),
  created_by: v.string(),
  /** The node the capture was started on. */
  node: v.string(),
})
export type StoredCapture = v.InferOutput<typeof StoredCaptureSchema>

const HeadersSchema = v.array(v.tuple([v.string(), v.string()]))

export const StoredExchangeSchema = v.object({
  capture_id: v.string(),
  node: v.string(),
  method: v.nullable(v.string()),
  /** Path and query, secret parameters masked. */
  target: v.nullable(v.string()),
  request_headers: HeadersSchema,
  status: v.number(),
  response_headers: HeadersSchema,
  /** Present only when the capture keeps bodies: the first body_bytes bytes, as UTF-8 text. */
  request_body: v.optional(v.string()),
  response_body: v.optional(v.string()),
  request_body_truncated: v.optional(v.boolean()),
  response_body_truncated: v.optional(v.boolean()),
})
export type StoredExchange = v.InferOutput<typeof StoredExchangeSchema> & { request_headers: CapturedHeaders; response_headers: CapturedHeaders }

/** What the data plane may add to a captured exchange. */
export interface ExchangeDetail {
  readonly method?: string
  /** The request target as received (path and query); masked before it is kept. */
  readonly target?: string
  /** The bodies, or their first bytes: kept only up to the capture's body_bytes. */
  readonly requestBody?: Uint8Array
  readonly responseBody?: Uint8Array
}

/** A capture as the API shows it. */
export interface CaptureView {
  readonly id: string
  readonly host: string
  readonly started_at: string
  readonly expires_at: string
  readonly stopped_at: string | null
  readonly active: boolean
  readonly max_requests: number
  readonly body_bytes: number
  readonly created_by: string
  readonly node: string
}

export function captureView(capture: StoredCapture, nowMs: number): CaptureView {
  const iso = (ms: number) => new Date(ms).toISOString()
  return {
    id: capture.id,
    host: capture.host,
    started_at: iso(capture.started_at_ms),
    expires_at: iso(capture.expires_at_ms),
    stopped_at: capture.stopped_at_ms === null ? null : iso(capture.stopped_at_ms),
    active: capture.stopped_at_ms === null && nowMs < capture.expires_at_ms,
    max_requests: capture.max_requests,
    body_bytes: capture.body_bytes,
    created_by: capture.created_by,
    node: capture.node,
  }
}
