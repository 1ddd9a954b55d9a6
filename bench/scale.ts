/**
 * @module Scale mode: 1,000 proxies (each with HTTP and HTTPS instances) created through the API, then a
 * restart of the server process, timed from spawn until every hostname answers 200 through the HTTP
 * dispatcher; the RSS at that point; and how soon a newly POSTed proxy answers through the dispatcher.
 */
import { startBackend } from './backend.ts'
import { mapConcurrently, median, statusThrough, statusThroughTls, waitFor } from './net.ts'
import { createApi, issueAdminToken, ourServerEnv, startOurServer, type Api, type OurServer } from './our-server.ts'
import { printValue } from './report.ts'

const PROXY_COUNT = 1_000
const NEW_PROXY_TRIALS = 10
/** Wider than the default 1,000-port ranges: 1,000 proxies plus the built-in localhost proxy. */
const PORT_RANGES = { PROXY_HTTP_PORTS: '20000-21499', PROXY_HTTPS_PORTS: '21500-22999' }
const hostnameOf = (index: number) => `scale-${String(index).padStart(4, '0')}.bench.test`

export async function runScale(dir: string, onCleanup: (stop: () => Promise<void> | void) => void): Promise<void> {
  const backend = startBackend()
  onCleanup(backend.stop)
  const backendUrl = backend.url
  const setup = await ourServerEnv(`${dir}/scale`, PORT_RANGES)
  const hostnames = Array.from({ length: PROXY_COUNT }, (_, index) => hostnameOf(index))

  let server: OurServer = await startOurServer(setup)
  onCleanup(() => server.stop())
  const api = createApi(setup, await issueAdminToken(setup))
  printValue('RSS of the fresh server (only the built-in localhost proxy)', `${server.rssMiB().toFixed(1)} MiB`)
  const createStarted = performance.now()
  await mapConcurrently(hostnames, 8, (hostname) => api.createProxy(hostname, backendUrl))
  const createdMs = performance.now() - createStarted
  await waitForAllServing(hostnames, (hostname) => statusThrough(setup.httpPort, hostname))
  const servingMs = performance.now() - createStarted
  // Certificates are created after the HTTP instance starts; restart only once every one is stored.
  await waitFor(async () => (await httpsInstanceCount(api)) >= PROXY_COUNT, { what: 'every HTTPS instance', timeoutMs: 300_000, intervalMs: 500 })
  printValue(`created ${PROXY_COUNT} proxies through the API (8 concurrent POSTs)`, `${(createdMs / 1000).toFixed(1)} s, all serving over HTTP after ${(servingMs / 1000).toFixed(1)} s`)
  printValue('RSS with 1,000 proxies before the restart', `${server.rssMiB().toFixed(1)} MiB`)

  await server.stop()
  server = await startOurServer(setup)
  const sampled = hostnames.filter((_, index) => index % 50 === 0 || index === PROXY_COUNT - 1)
  await waitForAllServing(sampled, (hostname) => statusThrough(setup.httpPort, hostname))
  const sampleMs = performance.now() - server.spawnedAtMs
  await waitForAllServing(hostnames, (hostname) => statusThrough(setup.httpPort, hostname))
  const allMs = performance.now() - server.spawnedAtMs
  const rss = server.rssMiB()
  await waitForAllServing(hostnames, (hostname) => statusThroughTls(setup.httpsPort, hostname))
  const httpsAllMs = performance.now() - server.spawnedAtMs

  const newProxyMs: number[] = []
  for (let trial = 0; trial < NEW_PROXY_TRIALS; trial++) newProxyMs.push(await timeNewProxy(api, setup.httpPort, `new-${trial}.bench.test`, backendUrl))

  console.log('')
  printValue(`after restart: a sample of ${sampled.length} hostnames answered 200 after`, `${(sampleMs / 1000).toFixed(2)} s`)
  printValue(`after restart: all ${PROXY_COUNT} hostnames verified 200 after`, `${(allMs / 1000).toFixed(2)} s`, { text: '≤ 10 s', isMet: allMs <= 10_000 })
  printValue(`after restart: all ${PROXY_COUNT} also verified 200 over HTTPS (SNI) after`, `${(httpsAllMs / 1000).toFixed(2)} s`)
  printValue('RSS then', `${rss.toFixed(1)} MiB`, { text: '< 400 MiB', isMet: rss < 400 })
  const worst = Math.max(...newProxyMs)
  printValue(
    `POST /proxy/targets → first 200 through the dispatcher (${NEW_PROXY_TRIALS}×)`,
    `median ${median(newProxyMs).toFixed(1)} ms, max ${worst.toFixed(1)} ms [${newProxyMs.map((ms) => ms.toFixed(0)).join(', ')}]`,
    { text: '≤ 100 ms', isMet: worst <= 100 },
  )
  printValue('RSS at the end', `${server.rssMiB().toFixed(1)} MiB`)
  printValue('our server logged (after the restart)', server.logSummary())
}

/** Until every hostname has answered 200 once; each round re-asks only those that have not yet. */
async function waitForAllServing(hostnames: readonly string[], statusOf: (hostname: string) => Promise<number>): Promise<void> {
  let waiting = [...hostnames]
  const deadline = performance.now() + 300_000
  while (waiting.length > 0) {
    if (performance.now() > deadline) throw new Error(`${waiting.length} hostnames never answered 200, e.g. ${waiting[0]}`)
    const statuses = await mapConcurrently(waiting, 32, statusOf)
    waiting = waiting.filter((_, index) => statuses[index] !== 200)
    if (waiting.length > 0) await Bun.sleep(10)
  }
}

async function httpsInstanceCount(api: Api): Promise<number> {
  const response = await api.request('GET', '/ports')
  const assignments = (await response.json()) as { hostname: string; https?: number }[]
  return assignments.filter((assignment) => assignment.hostname.startsWith('scale-') && assignment.https !== undefined).length
}

/** From sending the POST to the first 200 for that hostname through the HTTP dispatcher. */
async function timeNewProxy(api: Api, httpPort: number, hostname: string, backendUrl: string): Promise<number> {
  const started = performance.now()
  await api.createProxy(hostname, backendUrl)
  while ((await statusThrough(httpPort, hostname)) !== 200) {
    if (performance.now() - started > 30_000) throw new Error(`${hostname} did not answer 200 within 30 s of its POST`)
  }
  return performance.now() - started
}
