/**
 * @module `bun bench/log-compare.ts`: several servers of ours on one backend, measured in turn, for the
 * request log's goal (#12) and for comparing versions in the same minutes. wrk runs against each side
 * for LOG_COMPARE_SEC, round after round (LOG_COMPARE_ROUNDS a protocol), the order reversed every round
 * so drift falls on all sides alike; each side's ratios against the first side are the medians of the
 * per-round ratios.
 *
 * LOG_COMPARE_SIDES is a JSON object `{ "name": { "env": {…}, "main": "/other/checkout/src/main.ts" } }`
 * (the first side is the baseline; `main` runs another checkout's server); by default the log off
 * against the log on (what bench/log-ab.ts did in pairs, until log-compare replaced it). Two sides of
 * the same settings show how far apart identical servers measure on this machine.
 * LOG_COMPARE_PROTOCOLS (default `HTTP,HTTPS`) says which to measure. LOG_COMPARE_RAW names a file
 * that gets every run, side by side, as JSON lines (one per protocol) for a closer look.
 * LOG_COMPARE_DUET=1 measures each side at the same time as the first (log-sides.ts duet), 16
 * connections each, instead of one after another: a spread of 2-3 % a round where runs one after
 * another move by some 9 % (bench/README.md, ninth step). LOG_COMPARE_DUET=pinned also keeps each
 * server of a duet on a core of its own, swapped every round, as the bench's log pair does.
 */
import { appendFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { startBackend } from './backend.ts'
import { stolenCpuSeconds } from './cpu.ts'
import { alternate, duet, medianRatio, startSide, wrkTarget, type Protocol, type Side, type SideRun } from './log-sides.ts'
import { median } from './net.ts'
import { scratch } from './scratch.ts'
import { warmUp } from './wrk.ts'

interface SideSpec {
  readonly env?: Record<string, string>
  readonly main?: string
}

const ROUNDS = Number(process.env.LOG_COMPARE_ROUNDS ?? 16)
const SECONDS = Number(process.env.LOG_COMPARE_SEC ?? 2)
const PROTOCOLS = (process.env.LOG_COMPARE_PROTOCOLS ?? 'HTTP,HTTPS').split(',') as Protocol[]
if (PROTOCOLS.some((protocol) => protocol !== 'HTTP' && protocol !== 'HTTPS')) throw new Error(`LOG_COMPARE_PROTOCOLS: HTTP, HTTPS or both, comma-separated; got ${process.env.LOG_COMPARE_PROTOCOLS}`)
const IS_PINNED = process.env.LOG_COMPARE_DUET === 'pinned'
const IS_DUET = process.env.LOG_COMPARE_DUET === '1' || IS_PINNED
const DUET_CONNECTIONS = 16
const SPECS = JSON.parse(process.env.LOG_COMPARE_SIDES ?? '{"log off":{"env":{"REQUEST_LOG":"false"}},"log on":{}}') as Record<string, SideSpec>

const at = scratch('log-compare')

async function compare(sides: readonly Side[], protocol: Protocol): Promise<void> {
  for (const side of sides) await warmUp(...wrkTarget(side, protocol, SECONDS))
  const { runs, stolenShare, partners } = IS_DUET ? await duets(sides, protocol) : { ...(await alternate(sides, protocol, ROUNDS, SECONDS)), partners: null }
  const baselineOf = (side: Side) => partners?.get(side) ?? runs.get(sides[0]!)!
  if (process.env.LOG_COMPARE_RAW) appendFileSync(process.env.LOG_COMPARE_RAW, JSON.stringify({ protocol, sides: Object.fromEntries(sides.map((side) => [side.name, runs.get(side)])) }) + '\n')
  console.log(`${protocol}: ${ROUNDS} rounds of ${SECONDS} s${IS_DUET ? ', each side at once with the first' : ''}, ${(stolenShare * 100).toFixed(0)} % of the CPU stolen by the host`)
  for (const side of sides) {
    const own = runs.get(side)!
    const baseline = baselineOf(side)
    console.log(
      `  ${side.name.padEnd(16)} ${median(own.map((run) => run.requestsPerSec)).toFixed(0).padStart(7)} req/s, p99 ${median(own.map((run) => run.p99Ms)).toFixed(2)} ms; ` +
        `against ${sides[0]!.name}: req/s ${medianRatio(own, baseline, (run) => run.requestsPerSec).toFixed(3)} ×, p99 ${medianRatio(own, baseline, (run) => run.p99Ms).toFixed(3)} ×`,
    )
  }
}

/**
 * Each round, every other side in a duet with the first, in turns (reversed every round). A side's
 * ratios are against the first side's runs of its own duets (`partners`); the first side's own row
 * shows its runs with the second.
 */
async function duets(sides: readonly Side[], protocol: Protocol): Promise<{ runs: Map<Side, SideRun[]>; partners: Map<Side, SideRun[]>; stolenShare: number }> {
  const [first, ...others] = sides as [Side, ...Side[]]
  const partners = new Map(others.map((side) => [side, [] as SideRun[]]))
  const runs = new Map(others.map((side) => [side, [] as SideRun[]]))
  const stolenBefore = stolenCpuSeconds()
  const startedAt = performance.now()
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? others : [...others].reverse()) {
      const cores: [string, string] | undefined = IS_PINNED ? (round % 2 === 0 ? ['0', '1'] : ['1', '0']) : undefined
      const [baseline, own] = await duet(first, side, protocol, SECONDS, DUET_CONNECTIONS, cores)
      partners.get(side)!.push(baseline)
      runs.get(side)!.push(own)
    }
  }
  const elapsedSec = (performance.now() - startedAt) / 1000
  runs.set(first, partners.get(others[0]!)!)
  return { runs, partners, stolenShare: (stolenCpuSeconds() - stolenBefore) / (elapsedSec * navigator.hardwareConcurrency) }
}

console.log(`Bun ${Bun.version}, ${new Date().toISOString()}, wrk -t1 -c${IS_DUET ? DUET_CONNECTIONS : 32}, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`)
let exitCode = 0
try {
  const backend = startBackend()
  at.onCleanUp(backend.stop)
  const sides: Side[] = []
  for (const [name, spec] of Object.entries(SPECS)) sides.push(await startSide(at, name, backend.url, spec.env ?? {}, spec.main))
  for (const protocol of PROTOCOLS) await compare(sides, protocol)
} catch (error) {
  console.error('log-compare failed:', error)
  exitCode = 1
} finally {
  await at.cleanUp()
}
process.exit(exitCode)
