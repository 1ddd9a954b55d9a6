/**
 * @module The soak run's request load: HTTP/1.1 keep-alive requests through one public listener at a fixed
 * rate (an open loop: requests go out on schedule whether or not earlier ones have answered, so a stall
 * shows as latency instead of being hidden by a client that waits). Bun's fetch keeps the connections
 * alive and pools them. Every answer is checked to be the one asked for: a response that reached the
 * wrong request is a failure, as is any status but 200.
 */
import type { SoakRecord } from './soak-record.ts'

const TICK_MS = 10
const TIMEOUT_MS = 10_000
/** Beyond this many unanswered requests the loop stops sending (counted as failures): the server is stuck. */
const MAX_IN_FLIGHT = 512
const ECHO_PAD = 'e'.repeat(4 * 1024)

export interface LoadOptions {
  readonly scheme: 'http' | 'https'
  readonly port: number
  /** The proxy's hostname: the Host field, and the SNI over TLS. */
  readonly host: string
  readonly perSec: number
}

export interface Load {
  /** Stops sending and resolves once every request sent has settled. */
  stop(): Promise<void>
}

export function startRequestLoad(record: SoakRecord, options: LoadOptions): Load {
  const { scheme, port, host, perSec } = options
  const base = `${scheme}://127.0.0.1:${port}`
  const tls = scheme === 'https' ? { rejectUnauthorized: false, serverName: host } : undefined
  const startedAt = performance.now()
  let sent = 0
  let inFlight = 0
  let isStopping = false
  const { promise: drained, resolve: onDrained } = Promise.withResolvers<void>()

  const one = async (serial: number) => {
    const id = `${scheme}-${serial}`
    // 7 in 10 small GETs, 2 POSTs of 4 KiB echoed back, 1 GET of 64 KiB.
    const kind = serial % 10 < 7 ? 'small' : serial % 10 < 9 ? 'echo' : 'big'
    const body = kind === 'echo' ? `${id}\n${ECHO_PAD}` : undefined
    const path = kind === 'small' ? `/r/${id}` : kind === 'big' ? `/big/${id}` : '/echo'
    const began = performance.now()
    try {
      const response = await fetch(`${base}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { host },
        body,
        tls,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      } as RequestInit)
      const text = await response.text()
      const latencyMs = performance.now() - began
      if (response.status !== 200) return record.fail(scheme, `${response.status} ${kind}`)
      const isOwn = kind === 'echo' ? text === body : text.startsWith(`${id}\n`) && text.length === id.length + 1 + (kind === 'big' ? 65_536 : 1_024)
      if (!isOwn) return record.fail(scheme, `wrong body for ${kind} (${text.length} bytes, starts ${JSON.stringify(text.slice(0, 24))})`)
      record.request(scheme, latencyMs)
    } catch (error) {
      record.fail(scheme, `${kind}: ${describe(error)}`)
    }
  }

  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - startedAt) / 1000) * perSec)
    while (sent < due) {
      sent += 1
      if (inFlight >= MAX_IN_FLIGHT) {
        record.fail(scheme, `not sent: ${MAX_IN_FLIGHT} requests unanswered`)
        continue
      }
      inFlight += 1
      void one(sent).finally(() => {
        inFlight -= 1
        if (isStopping && inFlight === 0) onDrained()
      })
    }
  }, TICK_MS)

  return {
    async stop() {
      clearInterval(timer)
      isStopping = true
      if (inFlight > 0) await drained
    },
  }
}

/** An error's code or name and message, short: these are grouped in the report. */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code
    return code ? `${code}` : `${error.name}: ${error.message}`.slice(0, 120)
  }
  return String(error).slice(0, 120)
}
