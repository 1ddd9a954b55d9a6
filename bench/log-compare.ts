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
 * LOG_COMPARE_PROTOCOLS (default `HTTP,HTTPS`) says which to measure.
 */
import { loadavg } from 'node:os'
import { startBackend } from './backend.ts'
import { alternate, medianRatio, startSide, wrkTarget, type Protocol, type Side } from './log-sides.ts'
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
const SPECS = JSON.parse(process.env.LOG_COMPARE_SIDES ?? '{"log off":{"env":{"REQUEST_LOG":"false"}},"log on":{}}') as Record<string, SideSpec>

const at = scratch('log-compare')

async function compare(sides: readonly Side[], protocol: Protocol): Promise<void> {
  for (const side of sides) await warmUp(...wrkTarget(side, protocol, SECONDS))
  const { runs, stolenShare } = await alternate(sides, protocol, ROUNDS, SECONDS)
  const baseline = runs.get(sides[0]!)!
  console.log(`${protocol}: ${ROUNDS} rounds of ${SECONDS} s, ${(stolenShare * 100).toFixed(0)} % of the CPU stolen by the host`)
  for (const side of sides) {
    const own = runs.get(side)!
    console.log(
      `  ${side.name.padEnd(16)} ${median(own.map((run) => run.requestsPerSec)).toFixed(0).padStart(7)} req/s, p99 ${median(own.map((run) => run.p99Ms)).toFixed(2)} ms; ` +
        `against ${sides[0]!.name}: req/s ${medianRatio(own, baseline, (run) => run.requestsPerSec).toFixed(3)} ×, p99 ${medianRatio(own, baseline, (run) => run.p99Ms).toFixed(3)} ×`,
    )
  }
}

console.log(`Bun ${Bun.version}, ${new Date().toISOString()}, wrk -t1 -c32, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`)
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
