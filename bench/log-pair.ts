/**
 * @module The request log's goal in `bun run bench` (#12: with the log on, req/s ≥ 0.95× and p99 within
 * 10 % of REQUEST_LOG=false, in the same run): three servers of ours started for this alone, alike but
 * for REQUEST_LOG (log-sides.ts): log off, log on, and log off again (the control).
 *
 * The goal is judged on duet runs (log-sides.ts duet): two sides driven at the same time, each by its
 * own wrk with half the connections. A round is three duets, every pair of the three sides once:
 * log off and log on, log on and the control, the control and log off (the other way round every
 * other round), so each side runs in two duets of three. Until the tenth step log off ran in every
 * duet and the log was judged against it alone; a server has a level of its own (bench/README.md,
 * ninth step), and one baseline's level then decided part of the verdict. Now both duets with the
 * log on give a ratio of log on to a log-off server, and each ratio is the median of all of them.
 * The control says how far apart two identical servers measure with this method in this run.
 * A server keeps a level of its own for as long as it runs, so the duets are shared out between
 * LOG_STARTS sets of three servers, each started afresh (eleventh step). During a duet each server
 * runs on a core of its own (every thread, taskset(1)), and every pair swaps cores from one round to
 * the next; wrk and the backend run anywhere.
 * Without that (BENCH_LOG_DUET_PIN=0) the log-on server's writer thread takes its CPU and caches from
 * both sides alike, and the duet hides part of what the log costs.
 *
 * Also shown, for comparison: the servers measured one after another (LOG_PAIR_RUNS runs of each, the
 * order reversed every run). That was the goal's measure until the ninth step (bench/README.md): its own
 * control ranged 0.90-1.04 × in req/s and 0.90-1.11 × in p99, so it could not tell a 5 % cost from none.
 * On this 2-vCPU VM the same server's CPU per request moves some 9 % from one 2 s run to the next, and
 * sides run one after another do not share those seconds; sides run at the same time do.
 */
import { alternate, duet, medianRatio, pinServer, startSide, wrkTarget, type Protocol, type Side, type SideRun } from './log-sides.ts'
import { median } from './net.ts'
import type { Scratch } from './scratch.ts'
import { warmUp } from './wrk.ts'

/** Runs of each side a protocol per round, one side after another (BENCH_LOG_PAIR_RUNS), of LOG_PAIR_SEC each. */
export const LOG_PAIR_RUNS = Number(process.env.BENCH_LOG_PAIR_RUNS ?? 6)
/** Duet rounds a protocol per round of the bench (BENCH_LOG_DUETS): each is three duets of LOG_PAIR_SEC. */
export const LOG_DUETS = Number(process.env.BENCH_LOG_DUETS ?? 20)
/**
 * How many times in a round of the bench the three servers are started afresh (BENCH_LOG_STARTS), the
 * duets shared out evenly between the starts. A server keeps a level of its own for as long as it runs
 * (eleventh step: two identical log-off servers 1.21 × apart in p99 over a whole run), so with one
 * server a side that level weighed in every ratio of the log; over four starts it weighs a quarter.
 */
export const LOG_STARTS = Number(process.env.BENCH_LOG_STARTS ?? 4)
const LOG_PAIR_SEC = 2
/** Each wrk of a duet: half the 32 connections of every other row, so the machine carries the same load. */
const DUET_CONNECTIONS = 16
const PROTOCOLS = ['HTTP', 'HTTPS'] as const
const PINNED = process.env.BENCH_LOG_DUET_PIN !== '0' && navigator.hardwareConcurrency >= 2
const ALL_CORES = `0-${navigator.hardwareConcurrency - 1}`

/** The three sides, by what they are for. */
type Role = 'off' | 'on' | 'control'
const ROLES: readonly Role[] = ['off', 'on', 'control']
const ROLE_SETUP: Record<Role, { readonly name: string; readonly env: Record<string, string> }> = {
  off: { name: 'REQUEST_LOG=false', env: { REQUEST_LOG: 'false' } },
  on: { name: 'log on', env: {} },
  control: { name: 'REQUEST_LOG=false, control', env: { REQUEST_LOG: 'false' } },
}

