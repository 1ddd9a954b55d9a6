/**
 * @module Watching a handed-over HTTP connection (one the relay piped to a hand-over server) request
 * by request, so that it keeps the relay's rules after the hand-over:
 * - every request head is read (the same reader that routes a first head, http-head.ts) and must be
 *   complete within the head deadline; one that is malformed, or whose absolute-form target and Host
 *   name different hosts, ends the connection;
 * - a request body is timed for the minimum rate;
 * - one request at a time: a pipelined request waits until the answer to the one before has gone out.
 *   Bun 1.4.5's server answers nothing at all when a second request arrives while an async handler
 *   still runs (RFC 9112 §9.3.2 requires pipelined requests to be answered in order), and every
 *   hand-over handler is async.
 * The response side is read only for where each response ends (RFC 9112 §6.3); a 101 turns the
 * connection into a tunnel that is only timed for idleness.
 */
import { createBodyTracker, parseResponseHead, readRequestHead, type BodyTracker, type RequestFraming } from '../proxy/index.ts'
import { concat } from './pipe.ts'

export interface PipedHttpEvents {
  /** Bytes of the current request, for the hand-over server. */
  release(bytes: Uint8Array): void
  /** The connection must end: `reply` is sent first when nothing is in flight (a 400), else it is cut. */
  refuse(reply: string | null): void
  pauseClient(): void
  resumeClient(): void
  /** A new request head began, or a body started: the caller's clock should look again. */
  rearm(): void
}

export type PipedPhase = 'head' | 'body' | 'wait' | 'tunnel' | 'closed'

/** Client bytes held while a response is awaited, beyond which the client is not read. */
const MAX_HELD_BYTES = 64 * 1024
const MAX_HEAD_BYTES = 16 * 1024
const EMPTY = new Uint8Array(0)

export class PipedHttp {
  phase: PipedPhase = 'head'
  /** When the pending head's first byte came (the caller's clock), or -1 when no head is being read. */
  headStartedMs = -1
  /** Body bytes passed since the caller last reset it (the body-rate window). */
  bodyBytesInWindow = 0
  private held: Uint8Array = EMPTY
  private body: BodyTracker | null = null
  /** Methods of the requests sent and not yet answered (at most one, but a 1xx keeps it waiting). */
  private readonly inFlight: string[] = []
  private isUpgradeAsked = false
  private response: Uint8Array = EMPTY
  private responseBody: BodyTracker | null = null
  private isClientPaused = false

  constructor(
    private readonly events: PipedHttpEvents,
    private readonly nowMs: () => number,
  ) {}

  fromClient(bytes: Uint8Array): void {
    if (this.phase === 'closed') return
    if (this.phase === 'tunnel') return this.events.release(bytes)
    this.held = this.held.length === 0 ? new Uint8Array(bytes) : concat(this.held, bytes)
    this.advance()
  }

  fromServer(bytes: Uint8Array): void {
    if (this.phase === 'closed' || this.phase === 'tunnel') return
    let from = 0
    while (from < bytes.length) {
      if (this.responseBody) {
        const end = this.responseBody.consume(bytes, from)
        if (end === -1) return
        from = end
        this.responseBody = null
        this.answered()
        continue
      }
      this.response = this.response.length === 0 ? bytes.subarray(from) : concat(this.response, bytes.subarray(from))
      from = bytes.length
      const parsed = parseResponseHead(this.response, this.inFlight[0] ?? 'GET')
      // Our own server's answers are well-formed; anything else is not ours to time.
      if (parsed.status === 'invalid') return this.toTunnel()
      if (parsed.status === 'incomplete') {
        this.response = new Uint8Array(this.response)
        return
      }
      const rest = this.response.subarray(parsed.headLength)
      this.response = EMPTY
      const { status, framing } = parsed.head
      if (status === 101 && this.isUpgradeAsked) return this.toTunnel()
      if (status >= 100 && status < 200) {
        bytes = rest
        from = 0
        continue
      }
      this.responseBody = framing.kind === 'close' ? createBodyTracker({ kind: 'close' }) : createBodyTracker(framing)
      if (this.responseBody.isComplete) {
        this.responseBody = null
        this.answered()
      }
      bytes = rest
      from = 0
    }
  }

