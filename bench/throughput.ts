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
 *
 * Routes (unless BENCH_ROUTES=0): two more servers of ours, one with 10,000 mixed routes and one with 100
 * regexes that have no literal start (bench/route-sets.ts), each created through its own API, so their
 * rows are measured in the same rounds as the 0-route server and nginx.
 *
 * The request log's goal is measured by three servers of its own, in short alternated runs (bench/log-pair.ts).
 */
import { startAuthServer, uncachedVerifyUs } from './auth.ts'
import { startBackend, type BackendTally } from './backend.ts'
import { cpuSecondsOf, ownCpuSeconds, withChildren } from './cpu.ts'
import { measureLogPair, printLogCost, startLogPair } from './log-pair.ts'
import { startNginx } from './nginx.ts'
import { freePort, median, statusOfRequest, statusThrough, waitFor } from './net.ts'
import { createApi, issueAdminToken, ourServerEnv, startOurServer, type OurServer } from './our-server.ts'
import { printRatio, printRouteCost, printRows, printValue, type Row } from './report.ts'
import { createRoutes, literalLessRoutes, mixedRoutes, ROUTED_PATH, ROUTED_PREFIX, UNROUTED_PATH, VIA_ROUTE_PREFIX, type RouteBody } from './route-sets.ts'
import { printWorkers, startWorkersTargets, WORKERS_ROWS } from './workers.ts'
import { runWrk, warmUp, type WrkOptions } from './wrk.ts'

const HTTP_HOST = 'bench.test'
const HTTPS_HOST = '127.0.0.1'

export interface ThroughputOptions {
  readonly durationSec: number
  readonly rounds: number
  /** Also measure ours with 10,000 routes and with 100 literal-less regexes. */
  readonly isRoutes: boolean
  /** Also measure ours with `--workers 2` and nginx with 2 workers (bench/workers.ts). */
  readonly isWorkers: boolean
}

