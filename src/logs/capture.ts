/**
 * @module Header captures for debugging one host (issue #12): for a few minutes, the request and
 * response headers of up to max_requests exchanges, masked (capture-mask.ts), and body bytes only when
 * asked for. The data plane asks captureFor(host) on every request: with no capture running that is one
 * size check, so the fast path pays nothing. Captures are documents in the store, announced on the
 * bus, so every node captures (each up to max_requests) and any node can read the result.
 */
import * as v from 'valibot'
import type { EventBus } from '../events/index.ts'
import { randomToken, type Clock, type Logger } from '../lib/index.ts'
import { COLLECTIONS, createCollection, STREAMS, type Store } from '../store/index.ts'
import { maskHeaders, type HeaderList } from './capture-mask.ts'
import { CAPTURE_LIMITS, captureView, StoredCaptureSchema, StoredExchangeSchema, type CaptureRequest, type CaptureView, type ExchangeDetail, type StoredCapture, type StoredExchange } from './capture-model.ts'
import { createQueuedAppends } from './queued-appends.ts'
import { maskTarget } from './record.ts'

/** What the data plane calls. Both are synchronous and never throw. */
export interface CaptureTap {
  /**
   * Whether a capture runs for this host (lower case, no port): null when none (one Map size check when
   * no capture runs anywhere); else how many body bytes it keeps (0: headers only).
   */
  captureFor(host: string): { readonly bodyBytes: number } | null
  /** Records one exchange, once its response head is known; a no-op when no capture wants it. */
  capture(host: string, requestHeaders: HeaderList, responseStatus: number, responseHeaders: HeaderList, detail?: ExchangeDetail): void
}

export interface CapturedExchange extends Omit<StoredExchange, 'capture_id'> {
  readonly time: string
}

export interface CaptureService extends CaptureTap {
  /** Starts a capture on every node. Throws CaptureConflictError when the host has one running, or too many run. */
  begin(request: CaptureRequest): Promise<CaptureView>
  /** The capture and what it caught so far (the first max_requests, oldest first); null when unknown. */
  read(id: string): Promise<{ capture: CaptureView; exchanges: CapturedExchange[] } | null>
  /** Ends a capture early; null when unknown. */
  end(id: string): Promise<CaptureView | null>
  list(): Promise<CaptureView[]>
  /** Drops captured exchanges older than the retention period (their captures are gone by then); returns how many went. */
  enforceRetention(): Promise<number>
  /** Picks up running captures, listens for new ones, and runs retention now and then. */
  start(): Promise<void>
  stop(): Promise<void>
}

export class CaptureConflictError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CaptureConflictError'
  }
}

export interface CaptureServiceOptions {
  readonly store: Store
  readonly bus: EventBus
  readonly clock: Clock
  readonly logger: Logger
  readonly nodeId: string
  /** LOG_RETENTION: how long a capture and its exchanges are kept after it ends. */
  readonly retentionMs: number
}

/** A capture running on this node. */
interface Running {
  readonly id: string
  readonly expiresAtMs: number
  readonly maxRequests: number
  readonly bodyBytes: number
  count: number
}

const ID_SYNTAX = /^[A-Za-z0-9_-]{22}$/
/** Exchanges finish a little after a capture ends; a read looks this far past the end. */
const LATE_MS = 60_000
/** A read scans at most this many stream entries (other captures' included). */
const READ_SCAN_BUDGET = 50_000
const RETENTION_INTERVAL_MS = 600_000

