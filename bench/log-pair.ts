/**
 * @module The request log's goal in `bun run bench` (#12: with the log on, req/s ≥ 0.95× and p99 within
 * 10 % of REQUEST_LOG=false, in the same run): three servers of ours started for this alone, alike but
 * for REQUEST_LOG (log-sides.ts), the log-on one between two with the log off. Each round measures them
 * in short runs (LOG_PAIR_SEC), alternated, the order reversed every run (log-sides.ts alternate), and
 * each ratio is the median of the run-by-run ratios over every round.
 *
 * The second log-off server is the control: what it measures against the first is how far apart two
 * identical servers measure in this run (on this 2-vCPU VM, up to ±0.05 in req/s and ±0.2 in p99 in
 * runs of one row each), which says how far the log's own figure can be trusted. Short alternated runs,
 * many of them, are what bring that spread down: a host that slows for a minute slows every side alike.
 *
 * The log-on side used to be the main server of the run, which also serves the nginx comparison and the
 * auth baseline: with REQUEST_LOG=false on both, that pairing still measured 0.95× and 0.87× (HTTP,
 * HTTPS): the comparison measured which server it was.
 */
import { alternate, medianRatio, startSide, wrkTarget, type Protocol, type Side, type SideRun } from './log-sides.ts'
import { median } from './net.ts'
import type { Scratch } from './scratch.ts'
import { warmUp } from './wrk.ts'

/** Runs of each side a protocol per round (BENCH_LOG_PAIR_RUNS), of LOG_PAIR_SEC each. */
export const LOG_PAIR_RUNS = Number(process.env.BENCH_LOG_PAIR_RUNS ?? 20)
const LOG_PAIR_SEC = 2
const PROTOCOLS = ['HTTP', 'HTTPS'] as const

export interface LogPair {
  readonly off: Side
  readonly on: Side
  readonly control: Side
  /** Every run so far, by protocol and side, and the CPU share stolen during each protocol's rounds. */
  readonly samples: Record<Protocol, { readonly runs: Map<Side, SideRun[]>; readonly stolenShares: number[] }>
}

export async function startLogPair(dir: string, backendUrl: string, onCleanUp: Scratch['onCleanUp']): Promise<LogPair> {
  if (!Number.isInteger(LOG_PAIR_RUNS) || LOG_PAIR_RUNS < 1) throw new Error(`BENCH_LOG_PAIR_RUNS must be a positive integer, got ${process.env.BENCH_LOG_PAIR_RUNS}`)
  const at = { dir, onCleanUp }
  const off = await startSide(at, 'REQUEST_LOG=false', backendUrl, { REQUEST_LOG: 'false' })
  const on = await startSide(at, 'log on', backendUrl, {})
  const control = await startSide(at, 'REQUEST_LOG=false, control', backendUrl, { REQUEST_LOG: 'false' })
  const sides = [off, on, control]
  const samples = Object.fromEntries(PROTOCOLS.map((protocol) => [protocol, { runs: new Map(sides.map((side) => [side, [] as SideRun[]])), stolenShares: [] as number[] }]))
  return { off, on, control, samples: samples as LogPair['samples'] }
}

/** One round: each protocol's LOG_PAIR_RUNS alternated runs (after a warm-up of every side in the first). */
export async function measureLogPair(pair: LogPair, round: number): Promise<void> {
  const sides = [pair.off, pair.on, pair.control]
  for (const protocol of PROTOCOLS) {
    if (round === 1) for (const side of sides) await warmUp(...wrkTarget(side, protocol, LOG_PAIR_SEC))
    const { runs, stolenShare } = await alternate(sides, protocol, LOG_PAIR_RUNS, LOG_PAIR_SEC)
    for (const side of sides) pair.samples[protocol].runs.get(side)!.push(...runs.get(side)!)
    pair.samples[protocol].stolenShares.push(stolenShare)
  }
}

/** Prints the goal's two ratios per protocol, the control's, and the CPU stolen meanwhile. */
export function printLogCost(pair: LogPair): void {
  const runsEach = pair.samples.HTTP.runs.get(pair.off)!.length
  console.log(`the request log: three servers alike but for REQUEST_LOG, ${runsEach} runs of ${LOG_PAIR_SEC} s each a protocol, alternated (bench/log-pair.ts):`)
  for (const protocol of PROTOCOLS) {
    const { runs, stolenShares } = pair.samples[protocol]
    const off = runs.get(pair.off)!
    const ratios = (side: Side) => ({
      rps: medianRatio(runs.get(side)!, off, (run) => run.requestsPerSec),
      p99: medianRatio(runs.get(side)!, off, (run) => run.p99Ms),
      extraUs: median(runs.get(side)!.map((run, k) => run.proxyUsPerRequest - off[k]!.proxyUsPerRequest)),
    })
    const logged = ratios(pair.on)
    const control = ratios(pair.control)
    const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)}`
    console.log(
      `  ${protocol.padEnd(5)} log on: req/s ${logged.rps.toFixed(2)}× (goal ≥ 0.95: ${logged.rps >= 0.95 ? 'met' : 'NOT met'}), ` +
        `p99 ${logged.p99.toFixed(2)}× (goal ≤ 1.10: ${logged.p99 <= 1.1 ? 'met' : 'NOT met'}), proxy CPU ${signed(logged.extraUs)} µs/req`,
    )
    console.log(
      `  ${''.padEnd(5)} control, log off against log off: req/s ${control.rps.toFixed(2)}×, p99 ${control.p99.toFixed(2)}×, proxy CPU ${signed(control.extraUs)} µs/req; ` +
        `log off ${median(off.map((run) => run.requestsPerSec)).toFixed(0)} req/s; ${(median(stolenShares) * 100).toFixed(0)} % of the CPU stolen by the host`,
    )
  }
}
