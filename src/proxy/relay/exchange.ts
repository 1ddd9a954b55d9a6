/**
 * @module One relayed request and its response: the request head (and body, as it arrives) to a pooled
 * backend connection, the response head checked and re-written, the body passed on as it comes, with
 * backpressure both ways; a 502 or 504 when the backend fails before answering; and at the end, the
 * backend connection back to the pool or closed. The session (relay.ts) owns the client connection and
 * starts one exchange at a time.
 */
import type { Logger } from '../../lib/index.ts'
import type { ForwardDecision } from '../decide.ts'
import type { Deadlines, Expiring } from '../deadlines.ts'
import { rawErrorResponse, type ErrorStatus } from '../error-page.ts'
import type { Scheme } from '../handler.ts'
import { Http1ProtocolError } from '../http1-response.ts'
import { createBodyTracker, type BodyTracker } from './body-tracker.ts'
import { assemble, copyRange, EMPTY } from './buffers.ts'
import type { ClientWriter } from './client-writer.ts'
import { withoutFields, type RequestHead } from './request-head.ts'
import { parseResponseHeadForRelay } from './response-head.ts'
import { afterAuthStep, buildUpstreamHead, withTrustedFields, type RelayTarget } from './upstream-head.ts'
import type { GateOutcome } from '../auth/gate.ts'
import type { ClientInfo } from '../client.ts'
import { trustedHeadersFor } from '../headers.ts'
import { backendErrorOf, fieldPairs, writeRecord, type RequestLogging, type RequestStart } from '../request-log.ts'
import type { BackendErrorKind } from '../../logs/index.ts'
import { resumeReading, type UpstreamConnection, type UpstreamListener, type UpstreamPool } from './upstream-pool.ts'

/** What an exchange needs of the client connection's session. */
export interface ExchangeSession {
  readonly scheme: Scheme
  readonly pool: UpstreamPool
  readonly deadlines: Deadlines
  readonly logger: Logger
  readonly toClient: ClientWriter
  /** The client connection ends once what waits for it is written. */
  closeClient(): void
  /** The response broke off: the client connection is cut. */
  terminateClient(): void
  /** The exchange is over (its backend connection is released). */
  onExchangeEnd(): void
  /** The exchange no longer holds the client's reads back; they start again unless the session's own backlog is too large. */
  resumeClientReading(): void
  /** The response is out and the client connection stays: the next request may start. */
  startNext(): void
  /** The server is shutting down: a response ends its connection (with `connection: close` when its head is still to be sent). */
  isDraining(): boolean
}

/** What the exchange needs to write its record, and the request's id. */
export interface ExchangeRecording {
  readonly logging: RequestLogging
  readonly start: RequestStart
  /** The client's usable X-Request-Id, or a new one: sent to the backend and back to the client. */
  readonly requestId: string
  readonly clientIp: string
}

/** Body bytes waiting for the backend beyond this stop the client's reads until they move on. */
const MAX_WAITING_BODY_BYTES = 64 * 1024
const END_OF_HEAD = '\r\n'
const CRLF = Buffer.from('\r\n')

/** Methods whose request may be sent again on a fresh connection when a reused one turned out dead (RFC 9110 §9.2.2). */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

export class Exchange implements UpstreamListener, Expiring {
  deadlineAtMs = 0
  previousExpiring: Expiring | null = null
  nextExpiring: Expiring | null = null
  upstream: UpstreamConnection | null = null
  private readonly upstreamHead: string
  private toUpstreamPending: Buffer | null = null
  private readonly requestBody: BodyTracker
  /** Response head bytes received so far: response[responseFrom..]. */
  private response: Buffer = EMPTY
  private responseFrom = 0
  private responseBody: BodyTracker | null = null
  /** The response has begun: a failure can no longer be answered, only cut. */
  isResponseHeadSent = false
  private clientCloses: boolean
  private backendCloses = false
  private hasRetried = false
  private isOver = false
  /** For the record: the final status sent (0 until then), body bytes in, bytes out, and why the backend failed. */
  private status = 0
  private bytesIn = 0
  private bytesOut = 0
  private backendError: BackendErrorKind | null = null

  private readonly target: RelayTarget

