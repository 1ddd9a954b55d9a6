/**
 * @module GET /logs/follow: the live tail as Server-Sent Events (HTML Living Standard §9.2). Each
 * record is one `request` event whose id is its stream id; a comment every 15 s keeps proxies and
 * idle timeouts from closing a quiet stream. The subscription ends when the client goes away, and the
 * stream ends when the server stops.
 */
import type { Context } from 'hono'
import { viewOf, type Condition, type RequestLog, type StoredRecord } from '../logs/index.ts'

const KEEP_ALIVE_MS = 15_000
/** Events buffered for a client that reads slowly; past it, records are skipped (and said so), never queued without bound. */
const MAX_BUFFERED_EVENTS = 1_000

export async function followResponse(c: Context, log: RequestLog, conditions: readonly Condition[]): Promise<Response> {
  const encoder = new TextEncoder()
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null
  const early: string[] = []
  let skipped = 0
  let isClosed = false
  let keepAlive: ReturnType<typeof setInterval> | null = null

  const send = (text: string) => {
    if (isClosed) return
    if (!controller) return void early.push(text)
    if ((controller.desiredSize ?? 0) <= 0) {
      skipped++
      return
    }
    if (skipped > 0) {
      controller.enqueue(encoder.encode(`: skipped ${skipped} records (the client read too slowly)\n\n`))
      skipped = 0
    }
    controller.enqueue(encoder.encode(text))
  }
  let unsubscribe = () => {}
  const close = () => {
    if (isClosed) return
    isClosed = true
    unsubscribe()
    if (keepAlive) clearInterval(keepAlive)
    try {
      controller?.close()
    } catch {
      // already closed by the runtime
    }
  }
  // Subscribing first: a store outage is a 503 answer, not a stream that breaks at once. The log ends
  // the stream itself when the server stops (endFollows), which would otherwise wait for the client.
  unsubscribe = await log.follow(conditions, (stored) => send(eventOf(stored)), close)
  const signal = c.req.raw.signal
  signal.addEventListener('abort', close, { once: true })

  const body = new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController
        if (isClosed) return streamController.close()
        streamController.enqueue(encoder.encode(': following\n\n'))
        for (const text of early.splice(0)) send(text)
        keepAlive = setInterval(() => send(': keep-alive\n\n'), KEEP_ALIVE_MS)
        if (signal.aborted) close()
      },
      cancel: close,
    },
    { highWaterMark: MAX_BUFFERED_EVENTS },
  )
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx and similar proxies buffer responses unless told not to.
      'x-accel-buffering': 'no',
    },
  })
}

function eventOf(stored: StoredRecord): string {
  return `id: ${stored.id}\nevent: request\ndata: ${JSON.stringify({ id: stored.id, ...viewOf(stored.record) })}\n\n`
}
