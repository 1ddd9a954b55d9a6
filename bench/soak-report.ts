/** @module The soak run's printed lines: one per minute while it runs, and the summary with the goals. */
import type { CertificateSwap, HealthWatch, RedisRestart } from './soak-faults.ts'
import type { Closure, IdleReport } from './soak-idle.ts'
import { describeNumbers } from './soak-metrics.ts'
import { CHANNELS, GRACE_MS, percentile, type Failure, type SoakRecord } from './soak-record.ts'

const sec = (ms: number, digits = 1) => `${(ms / 1000).toFixed(digits)} s`
const ms = (value: number) => (Number.isNaN(value) ? '-' : value < 10 ? value.toFixed(2) : value.toFixed(1))
const verdict = (isMet: boolean) => (isMet ? 'met' : 'NOT met')

export function printMinute(record: SoakRecord, index: number): void {
  const minute = record.minutes[index]!
  const counts = CHANNELS.map((channel) => `${channel} ${minute.ok[channel]}/${minute.failed[channel]}`).join('  ')
  const latencies =
    `req p50 ${ms(percentile(minute.requestMs, 0.5))} p99 ${ms(percentile(minute.requestMs, 0.99))} ms  ` +
    `ws echo p99 ${ms(percentile(minute.echoMs, 0.99))} ms  sse delay p99 ${ms(percentile(minute.eventMs, 0.99))} ms`
  console.log(
    `min ${String(index + 1).padStart(2)}  ok/failed: ${counts}  |  ${latencies}  |  ` +
      `RSS ${minute.rssMiB.toFixed(1)} MiB  CPU ${(minute.cpuSec / 60).toFixed(2)} cores  ${describeNumbers(minute.server)}  load ${minute.load1.toFixed(2)}`,
  )
}

export interface SummaryInputs {
  readonly record: SoakRecord
  readonly redis: RedisRestart | null
  readonly swap: CertificateSwap | null
  readonly health: HealthWatch
  readonly idle: IdleReport
  readonly kept: number
  readonly silent: number
  readonly serverLog: string
}

