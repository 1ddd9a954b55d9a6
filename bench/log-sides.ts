/**
 * @module What the request log's paired tools share (log-pair.ts, log-compare.ts): a side, a
 * server of ours with the proxies `bench.test` (HTTP) and `127.0.0.1` (HTTPS) on the backend, the wrk
 * target for either protocol, and runs alternated between sides.
 */
import { join } from 'node:path'
import { cpuSecondsOf, stolenCpuSeconds } from './cpu.ts'
import { median, statusThrough, waitFor } from './net.ts'
import { createApi, issueAdminToken, ourServerEnv, startOurServer, type OurServer } from './our-server.ts'
import type { Scratch } from './scratch.ts'
import { runWrk, type WrkOptions } from './wrk.ts'

export const HTTP_HOST = 'bench.test'
/** As in throughput.ts: wrk sends the URL's host as SNI, and 127.0.0.1 is what it can reach. */
export const HTTPS_HOST = '127.0.0.1'

export type Protocol = 'HTTP' | 'HTTPS'

export interface Side {
  readonly name: string
  readonly server: OurServer
  readonly httpPort: number
  readonly httpsPort: number
}

/** A server of ours in its own folder of the scratch directory; `main` runs another checkout's src/main.ts. */
export async function startSide(at: Pick<Scratch, 'dir' | 'onCleanUp'>, name: string, backendUrl: string, env: Record<string, string>, main?: string): Promise<Side> {
  const setup = { ...(await ourServerEnv(join(at.dir, name.replace(/[^\w.-]+/g, '-')), env)), main }
  const server = await startOurServer(setup)
  at.onCleanUp(() => server.stop())
  const api = createApi(setup, await issueAdminToken(setup))
  await api.createProxy(HTTP_HOST, backendUrl)
  await api.createProxy(HTTPS_HOST, backendUrl)
  await waitFor(async () => (await statusThrough(setup.httpPort, HTTP_HOST)) === 200, { what: `${HTTP_HOST} through ${name}` })
  await waitFor(async () => (await api.instancePorts(HTTPS_HOST)).https, { what: `${HTTPS_HOST} HTTPS instance of ${name}` })
  return { name, server, httpPort: setup.httpPort, httpsPort: setup.httpsPort }
}

/** What wrk is pointed at: the same request on every side. */
export function wrkTarget(side: Side, protocol: Protocol, durationSec: number): [string, WrkOptions] {
  return protocol === 'HTTP'
    ? [`http://127.0.0.1:${side.httpPort}/`, { durationSec, headers: { Host: HTTP_HOST } }]
    : [`https://${HTTPS_HOST}:${side.httpsPort}/`, { durationSec }]
}

/** One wrk run against a side, with the CPU its server spent per request meanwhile. */
export interface SideRun {
  readonly requestsPerSec: number
  readonly p99Ms: number
  readonly proxyUsPerRequest: number
}

/**
 * wrk against each side in turn, `runs` times, the order reversed every run so that drift (a host that
 * slows or speeds up) falls on every side alike; `runs[side][k]` are comparable across sides for each k.
 * Also the share of the machine's CPU the hypervisor gave to others meanwhile.
 */
export async function alternate(sides: readonly Side[], protocol: Protocol, runs: number, seconds: number): Promise<{ runs: Map<Side, SideRun[]>; stolenShare: number }> {
  const measured = new Map(sides.map((side) => [side, [] as SideRun[]]))
  const stolenBefore = stolenCpuSeconds()
  const startedAt = performance.now()
  for (let run = 0; run < runs; run++) {
    for (const side of run % 2 === 0 ? sides : [...sides].reverse()) measured.get(side)!.push(await measureSide(side, protocol, seconds))
  }
  const elapsedSec = (performance.now() - startedAt) / 1000
  return { runs: measured, stolenShare: (stolenCpuSeconds() - stolenBefore) / (elapsedSec * navigator.hardwareConcurrency) }
}

/** The median of a side's runs against the baseline's, run by run (alternate's pairing). */
export function medianRatio(own: readonly SideRun[], baseline: readonly SideRun[], pick: (run: SideRun) => number): number {
  return median(own.map((run, k) => pick(run) / pick(baseline[k]!)))
}

/**
 * Duet runs (Bulej et al., "Duet Benchmarking: Improving Measurement Accuracy in the Cloud", ICPE 2020):
 * wrk against two sides at the same time, each with half the connections, so that whatever the host
 * does meanwhile (another tenant, a frequency change, the kernel's placement of threads) falls on both
 * in the same seconds. On this VM it takes the spread of a ratio from some 9 % a run (sides measured one
 * after the other) to 2-3 %.
 */
export async function duet(a: Side, b: Side, protocol: Protocol, seconds: number, connections: number, cores?: readonly [string, string]): Promise<[SideRun, SideRun]> {
  if (cores) {
    pinServer(a, cores[0])
    pinServer(b, cores[1])
  }
  const [first, second] = await Promise.all([measureSide(a, protocol, seconds, connections), measureSide(b, protocol, seconds, connections)])
  return [first, second]
}

/** Keeps every thread of a side's server on these CPUs (taskset(1) list, e.g. "1" or "0-1"). */
export function pinServer(side: Side, cpus: string): void {
  const done = Bun.spawnSync(['taskset', '--all-tasks', '--pid', '--cpu-list', cpus, String(side.server.pid)], { stdout: 'ignore', stderr: 'pipe' })
  if (done.exitCode !== 0) throw new Error(`taskset ${cpus} for ${side.name}: ${done.stderr.toString().trim()}`)
}

/** One wrk run against a side (32 connections unless told), and the CPU its server spent per request meanwhile. */
async function measureSide(side: Side, protocol: Protocol, seconds: number, connections?: number): Promise<SideRun> {
  const [url, options] = wrkTarget(side, protocol, seconds)
  const cpuBefore = cpuSecondsOf([side.server.pid])
  const result = await runWrk(url, { ...options, connections })
  return { requestsPerSec: result.requestsPerSec, p99Ms: result.p99Ms, proxyUsPerRequest: ((cpuSecondsOf([side.server.pid]) - cpuBefore) / result.requests) * 1e6 }
}
