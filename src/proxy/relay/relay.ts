/**
 * @module The relay: the public listeners' fast path. For each request of a client connection it
 * asks the decision step (decide.ts) what to do, then answers it itself (404, 421, a redirect, …),
 * forwards it to the backend over pooled keep-alive connections, passing bodies through as they
 * arrive (with backpressure both ways) and re-writing only the heads, or hands the connection over.
 * One request at a time per connection, in order, so pipelined requests (RFC 9112 §9.3.2) are
 * answered in order too.
 *
 * What it does not forward itself — upgrades, HTTP/1.0, odd or malformed heads, backends it cannot
 * reach (https, PROXY protocol, the in-process API) — it hands over, at a request boundary, to the
 * proxy's hand-over server with `handOver`; the connection then stays there.
 *
 * It also keeps the connection's clocks: every request head must be complete within the head timeout
 * (slowloris, first request or fiftieth), a request body must keep a minimum rate while it is read,
 * and a connection with no bytes either way for the idle timeout is closed.
 */
import type { Socket } from 'bun'
import type { Logger } from '../../lib/index.ts'
import { rawAnswer, rawGateAnswer } from '../answer.ts'
import type { AuthGate, GateOutcome, GateRequest } from '../auth/gate.ts'
import { newRequestId, requestStart, type RequestLogging } from '../request-log.ts'
import type { ClientInfo } from '../client.ts'
import { decide, type AnswerDecision, type DecisionTables, type ForwardDecision } from '../decide.ts'
import { rateLimitAnswer, type ProxyRateLimiter } from '../rate-limit.ts'
import type { Deadlines, Expiring } from '../deadlines.ts'
import type { Scheme } from '../handler.ts'
import { writeAnsweredRecord, type Answered, type AnsweredHead, type Started } from './answered-record.ts'
import { copyRange, EMPTY } from './buffers.ts'
import { ClientWriter } from './client-writer.ts'
import { Exchange, type ExchangeSession } from './exchange.ts'
import { parseRequestHead, type RequestHead } from './request-head.ts'
import { routeUnparsedHead, type UnparsedHeadContext } from './unparsed-head.ts'
import { forwardingLines } from './upstream-head.ts'
import { pauseReading, resumeReading, type UpstreamPool } from './upstream-pool.ts'

export interface RelayTimeouts {
  /** A request head (any, not only the first) must be complete this long after its first byte. */
  readonly headMs: number
  /** A connection with no bytes either way for this long is closed. */
  readonly idleMs: number
  /** While a request body is read, at least this many bytes a second on average over each head-timeout window. */
  readonly minBodyBytesPerSec: number
}

export interface RelayDeps {
  readonly tables: DecisionTables
  readonly gate: AuthGate
  /** Proxies' rate_limit (proxy/rate-limit.ts); absent: none is enforced. */
  readonly rateLimiter?: ProxyRateLimiter | null
  /** One record per request the relay finishes (a handed-over request is the hand-over server's to record). */
  readonly logging: RequestLogging
  readonly pool: UpstreamPool
  readonly deadlines: Deadlines
  readonly timeouts: RelayTimeouts
  readonly logger: Logger
  /** Set once the server shuts down: from then on every response ends its connection. Absent: never. */
  readonly shutdown?: ShutdownState
}

/** The server's shutdown, as the relay reads it (edge/edge.ts sets it when the drain begins). */
export interface ShutdownState {
  readonly isDraining: boolean
}

export interface RelaySessionOptions {
  readonly scheme: Scheme
  /** On TLS, the proxy the SNI chose; null on plain HTTP, where every request is routed by its own Host. */
  readonly connectionProxy: string | null
  readonly client: ClientInfo
  readonly socket: Socket<unknown>
  /**
   * Moves the connection to the hand-over server on `port`; `bytes` are what the client sent from the
   * current request on, and `isClientEnded` says the client has already half-closed.
   */
  readonly handOver: (bytes: Buffer, isClientEnded: boolean, port: number) => void
}

