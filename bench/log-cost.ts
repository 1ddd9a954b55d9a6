/**
 * @module `bun bench/log-cost.ts`: what the request log costs in CPU per record, in-process, without
 * wrk or a backend. Records as the relay makes them (writeRecord, a fresh RecordInput each) go at
 * LOG_COST_RATE per second for LOG_COST_SEC seconds through the sink the server composes (metrics and
 * the log) into the real ring, writer, worker thread and embedded store in a temp DATA_DIR; the same
 * with the log off (metrics only) gives the baseline, so the difference is the log's cost.
 *
 * CPU time (process.cpuUsage, every thread, and per thread from /proc/self/task) is far less
 * sensitive to other load on the machine than throughput is: each mode runs LOG_COST_RUNS times
 * (default 3), each in a fresh process, and the median is reported.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger, systemClock } from '../src/lib/index.ts'
import { createMetrics, createRequestLog, type RequestSink } from '../src/logs/index.ts'
import { newRequestId, requestStart, writeRecord, type RecordInput, type RequestLogging } from '../src/proxy/request-log.ts'
import { createEmbeddedStore } from '../src/store/embedded.ts'

const RATE = Number(process.env.LOG_COST_RATE ?? 40_000)
const SECONDS = Number(process.env.LOG_COST_SEC ?? 10)
const RUNS = Number(process.env.LOG_COST_RUNS ?? 3)
/** LOG_RING_SIZE's default. */
const RING_SIZE = Number(process.env.LOG_RING_SIZE ?? 50_000)
/** Scheduler tick: records per tick = RATE × elapsed, so a late tick catches up. */
const TICK_MS = 5
const WARM_UP = 20_000

type Mode = 'on' | 'off'

interface RunResult {
  readonly mode: Mode
  readonly records: number
  readonly written: number
  readonly dropped: number
  /** Process CPU (all threads) per record, µs. */
  readonly cpuUs: number
  /** Per thread name (the main thread is "main"), µs per record. */
  readonly threads: Record<string, number>
  readonly seconds: number
  /** Bytes this process handed to write() (files: the log's WAL and checkpoints) per record. */
  readonly writtenBytes: number
  /** The DATA_DIR's files at the end, per record logged (warm-up included). */
  readonly storedBytes: number
}

/** Bytes this process has passed to write() so far (every thread; /proc/self/io's wchar). */
function writeCallBytes(): number {
  return Number(/^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN)
}

function filesBytes(dir: string): number {
  return readdirSync(dir).reduce((total, name) => total + statSync(join(dir, name)).size, 0)
}

/** CPU ticks per thread, by the thread's name (several of one name are summed). */
function threadTicks(): Map<string, number> {
  const ticks = new Map<string, number>()
  for (const task of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8')
      const name = task === String(process.pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks.set(name, (ticks.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]))
    } catch {
      // the thread ended
    }
  }
  return ticks
}

