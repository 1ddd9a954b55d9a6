/**
 * @module `bun run bench`: ours against nginx on the data plane (throughput mode), or `bun run bench --
 * --scale` (or BENCH_SCALE=1): 1,000 proxies, start-up after a restart, RSS, and new-proxy latency; or
 * `-- --soak` (or BENCH_SOAK=1): 10 minutes (BENCH_SOAK_MINUTES) of mixed traffic on Redis with faults.
 * Every process and file it makes lives under one temp directory and is stopped/removed at the end,
 * also on Ctrl-C.
 */
import { existsSync } from 'node:fs'
import { loadavg } from 'node:os'
import { NGINX } from './nginx.ts'
import { runScale } from './scale.ts'
import { scratch } from './scratch.ts'
import { runSoak } from './soak.ts'
import { runThroughput } from './throughput.ts'

const isScale = process.argv.includes('--scale') || process.env.BENCH_SCALE === '1'
const isSoak = process.argv.includes('--soak') || process.env.BENCH_SOAK === '1'
const soakMinutes = Number(process.env.BENCH_SOAK_MINUTES ?? 10)
const durationSec = Number(process.env.BENCH_DURATION_SEC ?? 10)
const rounds = Number(process.env.BENCH_ROUNDS ?? 1)
const isRoutes = process.env.BENCH_ROUTES !== '0'
const isWorkers = process.env.BENCH_WORKERS !== '0'
if (!(durationSec > 0) || !Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(soakMinutes) || soakMinutes < 1) {
  console.error('bench: BENCH_DURATION_SEC must be a positive number, BENCH_ROUNDS and BENCH_SOAK_MINUTES positive integers')
  process.exit(2)
}
const missing = isSoak
  ? ['redis-server'].filter((tool) => !Bun.which(tool))
  : isScale
    ? []
    : [...['wrk', 'openssl'].filter((tool) => !Bun.which(tool)), ...(existsSync(NGINX) ? [] : ['nginx'])]
if (missing.length > 0) {
  console.error(`bench: not installed: ${missing.join(', ')} (apt-get install ${missing.join(' ')})`)
  process.exit(2)
}

const at = scratch('bench')
const dir = at.dir

// Other work on the machine skews every number: the load average before and after shows it.
const printLoad = (when: string) => console.log(`load average ${when}: ${loadavg().map((load) => load.toFixed(2)).join(' ')}`)
console.log(`Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs, ${new Date().toISOString()}`)
printLoad('at start')
let exitCode = 0
try {
  if (isSoak) await runSoak(dir, soakMinutes, at.onCleanUp)
  else if (isScale) await runScale(dir, at.onCleanUp)
  else await runThroughput(dir, { durationSec, rounds, isRoutes, isWorkers }, at.onCleanUp)
} catch (error) {
  console.error('bench failed:', error)
  exitCode = 1
} finally {
  await at.cleanUp()
}
printLoad('at end')
process.exit(exitCode)
