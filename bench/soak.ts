/**
 * @module Soak mode (`bun run bench -- --soak`, not in CI): our server on Redis for 10 minutes
 * (BENCH_SOAK_MINUTES) of mixed traffic while things break around it. Answers three questions: does any
 * request get lost outside the backend's own down windows (goal 0), does the memory grow (RSS at minute 1
 * against the last minute, goal ≤ 10 %), and what the p99 is, minute by minute.
 *
 * Traffic (modest on purpose: correctness and memory, not throughput): HTTP 200 and HTTPS 150 requests/s
 * (keep-alive; small GETs, 4 KiB echoed POSTs, 64 KiB GETs, each answer checked), 10 WebSocket echo
 * sessions (10 messages/s each, 10 s long) and 10 SSE streams (an event every 100 ms each, 30 s long) at
 * a time, plus 2 of each that last the whole run (through a second proxy, whose backend never goes down);
 * half of each over TLS; and 2,000 idle connections held from the start (plus 100 silent ones, which the
 * idle timeout should close).
 *
 * Faults, at fixed fractions of the run (10 minutes: the backend killed for 5 s every 2 minutes, at 1:30,
 * 3:30, 5:30 and 7:30; Redis restarted at 3:00; the certificate swapped at 7:00). The flaps are off the
 * whole minutes on purpose: a connection cut at a round age (Bun's sockets time out at 120 s unless told
 * otherwise) must not hide inside a down window.
 */
import { mkdirSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { cpuSecondsOf } from './cpu.ts'
import { freePort, statusThrough, statusThroughTls, waitFor } from './net.ts'
import { createApi, issueAdminToken, ourServerEnv, startOurServer } from './our-server.ts'
import { startSoakBackend } from './soak-backend.ts'
import { flapBackend, restartRedis, swapCertificate, watchHealth, type CertificateSwap, type RedisRestart } from './soak-faults.ts'
import { openIdleConnections } from './soak-idle.ts'
import { readServerNumbers } from './soak-metrics.ts'
import { SoakRecord } from './soak-record.ts'
import { startSoakRedis } from './soak-redis.ts'
import { printMinute, printSummary } from './soak-report.ts'
import { startRequestLoad } from './soak-requests.ts'
import { startEventStreams, startWebSocketSessions } from './soak-streams.ts'

const HOST = 'soak.test'
/** The long-lived streams' proxy, whose backend never goes down. */
const STEADY_HOST = 'steady.soak.test'
const KEPT_IDLE = 2_000
const SILENT_IDLE = 100
const HTTP_PER_SEC = 200
const HTTPS_PER_SEC = 150
/** Per scheme: 5 over HTTP and 5 over HTTPS of each. */
const WS_SESSIONS = 5
const SSE_STREAMS = 5

export async function runSoak(dir: string, minutes: number, onCleanup: (stop: () => Promise<void> | void) => void): Promise<void> {
  const redis = await startSoakRedis(makeDir(`${dir}/redis`))
  onCleanup(redis.stop)
  const backend = await startSoakBackend(await freePort())
  onCleanup(backend.stop)
  const steadyBackend = await startSoakBackend(await freePort())
  onCleanup(steadyBackend.stop)
  const setup = await ourServerEnv(`${dir}/server`, { REDIS_URL: redis.url })
  const server = await startOurServer(setup)
  onCleanup(() => server.stop())
  const api = createApi(setup, await issueAdminToken(setup))
  for (const [host, target] of [[HOST, backend], [STEADY_HOST, steadyBackend]] as const) {
    await api.createProxy(host, target.url)
    await waitFor(async () => (await statusThrough(setup.httpPort, host)) === 200 && (await statusThroughTls(setup.httpsPort, host)) === 200, { what: `${host} over HTTP and HTTPS`, timeoutMs: 30_000 })
  }
  console.log(`our server (pid ${server.pid}, HTTP ${setup.httpPort}, HTTPS ${setup.httpsPort}) on Redis ${redis.url}; RSS ${server.rssMiB().toFixed(1)} MiB`)
  console.log(`proxies: ${HOST} → ${backend.url} (flaps), ${STEADY_HOST} → ${steadyBackend.url} (never down: the long-lived streams)`)

  const openingStarted = performance.now()
  const idle = await openIdleConnections({ httpPort: setup.httpPort, httpsPort: setup.httpsPort, host: HOST, kept: KEPT_IDLE, silent: SILENT_IDLE })
  onCleanup(idle.close)
  console.log(`${KEPT_IDLE + SILENT_IDLE} idle connections open (half TLS) after ${((performance.now() - openingStarted) / 1000).toFixed(1)} s; RSS ${server.rssMiB().toFixed(1)} MiB`)
  console.log(`running ${minutes} min: HTTP ${HTTP_PER_SEC}/s, HTTPS ${HTTPS_PER_SEC}/s, ${WS_SESSIONS * 2} WebSocket sessions and ${SSE_STREAMS * 2} SSE streams at a time (+ 2 of each long-lived)`)
  console.log('per minute: ok/failed per channel | latencies | our server\n')

  const record = new SoakRecord(performance.now(), minutes)
  idle.startCounting(record)
  const health = watchHealth(record, setup.apiUrl)
  const traffic = [
    startRequestLoad(record, { scheme: 'http', port: setup.httpPort, host: HOST, perSec: HTTP_PER_SEC }),
    startRequestLoad(record, { scheme: 'https', port: setup.httpsPort, host: HOST, perSec: HTTPS_PER_SEC }),
    ...(['http', 'https'] as const).flatMap((scheme) => {
      const options = { scheme, port: scheme === 'http' ? setup.httpPort : setup.httpsPort, host: HOST, count: WS_SESSIONS }
      return [
        startWebSocketSessions(record, options),
        startEventStreams(record, { ...options, count: SSE_STREAMS }),
        startWebSocketSessions(record, { ...options, host: STEADY_HOST, count: 1, isLong: true }),
        startEventStreams(record, { ...options, host: STEADY_HOST, count: 1, isLong: true }),
      ]
    }),
  ]

  const totalMs = minutes * 60_000
  let redisRestart: RedisRestart | null = null
  let swap: CertificateSwap | null = null
  const at = (fraction: number, what: string, fault: () => Promise<unknown>) =>
    Bun.sleep(Math.max(0, fraction * totalMs - record.nowMs()))
      .then(fault)
      .catch((error) => record.note(`${what} FAILED: ${error}`))
  const faults = [
    ...[0.15, 0.35, 0.55, 0.75].map((fraction) => at(fraction, 'backend flap', () => flapBackend(record, backend))),
    at(0.3, 'Redis restart', async () => void (redisRestart = await restartRedis(record, redis))),
    at(0.7, 'certificate swap', async () => void (swap = await swapCertificate(record, api, setup.httpsPort, HOST))),
  ]

  let cpuBefore = cpuSecondsOf([server.pid])
  for (let index = 0; index < minutes; index++) {
    await Bun.sleep(Math.max(0, (index + 1) * 60_000 - record.nowMs()))
    const minute = record.minutes[index]!
    const cpuNow = cpuSecondsOf([server.pid])
    minute.rssMiB = server.rssMiB()
    minute.cpuSec = cpuNow - cpuBefore
    minute.load1 = loadavg()[0]!
    minute.server = await readServerNumbers(api)
    cpuBefore = cpuNow
    printMinute(record, index)
  }

  await Promise.all(faults)
  await Promise.all(traffic.map((part) => part.stop()))
  health.stop()
  const idleReport = idle.report()
  idle.close()
  printSummary({ record, redis: redisRestart, swap, health, idle: idleReport, kept: KEPT_IDLE, silent: SILENT_IDLE, serverLog: server.logSummary() })
  console.log(`\nmachine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Bun ${Bun.version}`)
}

function makeDir(path: string): string {
  mkdirSync(path, { recursive: true })
  return path
}