export async function runThroughput(dir: string, options: ThroughputOptions, onCleanup: (stop: () => Promise<void> | void) => void): Promise<void> {
  const { durationSec, rounds } = options
  const backend = startBackend(VIA_ROUTE_PREFIX)
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

  const routed = options.isRoutes
    ? {
        mixed: await startRoutedServer(`${dir}/ours-mixed`, '10,000 mixed routes', mixedRoutes(HTTP_HOST, backendUrl), backendUrl, onCleanup),
        literalLess: await startRoutedServer(`${dir}/ours-literal-less`, '100 literal-less regexes', literalLessRoutes(), backendUrl, onCleanup),
      }
    : null

  const authed = await startAuthServer(`${dir}/ours-auth`, HTTPS_HOST, backendUrl, onCleanup)
  const logPair = await startLogPair(dir, backendUrl, onCleanup)

  const handOverControl = routed ? await checkHandOverControl(routed.mixed.httpPort, backend.tally) : ''

  const workers = options.isWorkers ? await startWorkersTargets(dir, HTTP_HOST, backendUrl, backend.port, onCleanup) : null

  const minimal = await startMinimalProxy(backendUrl)
  onCleanup(() => minimal.stop())

  const plain: WrkOptions = { durationSec }
  const withHost: WrkOptions = { durationSec, headers: { Host: HTTP_HOST } }
  const nginxPids = withChildren(nginx.pid)
  const oursHttp = (name: string, port: number, path: string, pid: number): Path => ({ name, url: `http://127.0.0.1:${port}${path}`, options: withHost, proxyPids: [pid] })
  const routePaths: Path[] = routed
    ? [
        oursHttp(ROUTE_ROWS.zeroUnrouted, setup.httpPort, UNROUTED_PATH, server.pid),
        oursHttp(ROUTE_ROWS.mixedUnrouted, routed.mixed.httpPort, UNROUTED_PATH, routed.mixed.server.pid),
        oursHttp(ROUTE_ROWS.mixedRouted, routed.mixed.httpPort, ROUTED_PATH, routed.mixed.server.pid),
        oursHttp(ROUTE_ROWS.literalLess, routed.literalLess.httpPort, UNROUTED_PATH, routed.literalLess.server.pid),
      ]
    : []
  const paths: Path[] = [
    { name: 'bare backend', url: `${backendUrl}/`, options: plain, proxyPids: [] },
    { name: 'nginx HTTP', url: `http://127.0.0.1:${nginx.httpPort}/`, options: withHost, proxyPids: nginxPids },
    { name: 'nginx HTTPS', url: `https://127.0.0.1:${nginx.httpsPort}/`, options: plain, proxyPids: nginxPids },
    oursHttp('ours HTTP', setup.httpPort, '/', server.pid),
    ...(workers
      ? [
          { name: WORKERS_ROWS.ours, url: `http://127.0.0.1:${workers.ours.httpPort}/`, options: withHost, proxyPids: workers.ours.pids() },
          { name: WORKERS_ROWS.nginx, url: `http://127.0.0.1:${workers.nginx.httpPort}/`, options: withHost, proxyPids: workers.nginx.pids() },
        ]
      : []),
    ...routePaths,
    { name: 'ours HTTPS', url: `https://${HTTPS_HOST}:${setup.httpsPort}/`, options: plain, proxyPids: [server.pid] },
    // The same request (the same bytes, token included) with auth off: what checking it costs, apart from its size.
    { name: AUTH_BASELINE_ROW, url: `https://${HTTPS_HOST}:${setup.httpsPort}/`, options: { durationSec, headers: { Authorization: authed.authorization } }, proxyPids: [server.pid] },
    { name: AUTH_ROW, url: `https://${HTTPS_HOST}:${authed.httpsPort}/`, options: { durationSec, headers: { Authorization: authed.authorization } }, proxyPids: [authed.server.pid] },
    { name: 'minimal Bun.serve + fetch proxy', url: `http://127.0.0.1:${minimal.port}/`, options: plain, proxyPids: [minimal.pid] },
  ]
  console.log(`wrk -t1 -c32, keep-alive, ${durationSec} s per path after a 2 s warm-up, ${rounds} round(s) (median shown); the backend answers 1 KiB`)
  if (routed) {
    const forwardedPath = `${VIA_ROUTE_PREFIX}${ROUTED_PATH.slice(ROUTED_PREFIX.length)}`
    console.log(
      `route rows: "unrouted" requests ${UNROUTED_PATH} (no route matches), ` +
        `"routed" ${ROUTED_PATH} (the prefix route ${ROUTED_PREFIX} strips itself and sends it to the backend as ${forwardedPath})`,
    )
  }
  const samples = new Map<string, Row[]>(paths.map((path) => [path.name, []]))
  const received = new Map<string, BackendTally[]>(paths.map((path) => [path.name, []]))
  for (let round = 1; round <= rounds; round++) {
    for (const path of paths) {
      const measured = await measure(path, durationSec, backend.tally)
      samples.get(path.name)!.push(measured.row)
      received.get(path.name)!.push(measured.received)
    }
    await measureLogPair(logPair, round)
    if (rounds > 1) console.log(`round ${round}: ${paths.map((path) => `${path.name} ${samples.get(path.name)!.at(-1)!.requestsPerSec.toFixed(0)}`).join(', ')}`)
  }
  const rows = paths.map((path) => medianRow(samples.get(path.name)!))
  const rowOf = (name: string) => rows.find((row) => row.name === name)!

  console.log('')
  printRows(rows)
  console.log('')
  printRatio('HTTP ', rowOf('ours HTTP'), rowOf('nginx HTTP'), 0.85)
  printRatio('HTTPS', rowOf('ours HTTPS'), rowOf('nginx HTTPS'), 0.7)
  if (workers) {
    console.log('')
    printWorkers(rowOf)
  }
  console.log('')
  printLogCost(logPair)
  console.log('')
  console.log('auth on with a valid token (cached), against auth off:')
  const authWidth = Math.max(AUTH_ROW.length, AUTH_BASELINE_ROW.length) + 1
  console.log(`  the same request, token sent but not checked (${rowOf(AUTH_BASELINE_ROW).requestsPerSec.toFixed(0)} req/s):`)
  printRouteCost(rowOf(AUTH_ROW), rowOf(AUTH_BASELINE_ROW), authWidth, 0.9)
  console.log(`  a request without the token (ours HTTPS, ${rowOf('ours HTTPS').requestsPerSec.toFixed(0)} req/s): the token's ${authed.authorization.length} bytes included`)
  printRouteCost(rowOf(AUTH_ROW), rowOf('ours HTTPS'), authWidth, 0.9)
  const uncached = await uncachedVerifyUs()
  printValue('  a token not seen before (full verification: ES256 signature, claims, denylist read; in-process, median of 5 batches)', `${uncached.perRequestUs.toFixed(1)} µs per request, ${uncached.count} distinct tokens`)
  if (routed) {
    console.log('')
    const baseline = rowOf('ours HTTP')
    console.log(`routes, against ours HTTP with 0 routes on / (${baseline.requestsPerSec.toFixed(0)} req/s, ${baseline.proxyUsPerRequest!.toFixed(1)} µs/req):`)
    const width = Math.max(...routePaths.map((path) => path.name.length)) + 1
    printRouteCost(rowOf(ROUTE_ROWS.zeroUnrouted), baseline, width)
    printRouteCost(rowOf(ROUTE_ROWS.mixedUnrouted), baseline, width, 0.9)
    printRouteCost(rowOf(ROUTE_ROWS.mixedRouted), baseline, width, 0.9)
    printRouteCost(rowOf(ROUTE_ROWS.literalLess), baseline, width, 0.8)
    console.log('')
    console.log('stayed on the relay? what the backend received during the measured runs (summed over rounds):')
    for (const path of [paths.find((path) => path.name === 'ours HTTP')!, ...routePaths]) {
      printReceived(path.name, width, samples.get(path.name)!, received.get(path.name)!)
    }
    printValue('  control', handOverControl)
    printValue(`creating ${routed.mixed.label} through the API`, routed.mixed.createdIn)
    printValue(`creating ${routed.literalLess.label} through the API`, routed.literalLess.createdIn)
    printValue(`RSS after the run with ${routed.mixed.label}`, `${routed.mixed.server.rssMiB().toFixed(1)} MiB`)
    printValue(`RSS after the run with ${routed.literalLess.label}`, `${routed.literalLess.server.rssMiB().toFixed(1)} MiB`)
  }
  printValue('our RSS after the run', `${server.rssMiB().toFixed(1)} MiB`)
  // Requests in flight when wrk stops at the end of a run are aborted by the client; see bench/README.md.
  printValue('our server logged', server.logSummary())
  if (routed) {
    printValue(`with ${routed.mixed.label}, it logged`, routed.mixed.server.logSummary())
    printValue(`with ${routed.literalLess.label}, it logged`, routed.literalLess.server.logSummary())
  }
}

