/**
 * @module Throughput mode: wrk against the bare backend, nginx (HTTP, HTTPS) and ours (HTTP, HTTPS), all
 * in one run. Each row also reports the CPU the proxy and the backend spent per request (from /proc).
 * A last row runs a minimal Bun.serve + fetch proxy (bench/minimal-proxy.ts): the floor of a
 * fetch-based forwarder in Bun, which is what our relay replaced.
 *
 * wrk sends the URL's host as SNI and cannot resolve names itself, and no `*.localhost` name resolves
 * on a stock glibc without nss-myhostname, so the HTTPS path uses a proxy named `127.0.0.1` reached at
 * https://127.0.0.1:PORT/: OpenSSL sends that as the server_name (RFC 6066 forbids IP literals there,
 * but our ClientHello reader accepts any LDH name). The HTTP path sends `Host: bench.test`.
 */
import { startBackend } from './backend.ts'
import { cpuSecondsOf, ownCpuSeconds, withChildren } from './cpu.ts'
import { startNginx } from './nginx.ts'
import { freePort, median, statusThrough, waitFor } from './net.ts'
import { createApi, issueAdminToken, ourServerEnv, startOurServer } from './our-server.ts'
import { printRatio, printRows, printValue, type Row } from './report.ts'
import { runWrk, warmUp, type WrkOptions } from './wrk.ts'

const HTTP_HOST = 'bench.test'
const HTTPS_HOST = '127.0.0.1'

export async function runThroughput(dir: string, durationSec: number, rounds: number, onCleanup: (stop: () => Promise<void> | void) => void): Promise<void> {
  const backend = startBackend()
  onCleanup(backend.stop)
  const backendUrl = backend.url
  const nginx = await startNginx(`${dir}/nginx`, backend.port)
  onCleanup(() => nginx.stop())

  const setup = await ourServerEnv(`${dir}/ours`)
  const server = await startOurServer(setup)
  onCleanup(() => server.stop())
  const api = createApi(setup, await issueAdminToken(setup))
  await api.createProxy(HTTP_HOST, backendUrl)
  await api.createProxy(HTTPS_HOST, backendUrl)
  await waitFor(async () => (await statusThrough(setup.httpPort, HTTP_HOST)) === 200, { what: `${HTTP_HOST} through our dispatcher` })
  await waitFor(async () => (await api.instancePorts(HTTPS_HOST)).https, { what: `${HTTPS_HOST} HTTPS instance` })

  const minimal = await startMinimalProxy(backendUrl)
  onCleanup(() => minimal.stop())

  const plain: WrkOptions = { durationSec }
  const withHost: WrkOptions = { durationSec, headers: { Host: HTTP_HOST } }
  const nginxPids = withChildren(nginx.pid)
  const paths: Path[] = [
    { name: 'bare backend', url: `${backendUrl}/`, options: plain, proxyPids: [] },
    { name: 'nginx HTTP', url: `http://127.0.0.1:${nginx.httpPort}/`, options: withHost, proxyPids: nginxPids },
    { name: 'nginx HTTPS', url: `https://127.0.0.1:${nginx.httpsPort}/`, options: plain, proxyPids: nginxPids },
    { name: 'ours HTTP', url: `http://127.0.0.1:${setup.httpPort}/`, options: withHost, proxyPids: [server.pid] },
    { name: 'ours HTTPS', url: `https://${HTTPS_HOST}:${setup.httpsPort}/`, options: plain, proxyPids: [server.pid] },
    { name: 'minimal Bun.serve + fetch proxy', url: `http://127.0.0.1:${minimal.port}/`, options: plain, proxyPids: [minimal.pid] },
  ]
  console.log(`wrk -t1 -c32, keep-alive, ${durationSec} s per path after a 2 s warm-up, ${rounds} round(s) (median shown); the backend answers 1 KiB`)
  const samples = new Map<string, Row[]>(paths.map((path) => [path.name, []]))
  for (let round = 1; round <= rounds; round++) {
    for (const path of paths) samples.get(path.name)!.push(await measure(path, durationSec))
    if (rounds > 1) console.log(`round ${round}: ${paths.map((path) => `${path.name} ${samples.get(path.name)!.at(-1)!.requestsPerSec.toFixed(0)}`).join(', ')}`)
  }
  const rows = paths.map((path) => medianRow(samples.get(path.name)!))
  const rowOf = (name: string) => rows.find((row) => row.name === name)!

  console.log('')
  printRows(rows)
  console.log('')
  printRatio('HTTP ', rowOf('ours HTTP'), rowOf('nginx HTTP'), 0.8)
  printRatio('HTTPS', rowOf('ours HTTPS'), rowOf('nginx HTTPS'), 0.7)
  printValue('our RSS after the run', `${server.rssMiB().toFixed(1)} MiB`)
  // Requests in flight when wrk stops at the end of a run are aborted by the client; see bench/README.md.
  printValue('our server logged', server.logSummary())
}

interface Path {
  readonly name: string
  readonly url: string
  readonly options: WrkOptions
  /** Processes whose CPU time is the proxy's; empty for the bare backend. */
  readonly proxyPids: readonly number[]
}

/** Warm-up, then the measured run with the CPU time the proxy and the backend spent during it. */
async function measure(path: Path, durationSec: number): Promise<Row> {
  await warmUp(path.url, path.options)
  const [proxyBefore, backendBefore] = [cpuSecondsOf(path.proxyPids), ownCpuSeconds()]
  const result = await runWrk(path.url, path.options)
  const proxyCpuSec = cpuSecondsOf(path.proxyPids) - proxyBefore
  const perRequestUs = (cpuSec: number) => (cpuSec / result.requests) * 1e6
  return {
    name: path.name,
    requestsPerSec: result.requestsPerSec,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    proxyUsPerRequest: path.proxyPids.length > 0 ? perRequestUs(proxyCpuSec) : null,
    proxyCores: path.proxyPids.length > 0 ? proxyCpuSec / durationSec : null,
    backendUsPerRequest: perRequestUs(ownCpuSeconds() - backendBefore),
  }
}

/** Each number is the median over the rounds on its own. */
function medianRow(rounds: readonly Row[]): Row {
  const of = (pick: (row: Row) => number) => median(rounds.map(pick))
  const ofNullable = (pick: (row: Row) => number | null) => (pick(rounds[0]!) === null ? null : of((row) => pick(row) ?? 0))
  return {
    name: rounds[0]!.name,
    requestsPerSec: of((row) => row.requestsPerSec),
    p50Ms: of((row) => row.p50Ms),
    p99Ms: of((row) => row.p99Ms),
    proxyUsPerRequest: ofNullable((row) => row.proxyUsPerRequest),
    proxyCores: ofNullable((row) => row.proxyCores),
    backendUsPerRequest: of((row) => row.backendUsPerRequest),
  }
}

/** bench/minimal-proxy.ts in its own process; resolves once it answers. */
async function startMinimalProxy(targetUrl: string): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const port = await freePort()
  const proc = Bun.spawn([process.execPath, `${import.meta.dir}/minimal-proxy.ts`], { env: { ...process.env, PORT: String(port), TARGET: targetUrl }, stdout: 'ignore', stderr: 'inherit' })
  await waitFor(async () => (await statusThrough(port, 'minimal.test')) === 200, { what: 'the minimal proxy' })
  return {
    port,
    pid: proc.pid,
    async stop() {
      proc.kill('SIGTERM')
      await proc.exited
    },
  }
}
