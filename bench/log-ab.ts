/**
 * @module `bun bench/log-ab.ts`: the request log's goal (#12) measured as paired runs. Two servers of
 * ours, the request log on (the default) and REQUEST_LOG=false, proxy the same backend; wrk runs
 * against one, then the other, LOG_AB_PAIRS times per protocol, the order flipped every pair (ABBA), so
 * load that drifts over minutes falls on both sides of each pair alike. Each pair gives a ratio (log on /
 * log off) of req/s and of p99; the median ratio over the pairs and its interquartile range are
 * reported with the goal (req/s ≥ 0.95 ×, p99 ≤ 1.10 ×), and the proxy's CPU per request of each.
 *
 * Why not `bun run bench`: there the two rows of a round lie minutes apart, with every other row between
 * them, and three rounds' medians moved by more than the goal's margin on this shared machine.
 */
import { loadavg } from 'node:os'
import { startBackend } from './backend.ts'
import { cpuSecondsOf, stolenCpuSeconds } from './cpu.ts'
import { startSide, wrkTarget, type Protocol, type Side } from './log-sides.ts'
import { median } from './net.ts'
import { scratch } from './scratch.ts'
import { runWrk, warmUp } from './wrk.ts'

const PAIRS = Number(process.env.LOG_AB_PAIRS ?? 10)
const SECONDS = Number(process.env.LOG_AB_SEC ?? 4)

interface Run {
  readonly requestsPerSec: number
  readonly p99Ms: number
  readonly proxyUsPerRequest: number
  /** CPU the hypervisor took from this VM during the run, as a share of its cores. */
  readonly stolenShare: number
}

const at = scratch('log-ab')

async function measure(side: Side, protocol: Protocol): Promise<Run> {
  const [url, options] = wrkTarget(side, protocol, SECONDS)
  const [before, stolenBefore] = [cpuSecondsOf([side.server.pid]), stolenCpuSeconds()]
  const result = await runWrk(url, options)
  const proxyUsPerRequest = ((cpuSecondsOf([side.server.pid]) - before) / result.requests) * 1e6
  const stolenShare = (stolenCpuSeconds() - stolenBefore) / (SECONDS * navigator.hardwareConcurrency)
  return { requestsPerSec: result.requestsPerSec, p99Ms: result.p99Ms, proxyUsPerRequest, stolenShare }
}

/** The value at quantile q of sorted values (linear between neighbours). */
function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  return sorted[low]! + (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!) * (at - low)
}

/** A pair counts as clean when the host took less than this share of the CPU during both of its runs. */
const CLEAN_STOLEN_SHARE = 0.03

const percent = (share: number) => `${(share * 100).toFixed(0)} %`

function summary(ratios: readonly number[]): string {
  const sorted = [...ratios].sort((a, b) => a - b)
  return `${median(sorted).toFixed(3)} × (IQR ${quantile(sorted, 0.25).toFixed(3)}–${quantile(sorted, 0.75).toFixed(3)}, ${sorted.length} pairs)`
}

async function comparePaired(on: Side, off: Side, protocol: Protocol): Promise<void> {
  for (const side of [on, off]) await warmUp(...wrkTarget(side, protocol, SECONDS))
  const pairs: { on: Run; off: Run }[] = []
  for (let pair = 0; pair < PAIRS; pair++) {
    const order = pair % 2 === 0 ? [on, off] : [off, on]
    const runs = new Map<Side, Run>()
    for (const side of order) runs.set(side, await measure(side, protocol))
    const measured = { on: runs.get(on)!, off: runs.get(off)! }
    pairs.push(measured)
    console.log(
      `${protocol} pair ${pair + 1} (${order[0]!.name} first): on ${measured.on.requestsPerSec.toFixed(0)} req/s, off ${measured.off.requestsPerSec.toFixed(0)} req/s, ` +
        `ratio ${(measured.on.requestsPerSec / measured.off.requestsPerSec).toFixed(3)}; p99 ${measured.on.p99Ms.toFixed(2)} / ${measured.off.p99Ms.toFixed(2)} ms; ` +
        `CPU stolen by the host ${percent(measured.on.stolenShare)} / ${percent(measured.off.stolenShare)}`,
    )
  }
  const throughput = pairs.map(({ on, off }) => on.requestsPerSec / off.requestsPerSec)
  const p99 = pairs.map(({ on, off }) => on.p99Ms / off.p99Ms)
  const cpuOn = median(pairs.map(({ on }) => on.proxyUsPerRequest))
  const cpuOff = median(pairs.map(({ off }) => off.proxyUsPerRequest))
  const total = (pick: (pair: { on: Run; off: Run }) => Run) => pairs.reduce((sum, pair) => sum + pick(pair).requestsPerSec, 0)
  const isThroughputMet = median(throughput) >= 0.95
  const isP99Met = median(p99) <= 1.1
  console.log(`${protocol}: req/s log on / off ${summary(throughput)}: goal ≥ 0.95 ${isThroughputMet ? 'met' : 'NOT met'}`)
  const clean = pairs.filter(({ on, off }) => on.stolenShare < CLEAN_STOLEN_SHARE && off.stolenShare < CLEAN_STOLEN_SHARE)
  const cleanSummary = (pick: (run: Run) => number) => (clean.length > 0 ? summary(clean.map(({ on, off }) => pick(on) / pick(off))) : 'none')
  console.log(`${protocol}: pairs with under ${percent(CLEAN_STOLEN_SHARE)} of the CPU stolen in both runs: req/s ${cleanSummary((run) => run.requestsPerSec)}, p99 ${cleanSummary((run) => run.p99Ms)}`)
  console.log(`${protocol}: all requests of the log-on runs / all of the log-off runs: ${(total((pair) => pair.on) / total((pair) => pair.off)).toFixed(3)} ×`)
  console.log(`${protocol}: p99 log on / off ${summary(p99)}: goal ≤ 1.10 ${isP99Met ? 'met' : 'NOT met'}`)
  console.log(`${protocol}: proxy CPU ${cpuOn.toFixed(1)} µs/req log on, ${cpuOff.toFixed(1)} log off (${(cpuOn - cpuOff >= 0 ? '+' : '') + (cpuOn - cpuOff).toFixed(1)} µs/req)`)
}

const printLoad = (when: string) => console.log(`load average ${when}: ${loadavg().map((load) => load.toFixed(2)).join(' ')}`)
console.log(`Bun ${Bun.version}, ${new Date().toISOString()}, wrk -t1 -c32, ${SECONDS} s a run, ${PAIRS} pairs a protocol, order flipped every pair`)
printLoad('at start')
let exitCode = 0
try {
  const backend = startBackend()
  at.onCleanUp(backend.stop)
  const on = await startSide(at, 'log on', backend.url, {})
  const off = await startSide(at, 'log off', backend.url, { REQUEST_LOG: 'false' })
  await comparePaired(on, off, 'HTTP')
  await comparePaired(on, off, 'HTTPS')
  console.log(`log on logged: ${on.server.logSummary()}; log off logged: ${off.server.logSummary()}`)
} catch (error) {
  console.error('log-ab failed:', error)
  exitCode = 1
} finally {
  await at.cleanUp()
}
printLoad('at end')
process.exit(exitCode)
