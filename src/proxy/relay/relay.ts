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
import type { ClientInfo } from '../client.ts'
import { rawErrorResponse } from '../error-page.ts'
import type { Scheme } from '../handler.ts'
import type { Site } from '../site.ts'
import { copyRange, EMPTY } from './buffers.ts'
import { ClientWriter } from './client-writer.ts'
import { Exchange, type ExchangeSession } from './exchange.ts'
import { parseRequestHead, type RequestHead } from './request-head.ts'
import { forwardingLines } from './upstream-head.ts'
import { pauseReading, resumeReading, type UpstreamPool } from './upstream-pool.ts'

export interface RelayDeps {
  readonly siteOf: (proxyHostname: string) => Site | undefined
  /** The proxy that serves a hostname on this scheme (exact name first, then its wildcard), as for a new connection. */
  readonly proxyFor: (hostname: string, scheme: Scheme) => string | undefined
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
  /** The client connection's idle timeout, which a long wait for a backend's answer must not cut short. */
  readonly idleTimeoutSec: number
  /**
   * Moves the connection to the full server; `bytes` are what the client sent from the current request
   * on, and `isClientEnded` says the client has already half-closed.
   */
  readonly handOver: (bytes: Buffer, isClientEnded: boolean) => void
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
const NO_NAMES: ReadonlySet<string> = new Set()

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
  /** The client's idle timeout is stretched while a request waits longer than it for its answer. */
  let isWaitLonger = false
  const session: ExchangeSession = {
    proxyHostname: options.proxyHostname,
    scheme,
    pool: deps.pool,
    logger: deps.logger,
    toClient,
    closeClient,
    terminateClient: () => socket.terminate(),
    onExchangeEnd: () => void (exchange = null),
    onResponseHead: () => {
      if (isWaitLonger) socket.timeout(options.idleTimeoutSec)
      isWaitLonger = false
    },
    resumeClientReading: () => resumeClientReading(),
    startNext: () => startNext(),
  }
  /** Reads start again unless pipelined requests, or the current request's body, still wait beyond their limits. */
  const resumeClientReading = () => {
    if (input.length - inputFrom > MAX_WAITING_INPUT_BYTES || exchange?.isHoldingClientBack) return
    toClient.resumeReading()
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
    if (parsed.status === 'unsupported' || deps.proxyFor(parsed.head.hostname, scheme) !== options.proxyHostname) return handOver()
    const { head } = parsed
    const waitSec = Math.ceil(site.relay!.timeoutMs / 1000)
    if (waitSec >= options.idleTimeoutSec) {
      // A quiet client waiting for a slow backend is not idle: it gets its 504 at the backend's deadline.
      isWaitLonger = true
      socket.timeout(waitSec + 1)
    }
    const current = new Exchange(session, head, site, site.relay!, forwardingFor(head))
    exchange = current
    // Body bytes already here wait in the exchange and go out with the head; later ones follow as they come.
    inputFrom = current.takeRequestBody(input, inputFrom + head.headLength)
    if (inputFrom === input.length) {
      input = EMPTY
      inputFrom = 0
    }
    current.start()
    resumeClientReading()
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
    options.handOver(bytes, isClientEnded)
  }

  return {
    onData(bytes) {
      if (isClosed) return
      let from = 0
      if (exchange && !exchange.isRequestBodyComplete) from = exchange.takeRequestBody(bytes, 0)
      if (from === bytes.length) return
      if (input.length === inputFrom && !exchange && !toClient.hasPending) {
        // Usually a whole request: parsed and sent from the runtime's buffer, copied only if some is left.
        input = bytes
        inputFrom = from
        startNext()
        if (input === bytes) {
          input = copyRange(bytes, inputFrom, bytes.length)
          inputFrom = 0
        }
      } else {
        const more = copyRange(bytes, from, bytes.length)
        input = input.length === inputFrom ? more : Buffer.concat([copyRange(input, inputFrom, input.length), more])
        inputFrom = 0
        startNext()
      }
      // Pipelined requests wait while one is answered (or while a client does not read its answers):
      // beyond the limit, the client is not read until they have moved on.
      if (input.length - inputFrom > MAX_WAITING_INPUT_BYTES) toClient.pauseReading()
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