const AUTH_ROW = 'ours HTTPS auth on, valid token (cached)'
const AUTH_BASELINE_ROW = 'ours HTTPS auth off, same token sent'

const ROUTE_ROWS = {
  zeroUnrouted: 'ours HTTP 0 routes, unrouted path',
  mixedUnrouted: 'ours HTTP 10,000 routes, unrouted path',
  mixedRouted: 'ours HTTP 10,000 routes, routed path',
  literalLess: 'ours HTTP 100 literal-less regexes, unrouted path',
} as const

interface RoutedServer {
  readonly label: string
  readonly server: OurServer
  readonly httpPort: number
  /** "12.3 s (16 POSTs in flight)". */
  readonly createdIn: string
}

/** Another server of ours with the proxy HTTP_HOST and the given routes, all created through its own API. */
async function startRoutedServer(dir: string, label: string, routes: readonly RouteBody[], backendUrl: string, onCleanup: (stop: () => Promise<void> | void) => void): Promise<RoutedServer> {
  const setup = await ourServerEnv(dir)
  const server = await startOurServer(setup)
  onCleanup(() => server.stop())
  const api = createApi(setup, await issueAdminToken(setup))
  await api.createProxy(HTTP_HOST, backendUrl)
  const created = await createRoutes(api, routes)
  const listed = await api.request('GET', '/routes')
  const count = listed.status === 200 ? ((await listed.json()) as unknown[]).length : -1
  if (count !== routes.length) throw new Error(`${label}: GET /routes lists ${count} routes, expected ${routes.length}`)
  await waitFor(async () => (await statusThrough(setup.httpPort, HTTP_HOST)) === 200, { what: `${HTTP_HOST} through the server with ${label}` })
  const createdIn = `${created.seconds.toFixed(1)} s (${created.concurrency} POSTs in flight)`
  console.log(`created ${label} through the API in ${createdIn}`)
  return { label, server, httpPort: setup.httpPort, createdIn }
}

