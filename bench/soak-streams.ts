/**
 * @module The soak run's long-lived traffic: WebSocket echo sessions (through the hand-over server: the
 * relay hands every upgrade over) and SSE streams (through the relay, unbuffered), over HTTP and HTTPS.
 * Each session or stream runs for a while, ends on purpose and starts again, so that opening and closing
 * are exercised all along. Anything that ends early, loses or reorders a message, or stalls is a failure.
 */
import { SSE_INTERVAL_MS } from './soak-backend.ts'
import type { SoakRecord } from './soak-record.ts'
import { describe } from './soak-requests.ts'

const WS_MESSAGE_INTERVAL_MS = 100
const WS_MESSAGES_PER_SESSION = 100
const ECHO_TIMEOUT_MS = 5_000
const SSE_STREAM_MS = 30_000
/** An SSE stream with no event for this long has stalled (events come every 100 ms). */
const SSE_STALL_MS = 1_000
/**
 * After a failure, wait this long before opening again. 250 ms made the WebSocket retries alone fill the
 * per-address connection cap during a backend outage (a refused upgrade holds its connection for 5-10 s
 * on the server: bench/README.md, Soak), and the address's other new connections were refused.
 */
const RETRY_PAUSE_MS = 1_000

export interface StreamOptions {
  readonly scheme: 'http' | 'https'
  readonly port: number
  readonly host: string
  /** How many sessions (or streams) run at once. */
  readonly count: number
  /**
   * Long-lived: one session (or stream) for the whole run, a WebSocket message a second, through a proxy
   * whose backend never goes down; a connection the server cuts shows up however long it had lived.
   */
  readonly isLong?: boolean
}

const LONG_WS_MESSAGE_INTERVAL_MS = 1_000

export interface Streams {
  stop(): Promise<void>
}

/**
 * `count` WebSocket sessions at a time, each sending 100 messages 100 ms apart and checking every echo in
 * order (long-lived: a message a second until the run ends).
 */
export function startWebSocketSessions(record: SoakRecord, options: StreamOptions): Streams {
  let isRunning = true
  const messagesPerSession = options.isLong ? Number.POSITIVE_INFINITY : WS_MESSAGES_PER_SESSION
  const intervalMs = options.isLong ? LONG_WS_MESSAGE_INTERVAL_MS : WS_MESSAGE_INTERVAL_MS
  const label = `${options.scheme}${options.isLong ? ' long-lived' : ''}`
  const url = `${options.scheme === 'https' ? 'wss' : 'ws'}://127.0.0.1:${options.port}/ws`
  const init = { headers: { host: options.host }, tls: options.scheme === 'https' ? { rejectUnauthorized: false, serverName: options.host } : undefined }

  /** One session: true if it ran to its end and closed cleanly. */
  const session = (name: string) =>
    new Promise<boolean>((resolve) => {
      const openedAt = performance.now()
      const ws = new WebSocket(url, init as unknown as string[])
      const sentAt: number[] = []
      let echoed = 0
      let isSettled = false
      let sender: ReturnType<typeof setInterval> | undefined
      let watchdog: ReturnType<typeof setTimeout> | undefined
      const finish = (why: string | null) => {
        if (isSettled) return
        isSettled = true
        clearInterval(sender)
        clearTimeout(watchdog)
        if (why !== null) {
          record.fail('ws', `${label}: ${why}`, options.isLong)
          ws.close()
        }
        resolve(why === null)
      }
      const armWatchdog = () => {
        clearTimeout(watchdog)
        watchdog = setTimeout(() => finish(`no answer for ${ECHO_TIMEOUT_MS} ms (${echoed}/${sentAt.length} echoed)`), ECHO_TIMEOUT_MS)
      }
      const isDone = () => echoed === messagesPerSession || (!isRunning && echoed === sentAt.length)
      // Until open, the watchdog times the upgrade; then only while an echo is outstanding.
      armWatchdog()
      ws.onopen = () => {
        clearTimeout(watchdog)
        sender = setInterval(() => {
          // Stopping: the session closes once every message sent has come back.
          if (!isRunning && isDone()) return ws.close(1000)
          if (sentAt.length === messagesPerSession || !isRunning) return
          ws.send(`${name}:${sentAt.length}`)
          sentAt.push(performance.now())
          if (echoed === sentAt.length - 1) armWatchdog()
        }, intervalMs)
      }
      ws.onmessage = (event) => {
        const expected = `${name}:${echoed}`
        if (event.data !== expected) return finish(`echo out of order: expected ${expected}, got ${String(event.data).slice(0, 40)}`)
        record.echo(performance.now() - sentAt[echoed]!)
        echoed += 1
        if (isDone()) {
          clearTimeout(watchdog)
          ws.close(1000)
        } else if (echoed < sentAt.length || !isRunning) armWatchdog()
        else clearTimeout(watchdog)
      }
      ws.onclose = (event) => {
        const lived = `${((performance.now() - openedAt) / 1000).toFixed(1)} s`
        finish(isDone() ? null : `closed ${event.code} after ${echoed}/${sentAt.length} echoed, ${lived} after opening${sentAt.length === 0 ? ' (upgrade refused?)' : ''}`)
      }
      ws.onerror = () => {
        // A close event follows with the details; an error before open (refused upgrade) closes too.
      }
    })

  // Staggered, so that the sessions end (and open again) at different times.
  const loops = Array.from({ length: options.count }, async (_, index) => {
    if (!options.isLong) await Bun.sleep((index * WS_MESSAGE_INTERVAL_MS * WS_MESSAGES_PER_SESSION) / options.count)
    for (let round = 0; isRunning; round++) {
      if (!(await session(`${options.scheme}${options.isLong ? '-long' : ''}-${index}-${round}`))) await Bun.sleep(RETRY_PAUSE_MS)
    }
  })
  return {
    async stop() {
      isRunning = false
      await Promise.all(loops)
    },
  }
}

