/**
 * @module `bun bench/log-compare.ts`: several servers of ours on one backend, measured in turn, for the
 * request log's goal (#12) and for comparing versions in the same minutes. wrk runs against each side
 * for LOG_COMPARE_SEC, round after round (LOG_COMPARE_ROUNDS a protocol), the order reversed every round
 * so drift falls on all sides alike; each side's ratios against the first side are the medians of the
 * per-round ratios.
 *
 * LOG_COMPARE_SIDES is a JSON object `{ "name": { "env": {…}, "main": "/other/checkout/src/main.ts" } }`
 * (the first side is the baseline; `main` runs another checkout's server); by default the log off
 * against the log on, as bench/log-ab.ts does in pairs.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBackend } from './backend.ts'
import { stolenCpuSeconds } from './cpu.ts'
import { median, statusThrough, waitFor } from './net.ts'
import { createApi, issueAdminToken, ourServerEnv, startOurServer } from './our-server.ts'
import { runWrk, warmUp, type WrkOptions } from './wrk.ts'

interface SideSpec {
  readonly env?: Record<string, string>
  readonly main?: string
}

interface Side {
  readonly name: string
  readonly httpPort: number
  readonly httpsPort: number
}

const ROUNDS = Number(process.env.LOG_COMPARE_ROUNDS ?? 16)
const SECONDS = Number(process.env.LOG_COMPARE_SEC ?? 2)
const SPECS = JSON.parse(process.env.LOG_COMPARE_SIDES ?? '{"log off":{"env":{"REQUEST_LOG":"false"}},"log on":{}}') as Record<string, SideSpec>
const HTTP_HOST = 'bench.test'
/** As in throughput.ts: wrk sends the URL's host as SNI, and 127.0.0.1 is what it can reach. */
const HTTPS_HOST = '127.0.0.1'

const dir = mkdtempSync(join(tmpdir(), 'ohp-log-compare-'))
const cleanups: (() => Promise<void> | void)[] = []
const cleanUp = async () => {
  for (const stop of cleanups.splice(0).reverse()) await Promise.resolve(stop()).catch((error) => console.error('log-compare: cleanup failed:', error))
  rmSync(dir, { recursive: true, force: true })
}
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)))

async function startSide(name: string, spec: SideSpec, backendUrl: string, index: number): Promise<Side> {
  const setup = { ...(await ourServerEnv(join(dir, `side-${index}`), spec.env ?? {})), main: spec.main }
  const server = await startOurServer(setup)
  cleanups.push(() => server.stop())
  const api = createApi(setup, await issueAdminToken(setup))
  await api.createProxy(HTTP_HOST, backendUrl)
  await api.createProxy(HTTPS_HOST, backendUrl)
  await waitFor(async () => (await statusThrough(setup.httpPort, HTTP_HOST)) === 200, { what: `${HTTP_HOST} through ${name}` })
  await waitFor(async () => (await api.instancePorts(HTTPS_HOST)).https, { what: `${HTTPS_HOST} HTTPS instance of ${name}` })
  return { name, httpPort: setup.httpPort, httpsPort: setup.httpsPort }
}

function target(side: Side, protocol: 'HTTP' | 'HTTPS'): [string, WrkOptions] {
  return protocol === 'HTTP'
    ? [`http://127.0.0.1:${side.httpPort}/`, { durationSec: SECONDS, headers: { Host: HTTP_HOST } }]
    : [`https://${HTTPS_HOST}:${side.httpsPort}/`, { durationSec: SECONDS }]
}

async function compare(sides: readonly Side[], protocol: 'HTTP' | 'HTTPS'): Promise<void> {
  for (const side of sides) await warmUp(...target(side, protocol))
  const runs = new Map(sides.map((side) => [side, [] as { requestsPerSec: number; p99Ms: number }[]]))
  const stolenBefore = stolenCpuSeconds()
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) runs.get(side)!.push(await runWrk(...target(side, protocol)))
  }
  const stolen = (stolenCpuSeconds() - stolenBefore) / (ROUNDS * sides.length * SECONDS * navigator.hardwareConcurrency)
  const baseline = runs.get(sides[0]!)!
  console.log(`${protocol}: ${ROUNDS} rounds of ${SECONDS} s, ${(stolen * 100).toFixed(0)} % of the CPU stolen by the host`)
  for (const side of sides) {
    const own = runs.get(side)!
    const ratio = (pick: (run: { requestsPerSec: number; p99Ms: number }) => number) => median(own.map((run, round) => pick(run) / pick(baseline[round]!)))
    console.log(
      `  ${side.name.padEnd(16)} ${median(own.map((run) => run.requestsPerSec)).toFixed(0).padStart(7)} req/s, p99 ${median(own.map((run) => run.p99Ms)).toFixed(2)} ms; ` +
        `against ${sides[0]!.name}: req/s ${ratio((run) => run.requestsPerSec).toFixed(3)} ×, p99 ${ratio((run) => run.p99Ms).toFixed(3)} ×`,
    )
  }
}

console.log(`Bun ${Bun.version}, ${new Date().toISOString()}, wrk -t1 -c32, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`)
let exitCode = 0
try {
  const backend = startBackend()
  cleanups.push(backend.stop)
  const sides: Side[] = []
  for (const [index, [name, spec]] of Object.entries(SPECS).entries()) sides.push(await startSide(name, spec, backend.url, index))
  await compare(sides, 'HTTP')
  await compare(sides, 'HTTPS')
} catch (error) {
  console.error('log-compare failed:', error)
  exitCode = 1
} finally {
  await cleanUp()
}
process.exit(exitCode)