const HOSTS = ['app.example.com', 'api.example.com', 'mcp.example.com', 'static.example.com']
const PATHS = ['/', '/api/items', '/api/items?page=2', '/mcp', '/static/app.js', '/login?next=%2F&state=abc', '/api/items/12345/details']
const AGENTS = ['curl/8.5.0', 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', null]

/** One record's input as the relay builds it (relay/exchange.ts record()). */
function relayInput(i: number): RecordInput {
  const host = HOSTS[i & 3]!
  const isError = i % 97 === 0
  return {
    start: requestStart(),
    requestId: newRequestId(),
    scheme: i & 4 ? 'https' : 'http',
    hostname: host,
    proxy: host,
    method: i % 11 === 0 ? 'POST' : 'GET',
    target: PATHS[i % PATHS.length]!,
    status: isError ? 502 : 200,
    bytesIn: i % 11 === 0 ? 120 : 0,
    bytesOut: 512 + (i & 255),
    clientIp: `10.0.${(i >> 8) & 255}.${i & 255}`,
    userAgent: AGENTS[i % 3]!,
    user: i % 5 === 0 ? 'alice' : null,
    clientId: i % 5 === 0 ? 'client-one' : null,
    routeId: null,
    backend: 'http://127.0.0.1:9000',
    outcome: isError ? 'backend_error' : 'forwarded',
    backendError: isError ? 'refused' : null,
  }
}

async function runOnce(mode: Mode): Promise<RunResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ohp-log-cost-'))
  const logger = createLogger('warn')
  const store = createEmbeddedStore({ dataDir })
  const metrics = createMetrics({ eventLoopSampleIntervalMs: 0 })
  const requestLog = createRequestLog({
    store,
    clock: systemClock,
    logger,
    settings: { retentionMs: 7 * 86_400_000, maxRecords: 1_000_000, ringSize: RING_SIZE, accessLog: 'off' },
  })
  const sink: RequestSink = mode === 'on' ? { record: (record) => (metrics.sink.record(record), requestLog.sink.record(record)) } : metrics.sink
  const logging: RequestLogging = { sink, node: 'node-a' }
  requestLog.start()
  // Warm-up: the JIT, the store's statements and the worker thread, at the ring's pace.
  for (let i = 0; i < WARM_UP; i++) {
    writeRecord(logging, relayInput(i))
    if (i % 2_000 === 1_999) await requestLog.flush()
  }
  await requestLog.flush()
  await Bun.sleep(200)
  const warmWritten = requestLog.counters().written

  const total = Math.round(RATE * SECONDS)
  const before = process.cpuUsage()
  const ticksBefore = threadTicks()
  const writeCallsBefore = writeCallBytes()
  const startedAt = performance.now()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.round(((performance.now() - startedAt) / 1000) * RATE))
    for (; sent < due; sent++) writeRecord(logging, relayInput(sent))
    await Bun.sleep(TICK_MS)
  }
  await requestLog.flush()
  const seconds = (performance.now() - startedAt) / 1000
  const used = process.cpuUsage(before)
  const writtenBytes = round((writeCallBytes() - writeCallsBefore) / total)
  const ticksAfter = threadTicks()
  const threads: Record<string, number> = {}
  for (const [name, after] of ticksAfter) {
    const delta = after - (ticksBefore.get(name) ?? 0)
    if (delta > 0) threads[name] = round((delta * 10_000) / total)
  }
  const counters = requestLog.counters()
  await requestLog.stop()
  metrics.close()
  await store.close()
  const storedBytes = mode === 'on' ? round(filesBytes(dataDir) / (total + WARM_UP)) : 0
  rmSync(dataDir, { recursive: true, force: true })
  return { mode, records: total, written: counters.written - warmWritten, dropped: counters.dropped, cpuUs: round((used.user + used.system) / total), threads, seconds: round(seconds), writtenBytes, storedBytes }
}

const round = (value: number) => Math.round(value * 100) / 100
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function runInChild(mode: Mode): Promise<RunResult> {
  const child = Bun.spawn([process.execPath, import.meta.path, '--one', mode], { stdout: 'pipe', stderr: 'inherit', env: process.env })
  const text = await new Response(child.stdout).text()
  if ((await child.exited) !== 0) throw new Error(`log-cost: the ${mode} run failed`)
  return JSON.parse(text.trim().split('\n').at(-1)!) as RunResult
}

export interface LogCost {
  readonly onUs: number
  readonly offUs: number
  readonly logUs: number
  readonly runs: RunResult[]
}

/** Runs both modes RUNS times, alternating, and returns the medians. */
export async function measureLogCost(report: (line: string) => void = console.log): Promise<LogCost> {
  const runs: RunResult[] = []
  for (let round = 0; round < RUNS; round++) {
    for (const mode of ['off', 'on'] as const) {
      const result = await runInChild(mode)
      runs.push(result)
      const threads = Object.entries(result.threads).map(([name, us]) => `${name} ${us}`).join(', ')
      report(
        `  ${mode.padEnd(3)} ${result.cpuUs.toFixed(2)} µs/record (${threads}); ${result.records} records in ${result.seconds} s, written ${result.written}, dropped ${result.dropped}; ` +
          `${result.writtenBytes.toFixed(0)} bytes a record to write()${result.mode === 'on' ? `, ${result.storedBytes.toFixed(0)} in DATA_DIR's files at the end` : ''}`,
      )
    }
  }
  const onUs = median(runs.filter((run) => run.mode === 'on').map((run) => run.cpuUs))
  const offUs = median(runs.filter((run) => run.mode === 'off').map((run) => run.cpuUs))
  return { onUs, offUs, logUs: round(onUs - offUs), runs }
}

if (import.meta.main) {
  const at = process.argv.indexOf('--one')
  if (at !== -1) {
    console.log(JSON.stringify(await runOnce(process.argv[at + 1] as Mode)))
    process.exit(0)
  }
  console.log(`log cost: ${RATE} records/s for ${SECONDS} s, ${RUNS} runs per mode; Bun ${Bun.version}; load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`)
  const cost = await measureLogCost()
  console.log(`process CPU per record (median): log on ${cost.onUs.toFixed(2)} µs, off ${cost.offUs.toFixed(2)} µs: the log costs ${cost.logUs.toFixed(2)} µs`)
}