/**
 * The relay never sends a Connection field and a handed-over request always has one (bench/backend.ts),
 * so 0 of them means every request of the run stayed on the relay.
 */
function printReceived(name: string, width: number, rows: readonly Row[], tallies: readonly BackendTally[]): void {
  const sum = (pick: (tally: BackendTally) => number) => tallies.reduce((total, tally) => total + pick(tally), 0)
  const completed = rows.reduce((total, row) => total + row.requests, 0)
  const handedOver = sum((tally) => tally.withConnectionField)
  console.log(
    `  ${name.padEnd(width)} ${sum((tally) => tally.requests)} received (wrk completed ${completed}), ` +
      `${sum((tally) => tally.underPrefix)} under ${VIA_ROUTE_PREFIX}/, ${handedOver} with a Connection field: ${handedOver === 0 ? 'all on the relay' : 'NOT all on the relay'}`,
  )
}

/**
 * The control for printReceived: an HTTP/1.0 request is always handed over (the relay speaks HTTP/1.1
 * only), and the hand-over server makes the same decision, so it must reach the backend under
 * VIA_ROUTE_PREFIX with a Connection field. If it did not, a count of 0 above would prove nothing.
 */
async function checkHandOverControl(httpPort: number, tally: () => BackendTally): Promise<string> {
  const before = tally()
  const status = await statusOfRequest(httpPort, `GET ${ROUTED_PATH} HTTP/1.0\r\nHost: ${HTTP_HOST}\r\n\r\n`)
  const after = tally()
  const isVisible = status === 200 && after.withConnectionField - before.withConnectionField === 1 && after.underPrefix - before.underPrefix === 1
  const request = `one HTTP/1.0 request for ${ROUTED_PATH} (always handed over) answered ${status}`
  return isVisible
    ? `${request} and reached the backend under ${VIA_ROUTE_PREFIX}/ with a Connection field`
    : `${request} but did NOT reach the backend under ${VIA_ROUTE_PREFIX}/ with a Connection field: the relay check above cannot tell`
}

interface Path {
  readonly name: string
  readonly url: string
  readonly options: WrkOptions
  /** Processes whose CPU time is the proxy's; empty for the bare backend. */
  readonly proxyPids: readonly number[]
}

/** Warm-up, then the measured run with the CPU time the proxy and the backend spent during it and what the backend received. */
async function measure(path: Path, durationSec: number, backendTally: () => BackendTally): Promise<{ row: Row; received: BackendTally }> {
  await warmUp(path.url, path.options)
  const [proxyBefore, backendBefore, tallyBefore] = [cpuSecondsOf(path.proxyPids), ownCpuSeconds(), backendTally()]
  const result = await runWrk(path.url, path.options)
  const proxyCpuSec = cpuSecondsOf(path.proxyPids) - proxyBefore
  const backendCpuSec = ownCpuSeconds() - backendBefore
  const tallyAfter = backendTally()
  const perRequestUs = (cpuSec: number) => (cpuSec / result.requests) * 1e6
  const received: BackendTally = {
    requests: tallyAfter.requests - tallyBefore.requests,
    withConnectionField: tallyAfter.withConnectionField - tallyBefore.withConnectionField,
    underPrefix: tallyAfter.underPrefix - tallyBefore.underPrefix,
  }
  const row: Row = {
    name: path.name,
    requests: result.requests,
    requestsPerSec: result.requestsPerSec,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    proxyUsPerRequest: path.proxyPids.length > 0 ? perRequestUs(proxyCpuSec) : null,
    proxyCores: path.proxyPids.length > 0 ? proxyCpuSec / durationSec : null,
    backendUsPerRequest: perRequestUs(backendCpuSec),
  }
  return { row, received }
}

/** Each number is the median over the rounds on its own. */
function medianRow(rounds: readonly Row[]): Row {
  const of = (pick: (row: Row) => number) => median(rounds.map(pick))
  const ofNullable = (pick: (row: Row) => number | null) => (pick(rounds[0]!) === null ? null : of((row) => pick(row) ?? 0))
  return {
    name: rounds[0]!.name,
    requests: of((row) => row.requests),
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
