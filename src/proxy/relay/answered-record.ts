/**
 * @module The request-log record of a request the relay answers itself instead of forwarding (a
 * decision's answer, a rate limit, the auth step, an unparsed head): no backend, no body read.
 */
import type { Scheme } from '../handler.ts'
import { writeRecord, type RequestLogging, type RequestOutcome, type RequestStart } from '../request-log.ts'
import type { RequestHead } from './request-head.ts'

/** When a request began, and its id (the client's usable X-Request-Id, or ours). */
export interface Started extends RequestStart {
  readonly requestId: string
}

/** What of the head the record shows. */
export type AnsweredHead = Pick<RequestHead, 'hostname' | 'method' | 'target' | 'userAgent'>

/** What the record of an answered request says besides the head. */
export interface Answered {
  readonly start: Started
  readonly proxy: string | null
  readonly status: number
  readonly outcome: RequestOutcome
}

export function writeAnsweredRecord(logging: RequestLogging, scheme: Scheme, clientIp: string, head: AnsweredHead, bytesOut: number, answered: Answered): void {
  writeRecord(logging, {
    start: answered.start,
    requestId: answered.start.requestId,
    scheme,
    hostname: head.hostname,
    proxy: answered.proxy,
    method: head.method,
    target: head.target,
    status: answered.status,
    bytesIn: 0,
    bytesOut,
    clientIp,
    userAgent: head.userAgent,
    user: null,
    clientId: null,
    routeId: null,
    backend: null,
    outcome: answered.outcome,
    backendError: null,
  })
}