  constructor(
    private readonly session: ExchangeSession,
    private readonly head: RequestHead,
    private readonly decision: ForwardDecision,
    forwarding: string,
    client: ClientInfo,
    private readonly passed: (GateOutcome & { kind: 'pass' }) | null,
    private readonly recording: ExchangeRecording,
  ) {
    const target = decision.backend.relay!
    this.target = target
    let kept = withTrustedFields(head.keptFields, head.clientAddressFields, trustedHeadersFor(client, decision.site.trustedRequestHeaders))
    // The client's copies of the proxy's custom headers are dropped: the proxy's own values go instead.
    if (target.customHeaderNames.size > 0) kept = withoutFields(kept, target.customHeaderNames)
    if (passed !== null) kept = afterAuthStep(kept, head, passed)
    // A client's usable id went on with its fields; otherwise the backend gets ours.
    if (head.requestId === null) kept += `x-request-id: ${recording.requestId}\r\n`
    this.upstreamHead = buildUpstreamHead(head, target, forwarding, decision.path, kept)
    this.requestBody = createBodyTracker(head.framing)
    this.clientCloses = head.wantsClose
    session.deadlines.track(this, target.timeoutMs)
  }

  /** The response head did not come in time (RFC 9110 §15.6.5). */
  expire() {
    this.fail(504, 'the backend did not answer in time', 'timeout')
  }

  /** Takes the request's body bytes from bytes[from..]; returns where the rest (the next request) starts. */
  takeRequestBody(bytes: Buffer, from: number): number {
    if (this.requestBody.isComplete) return from
    let end: number
    try {
      end = this.requestBody.consume(bytes, from)
    } catch (error) {
      this.fail(400, 'malformed request body framing', String(error))
      return bytes.length
    }
    const bodyEnd = end === -1 ? bytes.length : end
    // RFC 9110 §6.5.1: a client's trailer fields are not passed on (they could carry identity fields the
    // head may not); the backend gets an empty trailer section.
    const cut = this.requestBody.trailerCut
    const sendEnd = cut === -1 ? bodyEnd : cut
    this.bytesIn += bodyEnd - from
    if (sendEnd > from) this.writeUpstream(bytes, from, sendEnd)
    if (cut !== -1 && this.requestBody.isComplete) this.writeUpstream(CRLF)
    return bodyEnd
  }

  /** Sends the head, and the body bytes already taken, on an idle or a new backend connection. */
  start() {
    if (this.isOver) return
    const connection = this.session.pool.takeIdle(this.target.origin, this)
    if (connection) this.send(connection)
    else this.connect()
  }

  private connect() {
    this.session.pool.connect(this.target.origin, this).then(
      (connection) => (this.isOver ? this.session.pool.discard(connection) : this.send(connection)),
      // Bun's message is only "Failed to connect"; the reason (ECONNREFUSED, EHOSTUNREACH, …) is in its code, which the record's backend_error needs.
      (error) => this.fail(502, 'the backend could not be reached', `connect: ${[(error as { code?: unknown })?.code, (error as Error)?.message ?? error].filter(Boolean).join(' ')}`),
    )
  }

  private send(connection: UpstreamConnection) {
    this.upstream = connection
    const body = this.toUpstreamPending ?? EMPTY
    this.toUpstreamPending = null
    this.writeUpstream(assemble(this.upstreamHead, body, 0, body.length), 0, this.upstreamHead.length + body.length)
    // Body bytes that waited for the connection may have stopped the client's reads; all went out, so read on.
    if (!this.toUpstreamPending) this.session.resumeClientReading()
  }

  /** Writes bytes[start, end) to the backend; what it does not take (or all, before it is connected) waits, copied. */
  writeUpstream(bytes: Buffer, start = 0, end = bytes.length) {
    const upstream = this.upstream
    if (!upstream || this.toUpstreamPending) {
      const more = copyRange(bytes, start, end)
      this.toUpstreamPending = this.toUpstreamPending ? Buffer.concat([this.toUpstreamPending, more]) : more
      if (this.toUpstreamPending.length > MAX_WAITING_BODY_BYTES) this.session.toClient.pauseReading()
      return
    }
    const written = upstream.socket.write(bytes, start, end - start)
    if (written < end - start) {
      this.toUpstreamPending = copyRange(bytes, start + Math.max(written, 0), end)
      this.session.toClient.pauseReading()
    }
  }

  onUpstreamDrain() {
    const pending = this.toUpstreamPending
    if (!pending || !this.upstream) return
    const written = this.upstream.socket.write(pending)
    if (written < pending.length) {
      this.toUpstreamPending = pending.subarray(Math.max(written, 0))
      return
    }
    this.toUpstreamPending = null
    this.session.resumeClientReading()
  }

  onUpstreamData(bytes: Buffer) {
    if (this.isOver) return
    if (this.responseBody) return this.relayBody(bytes, 0, 0, null)
    if (this.response.length === this.responseFrom) {
      this.response = bytes
      this.responseFrom = 0
    } else {
      this.response = Buffer.concat([copyRange(this.response, this.responseFrom, this.response.length), bytes])
      this.responseFrom = 0
    }
    this.readResponseHead()
  }