/** The client-socket events the listener passes on while the relay owns the connection. */
export interface RelaySession {
  onData(bytes: Buffer): void
  onDrain(): void
  /** The client half-closed: no more requests will come. */
  onEnd(): void
  onClose(): void
  /** Nothing is under way: no request being read, forwarded or answered (a shutdown may close it). */
  isIdle(): boolean
}

/** Pipelined requests waiting beyond this stop the client's reads until the current exchange ends. */
const MAX_WAITING_INPUT_BYTES = 64 * 1024

export function openRelaySession(deps: RelayDeps, options: RelaySessionOptions): RelaySession {
  const { socket, scheme, client } = options
  const { deadlines, timeouts } = deps
  /** Client bytes not yet taken: input[inputFrom..]. May be the runtime's own buffer only while its data callback runs. */
  let input: Buffer = EMPTY
  let inputFrom = 0
  let isClosed = false
  let isClientEnded = false
  let exchange: Exchange | null = null
  /** The auth step of the current request is waiting for a first verification of its token: nothing else starts meanwhile. */
  let isAuthorizing = false
  const toClient = new ClientWriter(socket, deadlines, () => pauseReading(exchange?.upstream))
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
  const unparsedContext: UnparsedHeadContext = { tables: deps.tables, scheme, connectionProxy: options.connectionProxy }
  const isDraining = () => deps.shutdown?.isDraining === true
  /** The connection may serve another request after this one's answer (a shutdown ends every connection at its next answer). */
  const mayKeepOpen = (head: RequestHead) => head.framing.kind === 'none' && !head.wantsClose && !isClientEnded && !isDraining()
  const closeClient = () => {
    isClosed = true
    deadlines.untrack(clock)
    toClient.end()
  }

  /** A first request has come: from then on, silence between requests is idleness, not a slow head. */
  let hasStartedRequest = false
  /** Body bytes of the current request read since the body-rate window began. */
  let bodyBytesInWindow = 0
  /** The connection's one deadline; what it means depends on what the connection is doing when it passes. */
  const clock: Expiring = {
    deadlineAtMs: 0,
    previousExpiring: null,
    nextExpiring: null,
    expire() {
      if (isClosed) return
      if (exchange) {
        if (!exchange.isRequestBodyComplete) {
          // A body dripped slower than the minimum rate holds a backend connection hostage (slow POST);
          // a body the backend is slow to take (reads paused) is not the client's fault.
          const isClientHeldBack = toClient.isReadingPaused || exchange.isHoldingClientBack
          if (!isClientHeldBack && bodyBytesInWindow < (timeouts.minBodyBytesPerSec * timeouts.headMs) / 1000) return timeOut('request body too slow')
          bodyBytesInWindow = 0
          return deadlines.track(clock, timeouts.headMs)
        }
        // Waiting for the response head has its own deadline (504); a response is cut after idleMs of silence.
        if (!exchange.isResponseHeadSent) return deadlines.track(clock, timeouts.idleMs)
        const quietMs = deadlines.nowMs - toClient.lastActivityMs
        return quietMs < timeouts.idleMs ? deadlines.track(clock, timeouts.idleMs - quietMs) : timeOut('idle')
      }
      // RFC 9110 §15.5.9 allows a 408, but a client that stopped mid-head is not reading: just close.
      // A new connection (or a fresh TLS session) that sends nothing gets no longer than a slow head.
      if (input.length > inputFrom || !hasStartedRequest) return timeOut('request head too slow')
      const quietMs = deadlines.nowMs - toClient.lastActivityMs
      if (quietMs < timeouts.idleMs) return deadlines.track(clock, timeouts.idleMs - quietMs)
      timeOut('idle')
    },
  }
  const timeOut = (why: string) => {
    deps.logger.debug('client connection timed out', { why, client: client.address })
    exchange?.end(false)
    closeClient()
  }
  /** A new request head has begun (or the connection is new): it has headMs to complete. */
  const startHeadClock = () => deadlines.track(clock, timeouts.headMs)
  startHeadClock()

  const session: ExchangeSession = {
    scheme,
    pool: deps.pool,
    deadlines,
    logger: deps.logger,
    toClient,
    closeClient,
    terminateClient: () => {
      isClosed = true
      deadlines.untrack(clock)
      socket.terminate()
    },
    onExchangeEnd: () => {
      exchange = null
      // Whatever comes next (a pipelined head, or silence) is timed from here.
      startHeadClock()
    },
    resumeClientReading: () => resumeClientReading(),
    startNext: () => startNext(),
    isDraining,
  }
  /** Reads start again unless pipelined requests, or the current request's body, still wait beyond their limits. */
  const resumeClientReading = () => {
    if (input.length - inputFrom > MAX_WAITING_INPUT_BYTES || exchange?.isHoldingClientBack) return
    toClient.resumeReading()
  }

  /** Starts the next request waiting in the input, if it is complete. */
  const startNext = () => {
    if (isClosed || exchange || isAuthorizing || toClient.hasPending) return
    if (input.length === inputFrom) {
      if (isClientEnded) return closeClient()
      // Between requests the connection may idle; before its first (a drain right after a TLS
      // handshake comes here too) the head clock keeps running.
      if (hasStartedRequest) deadlines.track(clock, timeouts.idleMs)
      return
    }
    const parsed = parseRequestHead(input, NO_NAMES, inputFrom)
    if (parsed.status === 'incomplete') {
      if (isClientEnded) closeClient()
      return
    }
    if (parsed.status === 'unsupported') return handOverUnparsed()
    const { head } = parsed
    const decision = decide(deps.tables, { scheme, connectionProxy: options.connectionProxy, method: head.method, target: head.target, hostname: head.hostname })
    hasStartedRequest = true
    if (decision.kind === 'handover') return handOver(decision.instancePort)
    const start: Started = { ...requestStart(), requestId: head.requestId ?? newRequestId() }
    if (decision.kind === 'answer') return answer(decision, head, start)
    const limited = rateLimitAnswer(deps.rateLimiter ?? null, decision.site, decision.proxyHostname, client.address, head.accept)
    if (limited !== null) {
      const keepOpen = mayKeepOpen(head)
      return finishAnswered(head, rawGateAnswer(limited, head.method, keepOpen, start.requestId), keepOpen, { start, proxy: decision.proxyHostname, status: limited.status, outcome: 'answered' })
    }
    if (decision.auth === null) return startExchange(head, decision, head.cookie === null ? null : deps.gate.unprotected(head.cookie), start)
    const outcome = deps.gate.check(decision.auth, decision.site.auth, decision.proxyHostname, gateRequestOf(scheme, head))
    if (!(outcome instanceof Promise)) return afterAuth(head, decision, outcome, start)
    // A token seen for the first time: verified off the hot path, then this request goes on as if it never waited.
    isAuthorizing = true
    outcome.then(
      (settled) => {
        isAuthorizing = false
        if (!isClosed) afterAuth(head, decision, settled, start)
      },
      (error: unknown) => {
        isAuthorizing = false
        deps.logger.warn('auth step failed', { detail: String(error) })
        if (!isClosed) finishAnswered(head, rawGateAnswer(UNAUTHORIZABLE, head.method, false, start.requestId), false, { start, proxy: decision.proxyHostname, status: 503, outcome: 'auth' })
      },
    )
  }

  const afterAuth = (head: RequestHead, decision: ForwardDecision, outcome: GateOutcome, start: Started) => {
    if (outcome.kind === 'pass') return startExchange(head, decision, outcome, start)
    const keepOpen = mayKeepOpen(head)
    finishAnswered(head, rawGateAnswer(outcome.answer, head.method, keepOpen, start.requestId), keepOpen, { start, proxy: decision.proxyHostname, status: outcome.answer.status, outcome: 'auth' })
  }

  const startExchange = (head: RequestHead, decision: ForwardDecision, passed: (GateOutcome & { kind: 'pass' }) | null, start: Started) => {
    const current = new Exchange(session, head, decision, forwardingFor(head), client, passed, { logging: deps.logging, start, requestId: start.requestId, clientIp: client.address })
    exchange = current
    bodyBytesInWindow = 0
    deadlines.track(clock, Math.min(timeouts.headMs, timeouts.idleMs))
    // Body bytes already here wait in the exchange and go out with the head; later ones follow as they come.
    inputFrom = current.takeRequestBody(input, inputFrom + head.headLength)
    if (inputFrom === input.length) {
      input = EMPTY
      inputFrom = 0
    }
    current.start()
    resumeClientReading()
  }

  /**
   * The decision's own answer. The connection stays open unless the request has a body (which would
   * have to be read and thrown away), either side asked to close, or the host is not served at all
   * (scanners and misconfigured clients get no connection to keep).
   */
  const answer = (decision: AnswerDecision, head: RequestHead, start: Started) => {
    const keepOpen = mayKeepOpen(head) && !isRefusal(decision)
    finishAnswered(head, rawAnswer(decision, head.accept, head.method, keepOpen, start.requestId), keepOpen, { start, proxy: null, status: decision.status, outcome: 'answered' })
  }

  /** Writes an answer given in place of forwarding, records it, and moves on to the next request (or closes). */
  const finishAnswered = (head: RequestHead, bytes: Buffer, keepOpen: boolean, answered: Answered) => {
    toClient.write(bytes)
    recordAnswered(head, bytes.length, answered)
    inputFrom += head.headLength
    if (!keepOpen) return closeClient()
    if (inputFrom === input.length) {
      input = EMPTY
      inputFrom = 0
    }
    if (input.length > inputFrom) startHeadClock()
    startNext()
  }

  /** A head the strict parser does not take: unparsed-head.ts says what becomes of it. */
  const handOverUnparsed = () => {
    const route = routeUnparsedHead(unparsedContext, input, inputFrom)
    if (route.kind === 'incomplete') {
      if (isClientEnded) closeClient()
      return
    }
    if (route.kind === 'handover') return handOver(route.instancePort)
    toClient.write(route.bytes)
    recordAnswered(route.line, route.bytes.length, { start: route.start, proxy: null, status: route.status, outcome: 'answered' })
    closeClient()
  }

  const recordAnswered = (head: AnsweredHead, bytesOut: number, answered: Answered) => writeAnsweredRecord(deps.logging, scheme, client.address, head, bytesOut, answered)

  const handOver = (port: number) => {
    isClosed = true
    deadlines.untrack(clock)
    const bytes = copyRange(input, inputFrom, input.length)
    input = EMPTY
    inputFrom = 0
    options.handOver(bytes, isClientEnded, port)
  }

  return {
    onData(bytes) {
      if (isClosed) return
      toClient.lastActivityMs = deadlines.nowMs
      let from = 0
      if (exchange && !exchange.isRequestBodyComplete) {
        from = exchange.takeRequestBody(bytes, 0)
        bodyBytesInWindow += from
      }
      if (from === bytes.length) return
      if (input.length === inputFrom && !exchange && !toClient.hasPending) {
        // The first bytes of a new head: its clock starts now.
        startHeadClock()
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
      deadlines.untrack(clock)
      exchange?.end(false)
    },
    isIdle: () => isClosed || (!exchange && !isAuthorizing && input.length === inputFrom && !toClient.hasPending),
  }
}

const NO_NAMES: ReadonlySet<string> = new Set()

/** The auth step itself failed (a bug, not the client's fault): the request is not forwarded unchecked. */
const UNAUTHORIZABLE = { status: 503, headers: [['content-type', 'text/plain; charset=utf-8']] as const, body: 'the request could not be authorized; try again\n' }

function gateRequestOf(scheme: Scheme, head: RequestHead): GateRequest {
  return {
    scheme,
    host: head.host,
    hostname: head.hostname,
    method: head.method,
    target: head.target,
    authorization: head.authorization,
    cookies: head.cookie,
    origin: head.origin,
    referer: head.referer,
    accept: head.accept,
    isPreflight: head.isPreflight,
  }
}

/** A host this edge does not serve (or a request without one): nothing more on this connection is wanted. */
const isRefusal = (decision: AnswerDecision) => decision.status === 404 || decision.status === 400