export function createCaptureService(options: CaptureServiceOptions): CaptureService {
  const { store, bus, clock, logger } = options
  const captures = createCollection(store, COLLECTIONS.logCaptures, StoredCaptureSchema)
  const writes = createQueuedAppends(store, STREAMS.captures, { maxPending: 5_000, logger, what: 'captured exchanges' })
  /** host → the captures running for it on this node (almost always none, else one). */
  const running = new Map<string, Running[]>()
  let unsubscribe: (() => void) | null = null
  let sweep: ReturnType<typeof setInterval> | null = null
  let retention: ReturnType<typeof setInterval> | null = null

  const isLive = (capture: StoredCapture, nowMs: number) => capture.stopped_at_ms === null && nowMs < capture.expires_at_ms

  function forget(id: string): void {
    for (const [host, list] of running) {
      const kept = list.filter((entry) => entry.id !== id)
      if (kept.length === 0) running.delete(host)
      else if (kept.length !== list.length) running.set(host, kept)
    }
  }

  /** Makes this node's view of one capture match its document. */
  function apply(capture: StoredCapture | null, id: string): void {
    forget(id)
    if (!capture || !isLive(capture, clock.nowMs())) return
    const entry: Running = { id: capture.id, expiresAtMs: capture.expires_at_ms, maxRequests: capture.max_requests, bodyBytes: capture.body_bytes, count: 0 }
    running.set(capture.host, [...(running.get(capture.host) ?? []), entry])
  }

  async function reload(id: string): Promise<void> {
    if (!ID_SYNTAX.test(id)) return
    const found = await captures.get(id)
    // A restart of the same capture keeps what this node already counted.
    const counted = [...running.values()].flat().find((entry) => entry.id === id)?.count ?? 0
    apply(found?.value ?? null, id)
    const entry = [...running.values()].flat().find((item) => item.id === id)
    if (entry) entry.count = counted
  }

  function dropExpired(): void {
    const nowMs = clock.nowMs()
    for (const [host, list] of running) {
      const kept = list.filter((entry) => nowMs < entry.expiresAtMs && entry.count < entry.maxRequests)
      if (kept.length === 0) running.delete(host)
      else if (kept.length !== list.length) running.set(host, kept)
    }
  }

  const bodyText = (body: Uint8Array | undefined, max: number) =>
    body === undefined || max === 0 ? {} : { text: new TextDecoder().decode(body.subarray(0, max)), truncated: body.byteLength > max }

  const service: CaptureService = {
    captureFor(host) {
      if (running.size === 0) return null
      const list = running.get(host.toLowerCase())
      if (!list) return null
      const nowMs = clock.nowMs()
      let bodyBytes = -1
      for (const entry of list) if (nowMs < entry.expiresAtMs && entry.count < entry.maxRequests) bodyBytes = Math.max(bodyBytes, entry.bodyBytes)
      return bodyBytes === -1 ? null : { bodyBytes }
    },

    capture(host, requestHeaders, responseStatus, responseHeaders, detail = {}) {
      if (running.size === 0) return
      try {
        const list = running.get(host.toLowerCase())
        if (!list) return
        const nowMs = clock.nowMs()
        const wanting = list.filter((entry) => nowMs < entry.expiresAtMs && entry.count < entry.maxRequests)
        if (wanting.length === 0) return dropExpired()
        const request = maskHeaders(requestHeaders)
        const response = maskHeaders(responseHeaders)
        for (const entry of wanting) {
          entry.count++
          const requestBody = bodyText(detail.requestBody, entry.bodyBytes)
          const responseBody = bodyText(detail.responseBody, entry.bodyBytes)
          const exchange: StoredExchange = {
            capture_id: entry.id,
            node: options.nodeId,
            method: detail.method ?? null,
            target: detail.target === undefined ? null : maskTarget(detail.target),
            request_headers: request,
            status: responseStatus,
            response_headers: response,
            ...('text' in requestBody ? { request_body: requestBody.text, request_body_truncated: requestBody.truncated } : {}),
            ...('text' in responseBody ? { response_body: responseBody.text, response_body_truncated: responseBody.truncated } : {}),
          }
          writes.add({ timeMs: nowMs, data: JSON.stringify(exchange) })
        }
        dropExpired()
      } catch (error) {
        logger.warn('capture failed', { host, error: String(error) })
      }
    },

    async begin(request) {
      const nowMs = clock.nowMs()
      const live = (await captures.list()).map(({ value }) => value).filter((capture) => isLive(capture, nowMs))
      if (live.some((capture) => capture.host === request.host)) throw new CaptureConflictError(`a capture for ${request.host} is already running; end it first (DELETE /logs/capture/{id})`)
      if (live.length >= CAPTURE_LIMITS.maxActive) throw new CaptureConflictError(`${CAPTURE_LIMITS.maxActive} captures are running; end one first`)
      const capture: StoredCapture = {
        id: randomToken(16),
        host: request.host,
        started_at_ms: nowMs,
        expires_at_ms: nowMs + request.durationSec * 1000,
        stopped_at_ms: null,
        max_requests: request.maxRequests,
        body_bytes: request.bodyBytes,
        created_by: request.createdBy,
        node: options.nodeId,
      }
      await captures.put(capture.id, capture, { ifAbsent: true, ttlMs: request.durationSec * 1000 + options.retentionMs })
      // This node captures from now on; the others as soon as they hear of it.
      apply(capture, capture.id)
      await bus.publish({ type: 'capture_changed', id: capture.id })
      return captureView(capture, nowMs)
    },

    async read(id) {
      if (!ID_SYNTAX.test(id)) return null
      const found = await captures.get(id)
      if (!found) return null
      const capture = found.value
      await writes.flush()
      const endMs = Math.min(capture.stopped_at_ms ?? capture.expires_at_ms, capture.expires_at_ms) + LATE_MS
      const exchanges: CapturedExchange[] = []
      let startAfter: { timeMs: number; id: string } | undefined
      for (let scanned = 0; scanned < READ_SCAN_BUDGET && exchanges.length < capture.max_requests; ) {
        const chunk = await store.query(STREAMS.captures, { fromMs: capture.started_at_ms, toMs: endMs, order: 'oldest', limit: 500, ...(startAfter ? { startAfter } : {}) })
        for (const entry of chunk) {
          scanned++
          startAfter = { timeMs: entry.timeMs, id: entry.id }
          const parsed = v.safeParse(StoredExchangeSchema, parseJson(entry.data))
          if (!parsed.success || parsed.output.capture_id !== id) continue
          const { capture_id: _id, ...exchange } = parsed.output as StoredExchange
          exchanges.push({ time: new Date(entry.timeMs).toISOString(), ...exchange })
          if (exchanges.length === capture.max_requests) break
        }
        if (chunk.length < 500) break
      }
      return { capture: captureView(capture, clock.nowMs()), exchanges }
    },

    async end(id) {
      if (!ID_SYNTAX.test(id)) return null
      for (let attempt = 0; attempt < 5; attempt++) {
        const found = await captures.get(id)
        if (!found) return null
        const nowMs = clock.nowMs()
        if (!isLive(found.value, nowMs)) return captureView(found.value, nowMs)
        const stopped = { ...found.value, stopped_at_ms: nowMs }
        if ((await captures.put(id, stopped, { ifVersion: found.version, ttlMs: options.retentionMs })) === null) continue
        forget(id)
        await bus.publish({ type: 'capture_changed', id })
        return captureView(stopped, nowMs)
      }
      throw new Error(`capture ${id} is being changed concurrently; retry`)
    },

    async list() {
      const nowMs = clock.nowMs()
      return (await captures.list()).map(({ value }) => captureView(value, nowMs)).sort((a, b) => (a.started_at < b.started_at ? 1 : -1))
    },

    // A capture document lives its duration plus the retention; its exchanges as long, counted from its end.
    enforceRetention: () => store.trim(STREAMS.captures, clock.nowMs() - options.retentionMs - CAPTURE_LIMITS.maxDurationSec * 1000),

    async start() {
      unsubscribe = bus.subscribe((event) => (event.type === 'capture_changed' ? reload(event.id) : undefined))
      const nowMs = clock.nowMs()
      for (const { value } of await captures.list()) if (isLive(value, nowMs)) apply(value, value.id)
      // Expired captures leave the map even on a host that gets no more requests.
      sweep = setInterval(dropExpired, 5_000)
      sweep.unref?.()
      retention = setInterval(() => void service.enforceRetention().catch((error) => logger.warn('capture retention failed; will retry', { error: String(error) })), RETENTION_INTERVAL_MS)
      retention.unref?.()
    },

    async stop() {
      unsubscribe?.()
      unsubscribe = null
      if (sweep !== null) clearInterval(sweep)
      if (retention !== null) clearInterval(retention)
      sweep = null
      retention = null
      running.clear()
      await writes.flush()
    },
  }
  return service
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