/** `count` SSE streams at a time, each read for 30 s (long-lived: until the run ends): every event's id must follow the last, none may stall. */
export function startEventStreams(record: SoakRecord, options: StreamOptions): Streams {
  let isRunning = true
  const label = `${options.scheme}${options.isLong ? ' long-lived' : ''}`
  const stopAll = new AbortController()
  const url = `${options.scheme}://127.0.0.1:${options.port}/sse`
  const tls = options.scheme === 'https' ? { rejectUnauthorized: false, serverName: options.host } : undefined

  /** One stream: true if it ran for its whole time. */
  const stream = async (lengthMs: number): Promise<boolean> => {
    const planned = Number.isFinite(lengthMs) ? AbortSignal.any([AbortSignal.timeout(lengthMs), stopAll.signal]) : stopAll.signal
    const openedAt = performance.now()
    const fail = (why: string) => {
      record.fail('sse', `${label}: ${why}, ${((performance.now() - openedAt) / 1000).toFixed(1)} s after opening`, options.isLong)
      return false
    }
    let nextId = 0
    let lastEventAt = performance.now()
    let stalled: string | null = null
    const cut = new AbortController()
    const watchdog = setInterval(() => {
      const quietMs = performance.now() - lastEventAt
      if (quietMs > SSE_STALL_MS) {
        stalled = `no event for ${quietMs.toFixed(0)} ms after id ${nextId - 1}`
        cut.abort()
      }
    }, SSE_INTERVAL_MS)
    try {
      const response = await fetch(url, { headers: { host: options.host }, tls, signal: AbortSignal.any([planned, cut.signal]) } as RequestInit)
      if (response.status !== 200) {
        await response.body?.cancel()
        return fail(`${response.status}`)
      }
      let buffered = ''
      const decoder = new TextDecoder()
      for await (const chunk of response.body!) {
        buffered += decoder.decode(chunk, { stream: true })
        let end: number
        while ((end = buffered.indexOf('\n\n')) !== -1) {
          const event = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          const id = Number(/^id: (\d+)$/m.exec(event)?.[1])
          const sentAtMs = Number(/^data: (\d+)$/m.exec(event)?.[1])
          if (id !== nextId) return fail(`event id ${id} where ${nextId} was due (a lost or reordered event)`)
          nextId += 1
          lastEventAt = performance.now()
          record.event(Date.now() - sentAtMs)
        }
      }
      return planned.aborted ? true : fail(`stream ended after ${nextId} events`)
    } catch (error) {
      if (stalled) return fail(stalled)
      if (planned.aborted) return true
      return fail(`after ${nextId} events: ${describe(error)}`)
    } finally {
      clearInterval(watchdog)
    }
  }

  // The first streams are shorter, so that the streams end (and start again) at different times.
  const loops = Array.from({ length: options.count }, async (_, index) => {
    for (let round = 0; isRunning; round++) {
      const lengthMs = options.isLong ? Number.POSITIVE_INFINITY : round === 0 ? (SSE_STREAM_MS * (index + 1)) / options.count : SSE_STREAM_MS
      if (!(await stream(lengthMs))) await Bun.sleep(RETRY_PAUSE_MS)
    }
  })
  return {
    async stop() {
      isRunning = false
      stopAll.abort()
      await Promise.all(loops)
    },
  }
}