export function printSummary(inputs: SummaryInputs): void {
  const { record } = inputs
  const minutes = record.minutes
  console.log('\n== soak summary ==')

  console.log('\nper minute (requests = HTTP + HTTPS load; ok/failed over all channels):')
  console.log('min   requests   failed   p50 ms   p99 ms   ws p99   sse p99   RSS MiB   cores   load')
  minutes.forEach((minute, index) => {
    const failed = CHANNELS.reduce((sum, channel) => sum + minute.failed[channel], 0)
    const cells = [
      String(index + 1).padStart(3),
      String(minute.ok.http + minute.ok.https).padStart(10),
      String(failed).padStart(8),
      ms(percentile(minute.requestMs, 0.5)).padStart(8),
      ms(percentile(minute.requestMs, 0.99)).padStart(8),
      ms(percentile(minute.echoMs, 0.99)).padStart(8),
      ms(percentile(minute.eventMs, 0.99)).padStart(9),
      minute.rssMiB.toFixed(1).padStart(9),
      (minute.cpuSec / 60).toFixed(2).padStart(7),
      minute.load1.toFixed(2).padStart(6),
    ]
    console.log(cells.join(' '))
  })

  console.log('\ntotals per channel (ok, failed, of which in a backend down window or its 1 s grace):')
  for (const channel of CHANNELS) {
    const ok = minutes.reduce((sum, minute) => sum + minute.ok[channel], 0)
    const failures = record.failures.filter((failure) => failure.channel === channel)
    const excused = failures.filter((failure) => record.isExcused(failure)).length
    console.log(`  ${channel.padEnd(5)} ${ok.toLocaleString('en')} ok, ${failures.length} failed, ${excused} of them while the backend was down`)
  }
  console.log(`  (ws counts echoed messages, sse events, idle the kept connections' keep-alive requests)`)

  const lost = record.lost()
  console.log(`\nlost outside the backend's down windows (+${GRACE_MS} ms grace): ${lost.length} (goal 0: ${verdict(lost.length === 0)})`)
  for (const line of groupFailures(lost)) console.log(`  ${line}`)
  if (lost.length > 0) {
    console.log(`  the first ${Math.min(lost.length, 30)}, as they came:`)
    for (const failure of lost.slice(0, 30)) console.log(`    ${sec(failure.atMs, 2).padStart(9)}  ${failure.channel}: ${failure.why}`)
  }
  const excused = record.failures.filter((failure) => record.isExcused(failure))
  if (excused.length > 0) {
    console.log(`failures inside the down windows (expected), by kind:`)
    for (const line of groupFailures(excused)) console.log(`  ${line}`)
  }

  const first = minutes[0]!.rssMiB
  const last = minutes.at(-1)!.rssMiB
  const growth = ((last - first) / first) * 100
  console.log(`\nRSS at minute 1: ${first.toFixed(1)} MiB, at minute ${minutes.length}: ${last.toFixed(1)} MiB, ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} % (goal ≤ +10 %: ${verdict(growth <= 10)})`)
  const rss = minutes.map((minute) => minute.rssMiB)
  console.log(`  between: ${Math.min(...rss).toFixed(1)}–${Math.max(...rss).toFixed(1)} MiB; least-squares trend over the minutes ${signedFixed(trend(rss), 2)} MiB/min (garbage collection moves single samples by several %)`)
  console.log(`p99 per minute (ms): ${minutes.map((minute) => ms(percentile(minute.requestMs, 0.99))).join(', ')}`)

  console.log(`\nbackend down windows: ${record.backendDown.map((window) => `${sec(window.fromMs)}–${sec(window.toMs)}`).join(', ') || 'none'}`)
  if (inputs.redis) {
    const { stoppedAtMs, startedAtMs } = inputs.redis
    const healthyAgain = inputs.health.changes.find((change) => change.atMs >= startedAtMs && change.status === 200)
    const unhealthy = inputs.health.changes.filter((change) => change.atMs >= stoppedAtMs && change.status !== 200)
    console.log(
      `Redis: stopped at ${sec(stoppedAtMs)}, answering again at ${sec(startedAtMs)}; /health ${unhealthy.map((change) => `${change.status} at ${sec(change.atMs)}`).join(', ') || 'never failed'}` +
        `, 200 again ${healthyAgain ? `${sec(healthyAgain.atMs - startedAtMs)} after Redis was back` : 'NEVER'}`,
    )
  }
  if (inputs.swap) {
    const { putStatus, before, after, appliedAfterMs } = inputs.swap
    console.log(`certificate swap: PUT ${putStatus}; ${before === after ? 'the new certificate was NOT served within 30 s' : `the next handshakes got the new certificate ${appliedAfterMs.toFixed(0)} ms after the PUT (${before.slice(0, 11)}… → ${after.slice(0, 11)}…)`}`)
  }
  const { keptOpen, keptClosures, silentClosures, silentOpen } = inputs.idle
  const early = keptClosures.filter((closure) => !closure.isAfterError)
  console.log(`\nidle connections: ${inputs.kept.toLocaleString('en')} kept (a request every 2 minutes), ${keptOpen} open at the end`)
  console.log(`  closed by the server after an error answer (a 502 while the backend was down): ${keptClosures.length - early.length}`)
  console.log(`  closed by the server otherwise: ${early.length}${describeClosures(early)} (each opened again; the idle timeout is 300 s of silence: goal 0: ${verdict(early.length === 0)})`)
  console.log(`  ${inputs.silent} silent (one request, then nothing): ${silentClosures.length} closed by the server${describeClosures(silentClosures)}, ${silentOpen} still open`)
  console.log('\ntimeline:')
  for (const note of record.notes) console.log(`  ${sec(note.atMs).padStart(8)}  ${note.text}`)
  console.log(`\nour server logged: ${inputs.serverLog}`)
}

/** Slope of the least-squares line through the values (one per minute): MiB per minute. */
function trend(values: readonly number[]): number {
  const meanX = (values.length - 1) / 2
  const meanY = values.reduce((sum, value) => sum + value, 0) / values.length
  let covariance = 0
  let variance = 0
  values.forEach((value, x) => {
    covariance += (x - meanX) * (value - meanY)
    variance += (x - meanX) ** 2
  })
  return variance === 0 ? 0 : covariance / variance
}

const signedFixed = (value: number, digits: number) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`

/** ", at age 119–121 s, after 2–118 s of silence" (min–max), or nothing for none. */
function describeClosures(closures: readonly Closure[]): string {
  if (closures.length === 0) return ''
  const range = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)} s`
  return `, at age ${range(closures.map((closure) => closure.ageSec))}, after ${range(closures.map((closure) => closure.quietSec))} of silence`
}

/** "12× https: 502 small (120.3–124.9 s)", most frequent first. */
function groupFailures(failures: readonly Failure[]): string[] {
  const groups = new Map<string, { count: number; firstMs: number; lastMs: number }>()
  for (const failure of failures) {
    // Counts and times vary within a kind; three-digit numbers (statuses, close codes' tails) are kept.
    const key = `${failure.channel}: ${failure.why.replace(/\d+\/\d+|\d+\.\d+|\d{4,}|\b\d{1,2}\b/g, 'N')}`
    const group = groups.get(key)
    if (group) {
      group.count += 1
      group.lastMs = failure.atMs
    } else groups.set(key, { count: 1, firstMs: failure.atMs, lastMs: failure.atMs })
  }
  return [...groups]
    .sort((a, b) => b[1].count - a[1].count)
    .slice(0, 20)
    .map(([key, group]) => `${group.count}× ${key} (${sec(group.firstMs)}${group.count > 1 ? `–${sec(group.lastMs)}` : ''})`)
}
