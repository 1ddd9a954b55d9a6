/**
 * @module An answer the decision gave (404, 421, a redirect, …), rendered for either path: as a
 * Response for the hand-over server, as HTTP/1.1 bytes for the relay. Both come from one page, so the
 * two paths say the same thing.
 */
import { STATUS_CODES } from 'node:http'
import type { GateAnswer } from '../auth/index.ts'
import type { AnswerDecision } from './decide.ts'
import { errorPage, type ErrorPage } from './error-page.ts'

const REASONS: Record<AnswerDecision['status'], string> = {
  200: 'OK',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  404: 'Not Found',
  421: 'Misdirected Request',
  502: 'Bad Gateway',
  508: 'Loop Detected',
}

function pageOf(answer: AnswerDecision, accept: string | null): ErrorPage {
  // RFC 8555 §8.3: the key authorization itself is the body.
  if (answer.status === 200) return { headers: { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' }, body: answer.detail }
  if (answer.status === 308) return { headers: { location: answer.location!, 'cache-control': 'no-store' }, body: '' }
  return errorPage(answer.status, answer.detail, accept)
}

export function answerResponse(answer: AnswerDecision, accept: string | null, method: string): Response {
  const page = pageOf(answer, accept)
  return new Response(method === 'HEAD' || page.body === '' ? null : page.body, { status: answer.status, headers: page.headers })
}

/**
 * The same answer as raw HTTP/1.1 bytes for the relay. `keepOpen` false adds `connection: close` (the
 * relay closes after an answer to a request whose body it would otherwise have to skip).
 */
export function rawAnswer(answer: AnswerDecision, accept: string | null, method: string, keepOpen: boolean, requestId: string | null = null): Buffer {
  const page = pageOf(answer, accept)
  const body = Buffer.from(page.body)
  let head = `HTTP/1.1 ${answer.status} ${REASONS[answer.status]}\r\n${requestIdLine(requestId)}`
  for (const name in page.headers) head += `${name}: ${page.headers[name]}\r\n`
  head += `date: ${new Date().toUTCString()}\r\ncontent-length: ${body.length}\r\n${keepOpen ? '' : 'connection: close\r\n'}\r\n`
  return method === 'HEAD' ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body])
}

/** The auth step's own answer (a challenge, metadata, a sign-in redirect) as a Response. */
export function gateAnswerResponse(answer: GateAnswer, method: string): Response {
  const headers = new Headers()
  for (const [name, value] of answer.headers) headers.append(name, value)
  return new Response(method === 'HEAD' || answer.body === '' ? null : answer.body, { status: answer.status, headers })
}

/** The same as raw HTTP/1.1 bytes for the relay. */
export function rawGateAnswer(answer: GateAnswer, method: string, keepOpen: boolean, requestId: string | null = null): Buffer {
  const body = Buffer.from(answer.body)
  let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Unknown'}\r\n${requestIdLine(requestId)}`
  for (const [name, value] of answer.headers) head += `${name}: ${value}\r\n`
  // RFC 9110 §8.6: a 204 has no Content-Length.
  const length = answer.status === 204 ? '' : `content-length: ${body.length}\r\n`
  head += `date: ${new Date().toUTCString()}\r\n${length}${keepOpen ? '' : 'connection: close\r\n'}\r\n`
  return method === 'HEAD' || body.length === 0 ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body])
}

/** The request's id on an answer the edge gives itself, as on a forwarded response. */
export function requestIdLine(requestId: string | null): string {
  return requestId === null ? '' : `x-request-id: ${requestId}\r\n`
}