interface ProtocolSamples {
  /** One after another: every run by side. */
  readonly runs: Record<Role, SideRun[]>
  readonly stolenShares: number[]
  /** Duets, as [a log-off server, log on] (two a round) and [log off, control] (one a round). */
  readonly logged: [SideRun, SideRun][]
  readonly control: [SideRun, SideRun][]
}

export interface LogPair {
  readonly dir: string
  readonly backendUrl: string
  readonly onCleanUp: Scratch['onCleanUp']
  /** The servers running now; each start replaces them. */
  sides: Record<Role, Side>
  /** How many sets of servers have been started so far. */
  starts: number
  readonly samples: Record<Protocol, ProtocolSamples>
}

export async function startLogPair(dir: string, backendUrl: string, onCleanUp: Scratch['onCleanUp']): Promise<LogPair> {
  for (const [name, value] of [['BENCH_LOG_PAIR_RUNS', LOG_PAIR_RUNS], ['BENCH_LOG_DUETS', LOG_DUETS], ['BENCH_LOG_STARTS', LOG_STARTS]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${process.env[name]}`)
  }
  const samples = Object.fromEntries(
    PROTOCOLS.map((protocol) => [protocol, { runs: { off: [], on: [], control: [] }, stolenShares: [] as number[], logged: [], control: [] }]),
  )
  const pair = { dir, backendUrl, onCleanUp, sides: {} as Record<Role, Side>, starts: 0, samples: samples as unknown as LogPair['samples'] }
  await startSides(pair)
  return pair
}

/** The servers running now, in ROLES' order. */
const runningSides = (pair: LogPair): Side[] => ROLES.map((role) => pair.sides[role])

/**
 * Stops the servers running, if any, and starts three fresh ones, in an order that turns with each
 * start (the first started had measured the better p99 more often than not).
 */
async function startSides(pair: LogPair): Promise<void> {
  for (const side of Object.values(pair.sides)) await side.server.stop()
  const start = pair.starts++
  const sides: Partial<Record<Role, Side>> = {}
  for (let i = 0; i < ROLES.length; i++) {
    const role = ROLES[(start + i) % ROLES.length]!
    const { name, env } = ROLE_SETUP[role]
    sides[role] = await startSide({ dir: pair.dir, onCleanUp: pair.onCleanUp }, start === 0 ? name : `${name}, start ${start + 1}`, pair.backendUrl, env)
  }
  pair.sides = sides as Record<Role, Side>
}

/**
 * One round: LOG_STARTS sets of servers (the first already running), each warmed up and then given its
 * share of each protocol's duets; then, on the last set, the runs one after another.
 */
export async function measureLogPair(pair: LogPair, round: number): Promise<void> {
  const starts = Math.min(LOG_STARTS, LOG_DUETS)
  for (let start = 0; start < starts; start++) {
    if (round > 1 || start > 0) await startSides(pair)
    for (const protocol of PROTOCOLS) {
      for (const side of runningSides(pair)) await warmUp(...wrkTarget(side, protocol, LOG_PAIR_SEC))
      await runDuets(pair, protocol, Math.floor((start * LOG_DUETS) / starts), Math.floor(((start + 1) * LOG_DUETS) / starts))
    }
  }
  for (const protocol of PROTOCOLS) {
    const own = pair.samples[protocol]
    const { runs, stolenShare } = await alternate(runningSides(pair), protocol, LOG_PAIR_RUNS, LOG_PAIR_SEC)
    for (const role of ROLES) own.runs[role].push(...runs.get(pair.sides[role])!)
    own.stolenShares.push(stolenShare)
  }
}

/** Duet rounds [from, to) of a protocol, on the servers running now. */
async function runDuets(pair: LogPair, protocol: Protocol, from: number, to: number): Promise<void> {
  const { off, on, control } = pair.sides
  const own = pair.samples[protocol]
  const duets = [
    // The two sides, and where their runs go, as [a log-off server, the other].
    [off, on, (a: SideRun, b: SideRun) => own.logged.push([a, b])],
    [on, control, (a: SideRun, b: SideRun) => own.logged.push([b, a])],
    [control, off, (a: SideRun, b: SideRun) => own.control.push([b, a])],
  ] as const
  for (let k = from; k < to; k++) {
    const inTurn = k % 2 === 0 ? [0, 1, 2] : [2, 1, 0]
    for (const i of inTurn) {
      const [a, b, keep] = duets[i]!
      // Each side's every thread on a core of its own; a pair swaps cores from one round to the next.
      const cores: [string, string] | undefined = PINNED ? ((k + i) % 2 === 0 ? ['0', '1'] : ['1', '0']) : undefined
      keep(...(await duet(a, b, protocol, LOG_PAIR_SEC, DUET_CONNECTIONS, cores)))
    }
  }
  if (PINNED) for (const side of runningSides(pair)) pinServer(side, ALL_CORES)
}

interface Ratios {
  readonly rps: number
  readonly p99: number
  readonly cpu: number
}

const duetRatios = (duets: readonly [SideRun, SideRun][]): Ratios => ({
  rps: median(duets.map(([base, side]) => side.requestsPerSec / base.requestsPerSec)),
  p99: median(duets.map(([base, side]) => side.p99Ms / base.p99Ms)),
  cpu: median(duets.map(([base, side]) => side.proxyUsPerRequest / base.proxyUsPerRequest)),
})

const verdict = (isMet: boolean) => (isMet ? 'met' : 'NOT met')

/** Prints the goal's two ratios per protocol from the duets, the control's, and the runs one after another. */
export function printLogCost(pair: LogPair): void {
  const rounds = pair.samples.HTTP.control.length
  const runsEach = pair.samples.HTTP.runs.off.length
  console.log(
    `the request log: three servers alike but for REQUEST_LOG (bench/log-pair.ts); ${rounds} rounds a protocol of three duets of ${LOG_PAIR_SEC} s, ` +
      `each pair of the three at once (${DUET_CONNECTIONS} connections each), on ${pair.starts} sets of servers, each started afresh; log on against the two log-off servers:`,
  )
  for (const protocol of PROTOCOLS) {
    const { runs, stolenShares, logged, control } = pair.samples[protocol]
    const on = duetRatios(logged)
    const same = duetRatios(control)
    const base = median(logged.map(([off]) => off.proxyUsPerRequest))
    console.log(
      `  ${protocol.padEnd(5)} log on: req/s ${on.rps.toFixed(3)}× (goal ≥ 0.95: ${verdict(on.rps >= 0.95)}), p99 ${on.p99.toFixed(3)}× (goal ≤ 1.10: ${verdict(on.p99 <= 1.1)}), ` +
        `proxy CPU ${on.cpu.toFixed(3)}× (${base.toFixed(1)} µs/req with the log off)`,
    )
    console.log(`  ${''.padEnd(5)} control, log off against log off: req/s ${same.rps.toFixed(3)}×, p99 ${same.p99.toFixed(3)}×, proxy CPU ${same.cpu.toFixed(3)}×`)
    const off = runs.off
    const sequential = (role: Role) => `req/s ${medianRatio(runs[role], off, (run) => run.requestsPerSec).toFixed(2)}×, p99 ${medianRatio(runs[role], off, (run) => run.p99Ms).toFixed(2)}×`
    console.log(
      `  ${''.padEnd(5)} one after another (${runsEach} runs each, for comparison): log on ${sequential('on')}; control ${sequential('control')}; ` +
        `log off ${median(off.map((run) => run.requestsPerSec)).toFixed(0)} req/s; ${(median(stolenShares) * 100).toFixed(0)} % of the CPU stolen by the host`,
    )
  }
}
