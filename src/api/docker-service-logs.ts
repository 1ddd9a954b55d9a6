/**
 * @module GET /services/{name}/logs: a container's output, stdout and stderr demultiplexed and kept
 * in the order the engine stamped them, as JSON; with follow=true, as Server-Sent Events (HTML Living
 * Standard §9.2), one `log` event per line as it comes, a comment every 15 s so idle timeouts keep a
 * quiet stream open, an `end` event when the container stops. A follow ends when the client goes away
 * or the server stops.
 */
import type { Context } from 'hono'
import * as v from 'valibot'
import type { DockerServices, ServiceLogLine } from '../docker/index.ts'
import type { Clock, Logger } from '../lib/index.ts'
import { parseTimeBound, TIME_BOUND_HINT } from '../logs/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'
import { existingService, managerOf, NameParams, NOT_FOUND, TAG, UNAVAILABLE } from './docker-service-access.ts'
import { queryCount, queryFlag } from './query-flag.ts'

const KEEP_ALIVE_MS = 15_000
const MAX_TAIL = 10_000

/** Docker's own forms: seconds since the epoch, an RFC 3339 time, or a time ago such as 15m. */
const EPOCH_SECONDS = /^\d{1,12}$/
const sinceSecOf = (text: string, nowMs: number): number | null => {
  if (EPOCH_SECONDS.test(text)) return Number(text)
  const ms = parseTimeBound(text, nowMs)
  return ms === null ? null : Math.floor(ms / 1000)
}

const LogsQuerySchema = v.strictObject(
  {
    /** Lines from the end to start with (0: only new ones, with follow). */
    tail: v.optional(queryCount(0, MAX_TAIL), '100'),
    since: v.optional(v.pipe(v.string(), v.check((text) => sinceSecOf(text, 0) !== null, `expected seconds since the epoch, or ${TIME_BOUND_HINT.replace(/^expected /, '')}`))),
    /** Each line's time as the engine stamped it (RFC 3339 with nanoseconds). */
    timestamps: queryFlag(false),
    follow: queryFlag(false),
  },
  'unknown query parameter',
)

/** The open follows, so the server's stop can end them (the API's stop waits for open requests). */
export interface LogFollows {
  add(close: () => void): () => void
  /** How many are open: the drain does not wait for these, it ends them. */
  count(): number
  endAll(): void
}

export function createLogFollows(): LogFollows {
  const open = new Set<() => void>()
  return {
    add(close) {
      open.add(close)
      return () => open.delete(close)
    },
    count: () => open.size,
    endAll() {
      for (const close of [...open]) close()
    },
  }
}

export interface DockerServiceLogRoutesDeps {
  readonly clock: Clock
  readonly follows: LogFollows
  readonly logger: Logger
}

const lineView = (line: ServiceLogLine, timestamps: boolean) => (timestamps ? { stream: line.stream, time: line.time, text: line.text } : { stream: line.stream, text: line.text })

export function dockerServiceLogRoutes(docker: DockerServices | null, deps: DockerServiceLogRoutesDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/services/:name/logs',
      scope: 'user',
      tag: TAG,
      summary:
        'A container\'s output, stdout and stderr in order: {service_name, logs: [{stream, text, time?}]}. tail: lines from the end (default 100); since: seconds since the epoch, an ISO 8601 time or a time ago (15m); timestamps=true adds each line\'s time. follow=true answers Server-Sent Events instead: a `log` event per line as it comes (the tail first), `end` when the container stops',
      params: NameParams,
      query: LogsQuerySchema,
      responses: { 200: { description: 'the lines, or with follow=true a text/event-stream' }, 404: NOT_FOUND, 503: UNAVAILABLE },
      async handler(c, { params, query }) {
        const manager = managerOf(docker)
        await existingService(manager, params.name)
        const since = query.since === undefined ? undefined : sinceSecOf(query.since, deps.clock.nowMs())!
        if (!query.follow) {
          const lines = await manager.logs(params.name, { tail: query.tail, since })
          return c.json({ service_name: params.name, logs: lines.map((line) => lineView(line, query.timestamps)) })
        }
        // One exchange with the engine first, so a missing engine is a 503 rather than a stream that fails at once.
        await manager.logs(params.name, { tail: 0 })
        return followResponse(c, (signal) => manager.followLogs(params.name, { tail: query.tail, since, signal }), query.timestamps, deps)
      },
    }),
  ]
}

function followResponse(c: Context, follow: (signal: AbortSignal) => AsyncIterable<ServiceLogLine>, timestamps: boolean, deps: DockerServiceLogRoutesDeps): Response {
  const encoder = new TextEncoder()
  const abort = new AbortController()
  const lines = follow(abort.signal)[Symbol.asyncIterator]()
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null
  let keepAlive: ReturnType<typeof setInterval> | undefined
  let isClosed = false
  const send = (text: string) => {
    if (isClosed || !controller) return
    try {
      controller.enqueue(encoder.encode(text))
    } catch {
      close()
    }
  }
  const close = () => {
    if (isClosed) return
    isClosed = true
    forget()
    clearInterval(keepAlive)
    abort.abort()
    try {
      controller?.close()
    } catch {
      // already closed by the runtime
    }
  }
  const forget = deps.follows.add(close)
  c.req.raw.signal.addEventListener('abort', close, { once: true })

  // Pulled: a client that reads slowly slows the reads from the engine, nothing queues without bound.
  const body = new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController
      streamController.enqueue(encoder.encode(': following\n\n'))
      keepAlive = setInterval(() => send(': keep-alive\n\n'), KEEP_ALIVE_MS)
      if (c.req.raw.signal.aborted) close()
    },
    async pull() {
      try {
        const next = await lines.next()
        if (isClosed) return
        if (next.done) {
          send(`event: end\ndata: ${JSON.stringify({ reason: 'the container stopped or was removed' })}\n\n`)
          return close()
        }
        send(`event: log\ndata: ${JSON.stringify(lineView(next.value, timestamps))}\n\n`)
      } catch (error) {
        if (isClosed) return
        deps.logger.warn('service log follow failed', { error: String(error) })
        send(`event: error\ndata: ${JSON.stringify({ error: 'the engine stopped sending this container\'s output' })}\n\n`)
        close()
      }
    },
    cancel: close,
  })
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx and similar proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
    },
  })
}
