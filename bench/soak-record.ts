/**
 * @module What the soak run saw, minute by minute: successes (with latencies) and failures (each with its
 * time and reason) per channel, the windows in which the backend was down on purpose, and the other faults'
 * times. A failure counts as lost unless it happened inside a backend down window or within the grace after
 * it: those are the failures the flapping is meant to cause (a 502, a cut stream, a refused upgrade).
 */
import type { ServerNumbers } from './soak-metrics.ts'

export const CHANNELS = ['http', 'https', 'ws', 'sse', 'idle'] as const
export type Channel = (typeof CHANNELS)[number]

/** After the backend listens again, failures this long are still its fault (requests decided before it was back). */
export const GRACE_MS = 1_000

export interface Failure {
  /** Milliseconds since the measured run began. */
  readonly atMs: number
  readonly channel: Channel
  readonly why: string
  /** Through the steady backend, which never goes down: no down window excuses it. */
  readonly isSteady: boolean
}

export interface Window {
  readonly fromMs: number
  toMs: number
}

export interface Minute {
  readonly ok: Record<Channel, number>
  readonly failed: Record<Channel, number>
  /** HTTP and HTTPS request latencies (request sent → whole body read), ms. */
  readonly requestMs: number[]
  /** WebSocket echo round trips, ms. */
  readonly echoMs: number[]
  /** SSE events: backend's send time → received by the client, ms. */
  readonly eventMs: number[]
  rssMiB: number
  cpuSec: number
  load1: number
  /** From the server's /metrics at the minute's end (soak-metrics.ts). */
  server: ServerNumbers | null
}

const zeroes = (): Record<Channel, number> => ({ http: 0, https: 0, ws: 0, sse: 0, idle: 0 })

export class SoakRecord {
  readonly minutes: Minute[]
  readonly failures: Failure[] = []
  readonly backendDown: Window[] = []
  /** Things that happened (Redis restart, certificate swap, …), for the timeline. */
  readonly notes: { atMs: number; text: string }[] = []

  constructor(
    readonly startedAtMs: number,
    minuteCount: number,
  ) {
    this.minutes = Array.from({ length: minuteCount }, () => ({ ok: zeroes(), failed: zeroes(), requestMs: [], echoMs: [], eventMs: [], rssMiB: 0, cpuSec: 0, load1: 0, server: null }))
  }

  nowMs(): number {
    return performance.now() - this.startedAtMs
  }

  /** The bucket for now; whatever finishes after the last minute (stopping) counts in the last. */
  minute(atMs = this.nowMs()): Minute {
    const index = Math.min(Math.max(Math.floor(atMs / 60_000), 0), this.minutes.length - 1)
    return this.minutes[index]!
  }

  request(channel: 'http' | 'https' | 'idle', latencyMs: number): void {
    const minute = this.minute()
    minute.ok[channel] += 1
    // An idle connection's rare request (its first on a quiet connection) is counted, not timed with the load.
    if (channel !== 'idle') minute.requestMs.push(latencyMs)
  }

  echo(latencyMs: number): void {
    const minute = this.minute()
    minute.ok.ws += 1
    minute.echoMs.push(latencyMs)
  }

  event(delayMs: number): void {
    const minute = this.minute()
    minute.ok.sse += 1
    minute.eventMs.push(delayMs)
  }

  fail(channel: Channel, why: string, isSteady = false): void {
    const atMs = this.nowMs()
    this.minute(atMs).failed[channel] += 1
    this.failures.push({ atMs, channel, why, isSteady })
  }

  note(text: string): void {
    this.notes.push({ atMs: this.nowMs(), text })
  }

  /** The backend goes down now; call the returned function when it listens again. */
  backendGoesDown(): () => void {
    const window: Window = { fromMs: this.nowMs(), toMs: Number.POSITIVE_INFINITY }
    this.backendDown.push(window)
    return () => void (window.toMs = this.nowMs())
  }

  isExcused(failure: Failure): boolean {
    return !failure.isSteady && this.backendDown.some((window) => failure.atMs >= window.fromMs && failure.atMs <= window.toMs + GRACE_MS)
  }

  lost(): Failure[] {
    return this.failures.filter((failure) => !this.isExcused(failure))
  }
}

/** The p-th percentile (0 < p ≤ 1) by nearest rank; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}