  /** Reads the response head from response[responseFrom..]: 1xx heads pass on, the final one starts the body. */
  private readResponseHead() {
    const rules = this.decision.responseRules
    for (;;) {
      const from = this.responseFrom
      const parsed = parseResponseHeadForRelay(this.response, this.head.method, rules, from)
      if (parsed.status === 'incomplete') {
        // The runtime may reuse the buffer it handed to the data callback.
        this.response = copyRange(this.response, from, this.response.length)
        this.responseFrom = 0
        return
      }
      if (parsed.status === 'invalid') return this.fail(502, 'the backend sent a malformed response', parsed.reason)
      const { head: responseHead } = parsed
      const { lines } = responseHead
      const headEnd = from + responseHead.headLength
      if (responseHead.status < 200) {
        // 101 would switch protocols on a request that never asked to; other 1xx pass on (RFC 9110 §15.2).
        if (responseHead.status === 101) return this.fail(502, 'the backend switched protocols unasked', '101 without Upgrade')
        if (lines === null) this.session.toClient.write(this.response, from, headEnd)
        else this.session.toClient.writeWithHead(`${lines}${END_OF_HEAD}`, EMPTY, 0, 0)
        this.responseFrom = headEnd
        continue
      }
      this.session.deadlines.untrack(this)
      this.backendCloses = responseHead.backendCloses
      // A response that ends with the backend's connection ends the client's too; so does an answer
      // given before the request body was all read (the rest of it cannot be told from a next request).
      // During a shutdown too: the client then knows not to send another request on it (RFC 9112 §9.6).
      this.clientCloses ||= responseHead.framing.kind === 'close' || !this.requestBody.isComplete || this.session.isDraining()
      const closing = this.clientCloses ? 'connection: close\r\n' : ''
      const idLine = `x-request-id: ${this.recording.requestId}\r\n`
      const response = this.response
      this.status = responseHead.status
      this.captureIfAsked(response.toString('latin1', from, headEnd))
      this.isResponseHeadSent = true
      this.response = EMPTY
      this.responseFrom = 0
      this.responseBody = createBodyTracker(responseHead.framing)
      if (lines === null && !closing) {
        // The backend's own head bytes go out unchanged but for the id after the status line.
        const statusLineEnd = response.indexOf(0x0a, from) + 1
        return this.relayBody(response, headEnd, statusLineEnd, `${response.toString('latin1', from, statusLineEnd)}${idLine}`)
      }
      const rewritten = lines !== null ? `${lines}${closing}${END_OF_HEAD}` : `${response.toString('latin1', from, headEnd - 2)}${closing}${END_OF_HEAD}`
      const statusLineEnd = rewritten.indexOf('\r\n') + 2
      return this.relayBody(response, headEnd, headEnd, `${rewritten.slice(0, statusLineEnd)}${idLine}${rewritten.slice(statusLineEnd)}`)
    }
  }

  /**
   * Passes response body bytes (from `bodyFrom` on) to the client; what is written starts at
   * `writeFrom` (the backend's head itself, when it goes out unchanged), after `head` when given.
   */
  private relayBody(bytes: Buffer, bodyFrom: number, writeFrom: number, head: string | null) {
    let end: number
    try {
      end = this.responseBody!.consume(bytes, bodyFrom)
    } catch (error) {
      if (error instanceof Http1ProtocolError) return this.abort(`malformed response body: ${error.message}`)
      throw error
    }
    const chunkEnd = end === -1 ? bytes.length : end
    if (head !== null) this.session.toClient.writeWithHead(head, bytes, writeFrom, chunkEnd)
    else if (chunkEnd > writeFrom) this.session.toClient.write(bytes, writeFrom, chunkEnd)
    this.bytesOut += (head === null ? 0 : head.length) + Math.max(0, chunkEnd - writeFrom)
    // Bytes after the end of the response belong to no request: that backend connection is out of step.
    if (end !== -1 && end < bytes.length) this.backendCloses = true
    if (this.responseBody!.isComplete) this.finish()
  }

