/**
 * @module The relay: the public listeners' fast path. It forwards plain HTTP/1.1 requests of a client
 * connection to the backend over pooled keep-alive connections, passing bodies through as they arrive
 * (with backpressure both ways) and re-writing only the heads. One request at a time per connection,
 * in order, so pipelined requests (RFC 9112 §9.3.2) are answered in order too.
 *
 * Whatever it does not handle itself — upgrades, HTTP/1.0, odd or malformed heads, sites whose backend
 * it cannot reach (https, PROXY protocol, the in-process API), redirects, misdirected requests — it hands
 * over, at a request boundary, to the proxy instance's full HTTP server with `handOver`; the connection
 * then stays there. The instance gives those cases exactly the answers it always did.
 */
import type { Socket } from 'bun'
import type { Logger } from '../../lib/index.ts'
import { hostMatches } from '../../targets/index.ts'
import type { ClientInfo } from '../client.ts'
import { track, untrack, type Expiring } from '../deadlines.ts'
import { rawErrorResponse, type ErrorStatus } from '../error-page.ts'
import type { Scheme } from '../handler.ts'
import { Http1ProtocolError } from '../http1-response.ts'
import type { Site } from '../site.ts'
import { createBodyTracker, type BodyTracker } from './body-tracker.ts'
import { parseRequestHead, type RequestHead } from './request-head.ts'
import { parseResponseHeadForRelay } from './response-head.ts'
import { buildUpstreamHead, forwardingLines, type RelayTarget } from './upstream-head.ts'
import { pauseReading, resumeReading, type UpstreamConnection, type UpstreamListener, type UpstreamPool } from './upstream-pool.ts'
import { assemble, copyRange, EMPTY } from './buffers.ts'
import { ClientWriter } from './client-writer.ts'

export interface RelayDeps {
  readonly siteOf: (proxyHostname: string) => Site | undefined
  readonly pool: UpstreamPool
  /** Request interceptors are Request-based and live in the full server: while any is set, every request goes there. */
  readonly hasInterceptors: boolean
  readonly logger: Logger
}

export interface RelaySessionOptions {
  readonly proxyHostname: string
  readonly scheme: Scheme
  readonly client: ClientInfo
  readonly socket: Socket<unknown>
  /** Moves the connection to the full server; `bytes` are what the client sent from the current request on. */
  readonly handOver: (bytes: Buffer) => void
}

/** The client-socket events the listener passes on while the relay owns the connection. */
export interface RelaySession {
  onData(bytes: Buffer): void
  onDrain(): void
  /** The client half-closed: no more requests will come. */
  onEnd(): void
  onClose(): void
}

/** Pipelined requests waiting beyond this stop the client's reads until the current exchange ends. */
const MAX_WAITING_INPUT_BYTES = 64 * 1024
const END_OF_HEAD = '\r\n'

const NO_NAMES: ReadonlySet<string> = new Set()

/** Methods whose request may be sent again on a fresh connection when a reused one turned out dead (RFC 9110 §9.2.2). */
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

