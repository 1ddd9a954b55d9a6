/**
 * @module The relay's way with a head its strict parser does not take (HTTP/1.0, absolute-form, an
 * upgrade, …): the lenient reader finds its host, and the hand-over server for it reads the rest,
 * unless the host alone decides the answer. It only decides; the session writes, records and closes.
 */
import { rawAnswer } from '../answer.ts'
import { decide, decideHost, type DecisionTables } from '../decide.ts'
import { rawErrorResponse } from '../error-page.ts'
import type { Scheme } from '../handler.ts'
import { readRequestHead } from '../http-head.ts'
import { newRequestId, requestStart } from '../request-log.ts'
import type { AnsweredHead, Started } from './answered-record.ts'
import { MAX_RELAY_HEAD_BYTES, REQUEST_ID } from './request-head.ts'

/** What of the session the unparsed path reads: the tables and how the connection came in. */
export interface UnparsedHeadContext {
  readonly tables: DecisionTables
  readonly scheme: Scheme
  /** On TLS, the proxy the SNI chose; null on plain HTTP. */
  readonly connectionProxy: string | null
}

export type UnparsedHeadRoute =
  /** More bytes are needed before anything can be said. */
  | { readonly kind: 'incomplete' }
  /** Handed over, the request is the hand-over server's to decide and record. */
  | { readonly kind: 'handover'; readonly instancePort: number }
  /** An answer given here; it ends the connection, and is recorded like any other. */
  | {
      readonly kind: 'answer'
      readonly bytes: Buffer
      readonly status: number
      readonly start: Started
      /** The request as its record shows it: what the lenient reader could tell. */
      readonly line: AnsweredHead
    }

/** Decides what becomes of the unparsed head at input[from..]. */
export function routeUnparsedHead(context: UnparsedHeadContext, input: Buffer, from: number): UnparsedHeadRoute {
  const head = readRequestHead(input.subarray(from), MAX_RELAY_HEAD_BYTES)
  if (head.status === 'incomplete') return INCOMPLETE
  const requestLine = requestLineOf(input, from)
  const headText = input.toString('latin1', from, from + (head.status === 'complete' ? head.headLength : Math.min(input.length - from, MAX_RELAY_HEAD_BYTES)))
  const clientRequestId = FIELD_REQUEST_ID.exec(headText)?.[1]?.trim()
  const start: Started = { ...requestStart(), requestId: clientRequestId !== undefined && REQUEST_ID.test(clientRequestId) ? clientRequestId : newRequestId() }
  const answer = (bytes: Buffer, hostname: string, status: number): UnparsedHeadRoute => ({
    kind: 'answer',
    bytes,
    status,
    start,
    line: { hostname, method: requestLine?.method ?? '-', target: requestLine?.target ?? '-', userAgent: null },
  })
  if (head.status !== 'complete') {
    const [status, detail] = head.status === 'too_large' ? [431, 'request head too large'] as const : [400, 'malformed request'] as const
    return answer(rawErrorResponse(status, detail, null, start.requestId), '', status)
  }
  const hostInput = { scheme: context.scheme, connectionProxy: context.connectionProxy, hostname: head.host ?? '' }
  // An ACME challenge (an HTTP/1.0 validator, or an HTTPS-only proxy's name, which has no hand-over
  // server on HTTP) is answered here too: the whole decision, since the host alone cannot say.
  if (requestLine && requestLine.target.startsWith(ACME_CHALLENGE_PREFIX)) {
    const decision = decide(context.tables, { ...hostInput, ...requestLine })
    if (decision.kind === 'answer' && decision.status === 200) return answer(rawAnswer(decision, null, requestLine.method, false, start.requestId), hostInput.hostname, 200)
  }
  const decision = decideHost(context.tables, hostInput)
  if (decision.kind === 'handover') return { kind: 'handover', instancePort: decision.instancePort }
  return answer(rawAnswer(decision, null, 'GET', false, start.requestId), hostInput.hostname, decision.status)
}

const INCOMPLETE: UnparsedHeadRoute = { kind: 'incomplete' }

/** The X-Request-Id field of a head only the lenient reader took (its first, as sent). */
const FIELD_REQUEST_ID = /\r\nx-request-id:([^\r\n]*)/i

/** RFC 8555 §8.3: where the CA fetches an HTTP-01 key authorization. */
const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/'

/** The method and the origin-form target of the request line at `from` (absolute-form reduced to its path), or null. */
function requestLineOf(input: Buffer, from: number): { method: string; target: string } | null {
  const lineEnd = input.indexOf(0x0a, from)
  const line = input.toString('latin1', from, lineEnd === -1 ? Math.min(input.length, from + 8192) : lineEnd).trim()
  const [method, target] = line.split(' ')
  if (!method || !target) return null
  // Absolute-form carries the authority before the path (RFC 9112 §3.2.2).
  const path = /^https?:\/\/[^/]*/i.test(target) ? target.replace(/^https?:\/\/[^/]*/i, '') || '/' : target
  return { method, target: path }
}