  private answered(): void {
    this.inFlight.shift()
    this.isUpgradeAsked = false
    if (this.phase === 'wait' && this.inFlight.length === 0) {
      this.phase = 'head'
      this.advance()
    }
  }

  private toTunnel(): void {
    this.phase = 'tunnel'
    this.headStartedMs = -1
    const held = this.held
    this.held = EMPTY
    if (held.length > 0) this.events.release(held)
    this.resume()
  }

  /** Moves through what the client sent as far as the current phase allows. */
  private advance(): void {
    for (;;) {
      if (this.phase === 'wait') {
        if (this.held.length > MAX_HELD_BYTES && !this.isClientPaused) {
          this.isClientPaused = true
          this.events.pauseClient()
        }
        return
      }
      if (this.held.length === 0) return this.resume()
      if (this.phase === 'body') {
        let end: number
        try {
          end = this.body!.consume(this.held, 0)
        } catch {
          return this.refuse(null)
        }
        const taken = end === -1 ? this.held.length : end
        this.bodyBytesInWindow += taken
        this.events.release(this.held.subarray(0, taken))
        this.held = this.held.subarray(taken)
        if (end === -1) return this.resume()
        this.body = null
        this.phase = 'wait'
        continue
      }
      // phase 'head'
      if (this.headStartedMs < 0) {
        this.headStartedMs = this.nowMs()
        this.events.rearm()
      }
      const head = readRequestHead(this.held, MAX_HEAD_BYTES)
      if (head.status === 'incomplete') return this.resume()
      if (head.status !== 'complete' || head.host === null) return this.refuse(badRequest(head.status === 'too_large' ? '431 Request Header Fields Too Large' : '400 Bad Request'))
      const framing = framingOf(this.held, head.headLength)
      if (framing === null) return this.refuse(badRequest('400 Bad Request'))
      this.headStartedMs = -1
      this.inFlight.push(framing.method)
      this.isUpgradeAsked = framing.isUpgrade
      this.events.release(this.held.subarray(0, head.headLength))
      this.held = this.held.subarray(head.headLength)
      const tracker = createBodyTracker(framing.body)
      if (tracker.isComplete) this.phase = 'wait'
      else {
        this.body = tracker
        this.phase = 'body'
        this.bodyBytesInWindow = 0
        this.events.rearm()
      }
    }
  }

  private resume(): void {
    if (!this.isClientPaused) return
    this.isClientPaused = false
    this.events.resumeClient()
  }

  private refuse(reply: string | null): void {
    this.phase = 'closed'
    this.events.refuse(this.inFlight.length === 0 ? reply : null)
  }
}

interface HeadFraming {
  readonly method: string
  readonly body: RequestFraming
  readonly isUpgrade: boolean
}

/**
 * The method and body framing of a head that readRequestHead accepted (RFC 9112 §6.1–§6.3). Framing
 * that two readers could take two ways (both lengths, repeated or unknown codings) is null: refused.
 */
function framingOf(bytes: Uint8Array, headLength: number): HeadFraming | null {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, headLength).toString('latin1')
  // RFC 9112 §2.2: empty lines before the request-line are ignored (readRequestHead skipped them too).
  const lines = text.replace(/^[\r\n]+/, '').split(/\r?\n/)
  const method = lines[0]!.slice(0, lines[0]!.indexOf(' '))
  let contentLength: string | null = null
  let transferEncoding: string | null = null
  let isUpgrade = false
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (name === 'content-length') {
      if (contentLength !== null && contentLength !== value) return null
      contentLength = value
    } else if (name === 'transfer-encoding') {
      if (transferEncoding !== null) return null
      transferEncoding = value.toLowerCase()
    } else if (name === 'upgrade') isUpgrade = true
  }
  if (transferEncoding !== null) return contentLength === null && transferEncoding === 'chunked' ? { method, body: { kind: 'chunked' }, isUpgrade } : null
  if (contentLength !== null) return /^[0-9]{1,15}$/.test(contentLength) ? { method, body: { kind: 'length', bytes: Number(contentLength) }, isUpgrade } : null
  return { method, body: { kind: 'none' }, isUpgrade }
}

function badRequest(status: string): string {
  const body = `${status.slice(4).toLowerCase()}\n`
  return `HTTP/1.1 ${status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`
}