  onUpstreamClose(isError: boolean) {
    if (this.isOver) return
    const connection = this.upstream
    this.upstream = null
    if (this.responseBody) {
      // A body delimited by the close is complete now (RFC 9112 §6.3 item 8); any other is cut short.
      // A reset is no end: the client must not take a cut body for a whole one.
      if (this.responseBody.endsAtClose && !isError) return this.finish()
      return this.abort('the backend closed the connection mid-response')
    }
    const isRetryable = connection?.isReused && !this.hasRetried && this.response.length === 0 && this.head.framing.kind === 'none' && RETRYABLE.has(this.head.method)
    if (isRetryable) {
      // The backend closed a keep-alive connection as we reused it (RFC 9112 §9.3.1): once more on a new one.
      this.hasRetried = true
      // What the dead connection did not take is the request itself: the new one gets it anew, once.
      this.toUpstreamPending = null
      return this.connect()
    }
    this.fail(502, 'the backend closed the connection without answering', 'closed before the response head')
  }

  /** The request failed before any of its response was sent: answer it and close the client connection. */
  fail(status: ErrorStatus, detail: string, logDetail: string) {
    if (this.isOver) return
    if (this.isResponseHeadSent) return this.abort(logDetail)
    if (status !== 400) this.session.logger.warn('upstream failed', { proxy: this.decision.proxyHostname, detail: logDetail })
    const answer = rawErrorResponse(status, detail, this.head.accept, this.recording.requestId)
    this.status = status
    this.bytesOut += answer.length
    if (status !== 400) this.backendError = status === 504 ? 'timeout' : backendErrorOf(logDetail)
    this.end(false)
    this.session.toClient.write(answer)
    this.session.closeClient()
  }

  /** The response was already under way: the only honest signal left is to cut the client connection. */
  abort(detail: string) {
    if (this.isOver) return
    this.session.logger.warn('upstream failed', { proxy: this.decision.proxyHostname, detail })
    this.backendError = backendErrorOf(detail)
    this.end(false)
    this.session.terminateClient()
  }

  private finish() {
    // Reusable only if every byte of the request went out: unsent body bytes would be read by the backend
    // as the start of the next request on this connection (request smuggling, RFC 9112 §11.2).
    const isReusable = !this.backendCloses && this.requestBody.isComplete && this.toUpstreamPending === null
    this.end(isReusable)
    // A response whose head went out before the shutdown began (a stream) ends its connection too.
    if (this.clientCloses || this.session.isDraining()) return this.session.closeClient()
    if (!this.session.toClient.hasPending) this.session.startNext()
  }

  /** Stops the exchange; the backend connection goes back to the pool or is closed. */
  end(isReusable: boolean) {
    if (this.isOver) return
    this.isOver = true
    this.record()
    this.session.deadlines.untrack(this)
    this.session.onExchangeEnd()
    const connection = this.upstream
    this.upstream = null
    if (connection) {
      resumeReading(connection)
      if (isReusable) this.session.pool.release(connection)
      else this.session.pool.discard(connection)
    }
    // Reads stopped for backpressure on this exchange start again for the next request.
    this.session.resumeClientReading()
  }

  /** Hands the exchange's heads to a header capture running for this host (none: one size check). */
  private captureIfAsked(responseHeadText: string) {
    const { tap } = this.recording.logging
    const { head } = this
    if (!tap || tap.captureFor(head.hostname) === null) return
    const requestFields = fieldPairs(head.keptFields)
    requestFields.push(['host', head.host])
    // Kept out of keptFields by the parser or cut by the auth step; the capture masks them.
    if (head.authorization !== null) requestFields.push(['authorization', head.authorization])
    const statusLineEnd = responseHeadText.indexOf('\r\n')
    tap.capture(head.hostname, requestFields, this.status, fieldPairs(statusLineEnd === -1 ? '' : responseHeadText.slice(statusLineEnd + 2)), { method: head.method, target: head.target })
  }

  /** The request's one record; a client that left before any answer is 499, as nginx logs it. */
  private record() {
    const { head, decision, recording, passed } = this
    writeRecord(recording.logging, {
      start: recording.start,
      requestId: recording.requestId,
      scheme: this.session.scheme,
      hostname: head.hostname,
      proxy: decision.proxyHostname,
      method: head.method,
      target: head.target,
      status: this.status === 0 ? 499 : this.status,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      clientIp: recording.clientIp,
      userAgent: head.userAgent,
      user: passed === null ? null : passed.user,
      clientId: passed === null ? null : passed.clientId,
      routeId: decision.routeId,
      backend: decision.backend.origin,
      outcome: this.backendError === null ? 'forwarded' : 'backend_error',
      backendError: this.backendError,
    })
  }

  /** Body bytes wait for the backend (beyond the limit while it is not connected yet): the client is not read. */
  get isHoldingClientBack(): boolean {
    const pending = this.toUpstreamPending
    return pending !== null && (this.upstream !== null || pending.length > MAX_WAITING_BODY_BYTES)
  }

  get isRequestBodyComplete() {
    return this.requestBody.isComplete
  }
}