export function openRelaySession(deps: RelayDeps, options: RelaySessionOptions): RelaySession {
  const { socket, scheme, client } = options
  /** Client bytes not yet taken: input[inputFrom..]. May be the runtime's own buffer only while its data callback runs. */
  let input: Buffer = EMPTY
  let inputFrom = 0
  let isClosed = false
  let isClientEnded = false
  let exchange: Exchange | null = null
  const toClient = new ClientWriter(socket, () => pauseReading(exchange?.upstream))
  /** The last Host's forwarding lines: they change only with the Host (or a load balancer's own chain). */
  let forwardingHost = ''
  let forwarding = ''
  const forwardingFor = (head: RequestHead): string => {
    if (head.priorForwardedFor !== null || head.priorForwarded !== null) return forwardingLines(head, client)
    if (head.host !== forwardingHost) {
      forwardingHost = head.host
      forwarding = forwardingLines(head, client)
    }
    return forwarding
  }
  const closeClient = () => {
    isClosed = true
    toClient.end()
  }

  class Exchange implements UpstreamListener, Expiring {
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
    private isResponseHeadSent = false
    private clientCloses: boolean
    private backendCloses = false
    private hasRetried = false
    private isOver = false

    constructor(
      private readonly head: RequestHead,
      private readonly site: Site,
      private readonly target: RelayTarget,
    ) {
      this.upstreamHead = buildUpstreamHead(head, target, forwardingFor(head))
      this.requestBody = createBodyTracker(head.framing)
      this.clientCloses = head.wantsClose
      track(this, target.timeoutMs)
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
      if (bodyEnd > from) this.writeUpstream(bytes, from, bodyEnd)
      return bodyEnd
    }

    /** Sends the head, and the body bytes already taken, on an idle or a new backend connection. */
    start() {
      if (this.isOver) return
      const connection = deps.pool.takeIdle(this.target.origin, this)
      if (connection) this.send(connection)
      else this.connect()
    }

    private connect() {
      deps.pool.connect(this.target.origin, this).then(
        (connection) => (this.isOver ? deps.pool.discard(connection) : this.send(connection)),
        (error) => this.fail(502, 'the backend could not be reached', `connect: ${(error as Error)?.message ?? error}`),
      )
    }

    private send(connection: UpstreamConnection) {
      this.upstream = connection
      const body = this.toUpstreamPending ?? EMPTY
      this.toUpstreamPending = null
      this.writeUpstream(assemble(this.upstreamHead, body, 0, body.length), 0, this.upstreamHead.length + body.length)
    }

    /** Writes bytes[start, end) to the backend; what it does not take (or all, before it is connected) waits, copied. */
    writeUpstream(bytes: Buffer, start = 0, end = bytes.length) {
      const upstream = this.upstream
      if (!upstream || this.toUpstreamPending) {
        const more = copyRange(bytes, start, end)
        this.toUpstreamPending = this.toUpstreamPending ? Buffer.concat([this.toUpstreamPending, more]) : more
        if (this.toUpstreamPending.length > MAX_WAITING_INPUT_BYTES) toClient.pauseReading()
        return
      }
      const written = upstream.socket.write(bytes, start, end - start)
      if (written < end - start) {
        this.toUpstreamPending = copyRange(bytes, start + Math.max(written, 0), end)
        toClient.pauseReading()
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
      toClient.resumeReading()
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
      const rules = this.site.responseRules[scheme]
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
          if (lines === null) toClient.write(this.response, from, headEnd)
          else toClient.writeWithHead(`${lines}${END_OF_HEAD}`, EMPTY, 0, 0)
          this.responseFrom = headEnd
          continue
        }
        untrack(this)
        this.backendCloses = responseHead.backendCloses
        // A response that ends with the backend's connection ends the client's too; so does an answer
        // given before the request body was all read (the rest of it cannot be told from a next request).
        this.clientCloses ||= responseHead.framing.kind === 'close' || !this.requestBody.isComplete
        const closing = this.clientCloses ? 'connection: close\r\n' : ''
        // The backend's own head bytes go out unchanged when nothing in them has to change.
        const head = lines !== null ? `${lines}${closing}${END_OF_HEAD}` : closing ? `${this.response.toString('latin1', from, headEnd - 2)}${closing}${END_OF_HEAD}` : null
        const response = this.response
        this.isResponseHeadSent = true
        this.response = EMPTY
        this.responseFrom = 0
        this.responseBody = createBodyTracker(responseHead.framing)
        return this.relayBody(response, headEnd, head === null ? from : headEnd, head)
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
      if (head !== null) toClient.writeWithHead(head, bytes, writeFrom, chunkEnd)
      else if (chunkEnd > writeFrom) toClient.write(bytes, writeFrom, chunkEnd)
      // Bytes after the end of the response belong to no request: that backend connection is out of step.
      if (end !== -1 && end < bytes.length) this.backendCloses = true
      if (this.responseBody!.isComplete) this.finish()
    }

    onUpstreamClose() {
      if (this.isOver) return
      const connection = this.upstream
      this.upstream = null
      if (this.responseBody) {
        // A body delimited by the close is complete now (RFC 9112 §6.3 item 8); any other is cut short.
        if (this.responseBody.endsAtClose) return this.finish()
        return this.abort('the backend closed the connection mid-response')
      }
      const isRetryable = connection?.isReused && !this.hasRetried && this.response.length === 0 && this.head.framing.kind === 'none' && RETRYABLE.has(this.head.method)
      if (isRetryable) {
        // The backend closed a keep-alive connection as we reused it (RFC 9112 §9.3.1): once more on a new one.
        this.hasRetried = true
        return this.connect()
      }
      this.fail(502, 'the backend closed the connection without answering', 'closed before the response head')
    }

    /** The request failed before any of its response was sent: answer it and close the client connection. */
    fail(status: ErrorStatus, detail: string, logDetail: string) {
      if (this.isOver) return
      if (this.isResponseHeadSent) return this.abort(logDetail)
      if (status !== 400) deps.logger.warn('upstream failed', { proxy: options.proxyHostname, detail: logDetail })
      this.end(false)
      toClient.write(rawErrorResponse(status, detail, this.head.accept))
      closeClient()
    }

    /** The response was already under way: the only honest signal left is to cut the client connection. */
    abort(detail: string) {
      if (this.isOver) return
      deps.logger.warn('upstream failed', { proxy: options.proxyHostname, detail })
      this.end(false)
      socket.terminate()
    }

    private finish() {
      const isReusable = !this.backendCloses && this.requestBody.isComplete
      this.end(isReusable)
      if (this.clientCloses) return closeClient()
      if (!toClient.hasPending) startNext()
    }

    /** Stops the exchange; the backend connection goes back to the pool or is closed. */
    end(isReusable: boolean) {
      if (this.isOver) return
      this.isOver = true
      untrack(this)
      exchange = null
      const connection = this.upstream
      this.upstream = null
      if (connection) {
        resumeReading(connection)
        if (isReusable) deps.pool.release(connection)
        else deps.pool.discard(connection)
      }
      // Reads stopped for backpressure on this exchange start again for the next request.
      toClient.resumeReading()
    }

    get isRequestBodyComplete() {
      return this.requestBody.isComplete
    }
  }

  /** Starts the next request waiting in the input, if it is complete; hands the connection over if it is not ours. */
  const startNext = () => {
    if (isClosed || exchange || toClient.hasPending) return
    if (input.length === inputFrom) {
      if (isClientEnded) closeClient()
      return
    }
    const site = deps.siteOf(options.proxyHostname)
    // The proxy was deleted, or this scheme turned off, while the connection was open: its instance
    // server is gone or going, so the answer is the listener's own, as for a new connection.
    if (!site || !(scheme === 'http' ? site.target.enable_http : site.target.enable_https)) return refuse()
    if (!isRelayedSite(site)) return handOver()
    const parsed = parseRequestHead(input, site.relay!.customHeaderNames, inputFrom)
    if (parsed.status === 'incomplete') {
      if (isClientEnded) closeClient()
      return
    }
    // A misdirected request (RFC 9110 §15.5.20) gets its 421 from the full server.
    if (parsed.status === 'unsupported' || !hostMatches(options.proxyHostname, parsed.head.hostname)) return handOver()
    const { head } = parsed
    const current = new Exchange(head, site, site.relay!)
    exchange = current
    // Body bytes already here wait in the exchange and go out with the head; later ones follow as they come.
    inputFrom = current.takeRequestBody(input, inputFrom + head.headLength)
    if (inputFrom === input.length) {
      input = EMPTY
      inputFrom = 0
    }
    current.start()
  }

  const isRelayedSite = (site: Site): boolean =>
    site.relay !== null &&
    site.target.enabled &&
    !deps.hasInterceptors &&
    !(scheme === 'http' && site.target.redirect_http_to_https && site.target.enable_https)

  /** Answers 404 to the waiting request (once its head is complete) and closes the connection. */
  const refuse = () => {
    const parsed = parseRequestHead(input, NO_NAMES, inputFrom)
    if (parsed.status === 'incomplete' && !isClientEnded) return
    toClient.write(rawErrorResponse(404, `no proxy for ${options.proxyHostname}`, parsed.status === 'complete' ? parsed.head.accept : null))
    input = EMPTY
    inputFrom = 0
    closeClient()
  }

  const handOver = () => {
    isClosed = true
    const bytes = copyRange(input, inputFrom, input.length)
    input = EMPTY
    inputFrom = 0
    options.handOver(bytes)
  }

  return {
    onData(bytes) {
      if (isClosed) return
      let from = 0
      if (exchange && !exchange.isRequestBodyComplete) from = exchange.takeRequestBody(bytes, 0)
      if (from === bytes.length) return
      if (input.length > inputFrom) {
        input = Buffer.concat([copyRange(input, inputFrom, input.length), copyRange(bytes, from, bytes.length)])
        inputFrom = 0
      } else if (exchange) {
        input = copyRange(bytes, from, bytes.length)
        inputFrom = 0
      } else {
        // Usually a whole request: parsed and sent from the runtime's buffer, copied only if some is left.
        input = bytes
        inputFrom = from
        startNext()
        if (input === bytes) {
          input = copyRange(bytes, inputFrom, bytes.length)
          inputFrom = 0
        }
        return
      }
      if (exchange) {
        if (input.length > MAX_WAITING_INPUT_BYTES) toClient.pauseReading()
        return
      }
      startNext()
    },
    onDrain() {
      if (!toClient.flush()) return
      if (exchange) resumeReading(exchange.upstream)
      else startNext()
    },
    onEnd() {
      isClientEnded = true
      // Both directions are finished: close now (a TLS socket would otherwise linger after both ends).
      if (toClient.isEndSent) return void socket.terminate()
      if (!exchange && !toClient.hasPending) startNext()
    },
    onClose() {
      isClosed = true
      exchange?.end(false)
    },
  }
}
