/**
 * @module `bun run bench`: measures our paths against baselines run in the same process of
 * measurement, and prints ratios. Today: the management API's /health against a bare Bun.serve
 * answering the same bytes. The data-plane benchmark (nginx, HTTP and HTTPS paths, scale mode) joins
 * with the edge.
 */
import { loadConfig } from '../src/config/index.ts'
import { createLogger } from '../src/lib/index.ts'
import { startServer } from '../src/server.ts'
import { runWrk, type WrkResult } from './wrk.ts'

if (!Bun.which('wrk')) {
  console.error('bench: wrk is not installed (apt-get install wrk)')
  process.exit(2)
}

const durationSec = Number(process.env.BENCH_DURATION_SEC ?? 5)
const server = await startServer(loadConfig({ DATA_DIR: ':memory:', API_PORT: '0', LOG_LEVEL: 'silent' }), { logger: createLogger('silent') })
const sample = await (await fetch(`${server.apiUrl}/health`)).text()
const bare = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(sample, { headers: { 'Content-Type': 'application/json' } }) })

const rows: [string, WrkResult][] = []
rows.push(['bare Bun.serve', await runWrk(`http://127.0.0.1:${bare.port}/health`, { durationSec })])
rows.push(['API /health', await runWrk(`${server.apiUrl}/health`, { durationSec })])
bare.stop(true)
await server.stop()

const [baseline] = rows[0]!.slice(1) as [WrkResult]
console.log(`${'path'.padEnd(16)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'ratio'.padStart(6)}`)
for (const [name, result] of rows) {
  const ratio = (result.requestsPerSec / baseline.requestsPerSec).toFixed(2)
  console.log(`${name.padEnd(16)} ${result.requestsPerSec.toFixed(0).padStart(9)} ${result.p50Ms.toFixed(2).padStart(8)} ${result.p99Ms.toFixed(2).padStart(8)} ${ratio.padStart(6)}`)
}
