/**
 * @module The request log's rows in `bun run bench` (#12's goal: with the log on, req/s ≥ 0.95× and p99
 * within 10 % of REQUEST_LOG=false): two servers of ours started for this alone, one after the other,
 * alike but for REQUEST_LOG, with the same two proxies (log-sides.ts), each row of a protocol measured
 * right after the other, the two swapped every other round; each ratio is the median of the rounds'.
 *
 * The log-on side used to be the main server of the run, which also serves the nginx comparison and the
 * auth baseline: with REQUEST_LOG=false on both, that pairing still measured 0.95× and 0.87× (HTTP,
 * HTTPS), proxy CPU +1.5 and +4.9 µs a request: the comparison measured which server it was.
 */
import { median } from './net.ts'
import type { Row } from './report.ts'
import type { Scratch } from './scratch.ts'
import { startSide, wrkTarget, type Protocol, type Side } from './log-sides.ts'

export const LOG_ROWS = {
  on: { HTTP: 'log pair HTTP, request log on', HTTPS: 'log pair HTTPS, request log on' },
  off: { HTTP: 'log pair HTTP, REQUEST_LOG=false', HTTPS: 'log pair HTTPS, REQUEST_LOG=false' },
} as const

export interface LogPairPath {
  readonly name: string
  readonly url: string
  readonly options: ReturnType<typeof wrkTarget>[1]
  readonly proxyPids: readonly number[]
}

export interface LogPair {
  /** The four rows, each protocol's two together. */
  readonly paths: readonly LogPairPath[]
}

export async function startLogPair(dir: string, backendUrl: string, durationSec: number, onCleanUp: Scratch['onCleanUp']): Promise<LogPair> {
  const at = { dir, onCleanUp }
  const on = await startSide(at, 'log-pair-on', backendUrl, {})
  const off = await startSide(at, 'log-pair-off', backendUrl, { REQUEST_LOG: 'false' })
  const path = (side: Side, name: string, protocol: Protocol): LogPairPath => {
    const [url, options] = wrkTarget(side, protocol, durationSec)
    return { name, url, options, proxyPids: [side.server.pid] }
  }
  return {
    paths: (['HTTP', 'HTTPS'] as const).flatMap((protocol) => [path(on, LOG_ROWS.on[protocol], protocol), path(off, LOG_ROWS.off[protocol], protocol)]),
  }
}

/**
 * The paths in the order a round measures them: each log pair's two rows swap places in every even
 * round, so that neither side always comes first (a run finds the machine as the run before left it).
 */
export function inRoundOrder<T extends { readonly name: string }>(paths: readonly T[], round: number): T[] {
  const order = [...paths]
  if (round % 2 === 1) return order
  for (const protocol of ['HTTP', 'HTTPS'] as const) {
    const at = order.findIndex((path) => path.name === LOG_ROWS.on[protocol])
    if (at !== -1 && order[at + 1]?.name === LOG_ROWS.off[protocol]) [order[at], order[at + 1]] = [order[at + 1]!, order[at]!]
  }
  return order
}

/** Prints the goal's two ratios per protocol from the rounds' rows (samples by row name). */
export function printLogCost(samples: ReadonlyMap<string, readonly Row[]>): void {
  console.log('the request log: two servers alike but for REQUEST_LOG, measured one right after the other (bench/log-pair.ts):')
  for (const protocol of ['HTTP', 'HTTPS'] as const) {
    const logged = samples.get(LOG_ROWS.on[protocol])!
    const unlogged = samples.get(LOG_ROWS.off[protocol])!
    const ratio = (pick: (row: Row) => number) => median(logged.map((row, round) => pick(row) / pick(unlogged[round]!)))
    const rps = ratio((row) => row.requestsPerSec)
    const p99 = ratio((row) => row.p99Ms)
    const extraUs = median(logged.map((row, round) => (row.proxyUsPerRequest ?? NaN) - (unlogged[round]!.proxyUsPerRequest ?? NaN)))
    console.log(
      `  ${protocol.padEnd(5)}: req/s ${rps.toFixed(2)}× (goal ≥ 0.95: ${rps >= 0.95 ? 'met' : 'NOT met'}), p99 ${p99.toFixed(2)}× (goal ≤ 1.10: ${p99 <= 1.1 ? 'met' : 'NOT met'}), ` +
        `proxy CPU ${extraUs >= 0 ? '+' : ''}${extraUs.toFixed(1)} µs/req (medians of ${logged.length} rounds' ratios)`,
    )
  }
}
