/**
 * @module `bun bench/trim-stall.ts`: what retention costs the thread serving requests. Fills an
 * embedded store (temp DATA_DIR) with TRIM_STALL_RECORDS request records (default 2,000,000) through
 * the ring and appendRows as the server writes them, then trims it to half by count
 * (LOG_MAX_RECORDS' path) while a 1 ms timer on this thread measures the longest gap between its
 * ticks: how long a request arriving meanwhile would have waited.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RequestRecord } from '../src/logs/index.ts'
import { createRecordRing } from '../src/logs/ring.ts'
import { createEmbeddedStore } from '../src/store/embedded.ts'
const dir = mkdtempSync(join(tmpdir(), 'trimlag-'))
const store = createEmbeddedStore({ dataDir: dir })
const ring = createRecordRing(10_000)
/** A proxied request's record, as the bench's (bench.test, 1 KiB answers). */
const SAMPLE: RequestRecord = {
  time: 0,
  request_id: '',
  node: 'n',
  scheme: 'http',
  host: 'bench.test',
  proxy: 'bench.test',
  method: 'GET',
  path: '/',
  status: 200,
  duration_ms: 0.5,
  bytes_in: 0,
  bytes_out: 1024,
  client_ip: '127.0.0.1',
  user_agent: null,
  user: null,
  client_id: null,
  route_id: null,
  backend: 'http://127.0.0.1:1',
  outcome: 'forwarded',
  backend_error: null,
}
const TOTAL = Number(process.env.TRIM_STALL_RECORDS ?? 2_000_000)
let t = Date.now() - 3600_000
for (let i = 0; i < TOTAL; ) {
  for (let k = 0; k < 8192 && i < TOTAL; k++, i++) {
    ring.push({ ...SAMPLE, time: t++, request_id: `abcdefghijkl-${i.toString(36)}` })
  }
  while (ring.size > 0) await store.appendRows('requests', ring.take(8192))
}
let last = performance.now()
let maxGap = 0
let gaps = 0
const timer = setInterval(() => {
  const now = performance.now()
  const gap = now - last
  if (gap > maxGap) maxGap = gap
  if (gap > 5) gaps++
  last = now
}, 1)
const started = performance.now()
const removed = await store.trimToCount('requests', TOTAL / 2)
const took = performance.now() - started
clearInterval(timer)
console.log(`trimmed ${removed} of ${TOTAL} records in ${Math.round(took)} ms; longest gap between 1 ms ticks of this thread ${maxGap.toFixed(1)} ms, ${gaps} gaps over 5 ms`)
await store.close()
rmSync(dir, { recursive: true, force: true })
