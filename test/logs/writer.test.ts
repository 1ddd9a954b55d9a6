/**
 * The log off the hot path: the sink only queues; a writer drains the ring into the store in batches;
 * a full ring drops and counts; a store outage never reaches the sink, and what was kept is written
 * once the store is back; ACCESS_LOG=stdout lines come from the writer, one per record.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger, createManualClock, randomToken } from '../../src/lib/index.ts'
import { createRequestLog, type RequestLog, type RequestLogSettings, type RequestLogTimings, type RequestRecord } from '../../src/logs/index.ts'
import { createEmbeddedStore, createRedisStore, STREAMS, type Store } from '../../src/store/index.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { parseStoredRecord } from '../../src/logs/stored-record.ts'
import { makeRecord } from './records.ts'

const SETTINGS: RequestLogSettings = { retentionMs: 7 * 86_400_000, maxRecords: 1_000_000, ringSize: 10_000, accessLog: 'off' }

function logOn(store: Store, settings: Partial<RequestLogSettings> = {}, timings: RequestLogTimings = {}, writeAccessLog?: (text: string) => void): RequestLog {
  return createRequestLog({ store, clock: createManualClock(), logger: createLogger('silent'), settings: { ...SETTINGS, ...settings }, timings: { retentionIntervalMs: 3_600_000, ...timings }, writeAccessLog })
}

/** The real store, with its batch writes counted. */
function countingBatches(store: Store): { store: Store; batches: number[] } {
  const batches: number[] = []
  return {
    batches,
    store: {
      ...store,
      appendRows: (stream, rows) => {
        batches.push(rows.count)
        return store.appendRows(stream, rows)
      },
    },
  }
}

const stored = async (store: Store) => (await store.query(STREAMS.requests, { limit: 10_000, order: 'oldest' })).map((e) => parseStoredRecord(e)!.record.request_id)

describe('batching', () => {
  test('records reach the store within the flush interval, in batches, in order', async () => {
    const base = createEmbeddedStore({ dataDir: ':memory:' })
    const { store, batches } = countingBatches(base)
    const log = logOn(store, {}, { flushIntervalMs: 50, batchSize: 100 })
    log.start()
    try {
      const records = Array.from({ length: 250 }, () => makeRecord())
      for (const record of records) log.sink.record(record)
      // The sink wrote nothing itself.
      expect(batches).toEqual([])
      await waitFor(async () => (await stored(base)).length === 250, { timeoutMs: 2_000, what: 'records written' })
      expect(await stored(base)).toEqual(records.map((r) => r.request_id))
      expect(batches.every((size) => size <= 100)).toBe(true)
      expect(batches.length).toBeLessThanOrEqual(5)
      expect(log.counters()).toEqual({ queued: 0, written: 250, dropped: 0, writeFailures: 0 })
    } finally {
      await log.stop()
      await base.close()
    }
  })

  test('a written batch lends its memory to the next one (on the store thread and back), and a refused one is retried as it was', async () => {
    const base = createEmbeddedStore({ dataDir: mkdtempSync(join(tmpdir(), 'ohp-writer-recycle-')) })
    const buffers: ArrayBufferLike[] = []
    let refuseNext = false
    const store: Store = {
      ...base,
      appendRows: (stream, rows) => {
        buffers.push(rows.timesMs.buffer)
        if (refuseNext) {
          refuseNext = false
          return Promise.reject(new Error('refused once'))
        }
        return base.appendRows(stream, rows)
      },
    }
    const log = logOn(store, {}, { flushIntervalMs: 60_000, batchSize: 100 })
    try {
      const records = Array.from({ length: 400 }, () => makeRecord())
      for (let batch = 0; batch < 4; batch++) {
        for (const record of records.slice(batch * 100, batch * 100 + 100)) log.sink.record(record)
        refuseNext = batch === 2
        await log.flush()
        if (batch === 2) await log.flush()
      }
      // Five writes (the third batch twice) into one buffer: each batch was copied into the memory of the one before it.
      expect(buffers).toHaveLength(5)
      expect(new Set(buffers).size).toBe(1)
      expect(await stored(base)).toEqual(records.map((r) => r.request_id))
      expect(log.counters()).toMatchObject({ written: 400, writeFailures: 1 })
    } finally {
      await log.stop()
      await base.close()
    }
  })

  test('a ring smaller than a batch is written once half full, not left to overflow until the interval comes round', async () => {
    const base = createEmbeddedStore({ dataDir: ':memory:' })
    const { store, batches } = countingBatches(base)
    // LOG_RING_SIZE 100 with batches of 1,000: found by flooding a server run with LOG_RING_SIZE=5000 (8,934 records dropped in 8 s).
    const log = logOn(store, { ringSize: 100 }, { flushIntervalMs: 60_000, batchSize: 1_000 })
    log.start()
    try {
      const records = Array.from({ length: 300 }, () => makeRecord())
      for (let i = 0; i < records.length; i += 10) {
        for (const record of records.slice(i, i + 10)) log.sink.record(record)
        // Requests keep arriving while the writer works: give it its turns, as the event loop would.
        await Bun.sleep(1)
      }
      await waitFor(async () => log.counters().written + log.counters().queued === 300 && log.counters().queued < 50, { timeoutMs: 2_000, what: 'the early writes' })
      expect(log.counters().dropped).toBe(0)
      expect(batches.every((size) => size >= 50 && size <= 100)).toBe(true)
      expect(batches.length).toBeGreaterThanOrEqual(3)
    } finally {
      await log.stop()
      await base.close()
    }
  })

  test('a full batch is written at once, before the interval comes round', async () => {
    const base = createEmbeddedStore({ dataDir: ':memory:' })
    const { store, batches } = countingBatches(base)
    const log = logOn(store, {}, { flushIntervalMs: 60_000, batchSize: 10 })
    log.start()
    try {
      for (let i = 0; i < 9; i++) log.sink.record(makeRecord())
      await Bun.sleep(100)
      expect(batches).toEqual([])
      log.sink.record(makeRecord())
      await waitFor(async () => (await stored(base)).length === 10, { timeoutMs: 1_000, what: 'the full batch' })
      expect(batches).toEqual([10])
    } finally {
      await log.stop()
      await base.close()
    }
  })

  test('long paths that fill half the ring\'s characters are written at once, before the slots or the interval come round', async () => {
    const base = createEmbeddedStore({ dataDir: ':memory:' })
    const { store, batches } = countingBatches(base)
    const log = logOn(store, { ringSize: 100 }, { flushIntervalMs: 60_000, batchSize: 100 })
    log.start()
    try {
      // 100 slots hold 262,144 characters (the least a ring has): this path is over half of them.
      log.sink.record(makeRecord({ path: `/${'a'.repeat(140_000)}` }))
      await waitFor(async () => (await stored(base)).length === 1, { timeoutMs: 1_000, what: 'the long record' })
      expect(batches).toEqual([1])
      expect(log.counters().dropped).toBe(0)
    } finally {
      await log.stop()
      await base.close()
    }
  })

  test('records that arrive while a batch is written wait for a full batch or the next pass, not a write each', async () => {
    const base = createEmbeddedStore({ dataDir: ':memory:' })
    const batches: number[] = []
    let log: RequestLog | null = null
    // Each write lets three records arrive while it is under way, as requests do under load.
    let isArriving = true
    const store: Store = {
      ...base,
      appendRows: async (stream, rows) => {
        batches.push(rows.count)
        for (let i = 0; isArriving && i < 3; i++) log!.sink.record(makeRecord())
        await Bun.sleep(5)
        return base.appendRows(stream, rows)
      },
    }
    log = logOn(store, {}, { flushIntervalMs: 60_000, batchSize: 10 })
    log.start()
    try {
      for (let i = 0; i < 10; i++) log.sink.record(makeRecord())
      // The full batch goes at once; the three that came during its write are kept (a write each, 3 by
      // 3, is what the writer did before), and go with the next full batch.
      await waitFor(async () => batches.length === 1 && log!.counters().written === 10, { timeoutMs: 2_000, what: 'the first batch' })
      await Bun.sleep(100)
      expect(batches).toEqual([10])
      expect(log.counters().queued).toBe(3)
      for (let i = 0; i < 7; i++) log.sink.record(makeRecord())
      await waitFor(async () => log!.counters().written === 20, { timeoutMs: 2_000, what: 'the second batch' })
      expect(batches).toEqual([10, 10])
      // An explicit flush writes what is queued now (and what arrives meanwhile waits again).
      await log.flush()
      expect(batches).toEqual([10, 10, 3])
      expect(log.counters()).toMatchObject({ queued: 3, written: 23 })
      isArriving = false
    } finally {
      isArriving = false
      await log.stop()
      await base.close()
    }
    expect(log.counters()).toMatchObject({ queued: 0, written: 26, dropped: 0 })
  })

  test('when the ring is full, new records are dropped and counted; the queued ones are written', async () => {
    const store = createEmbeddedStore({ dataDir: ':memory:' })
    const log = logOn(store, { ringSize: 5 }, { flushIntervalMs: 60_000, batchSize: 100 })
    try {
      const records = Array.from({ length: 8 }, () => makeRecord())
      for (const record of records) log.sink.record(record)
      expect(log.counters()).toEqual({ queued: 5, written: 0, dropped: 3, writeFailures: 0 })
      await log.flush()
      expect(await stored(store)).toEqual(records.slice(0, 5).map((r) => r.request_id))
      expect(log.counters()).toEqual({ queued: 0, written: 5, dropped: 3, writeFailures: 0 })
    } finally {
      await log.stop()
      await store.close()
    }
  })

  test('stop writes what is still queued', async () => {
    const store = createEmbeddedStore({ dataDir: ':memory:' })
    const log = logOn(store, {}, { flushIntervalMs: 60_000 })
    log.start()
    const records = Array.from({ length: 3 }, () => makeRecord())
    for (const record of records) log.sink.record(record)
    await log.stop()
    expect(await stored(store)).toEqual(records.map((r) => r.request_id))
    await store.close()
  })
})

describe('ACCESS_LOG', () => {
  test('stdout: one JSON line per record, written by the writer (not the sink), with the record\'s fields and an ISO timestamp', async () => {
    const store = createEmbeddedStore({ dataDir: ':memory:' })
    const chunks: string[] = []
    const log = logOn(store, { accessLog: 'stdout' }, { flushIntervalMs: 60_000 }, (text) => chunks.push(text))
    try {
      const records = [makeRecord({ status: 404, user: 'alice', client_id: 'c1' }), makeRecord({ outcome: 'backend_error', status: 502, backend_error: 'refused' })]
      for (const record of records) log.sink.record(record)
      expect(chunks).toEqual([])
      await log.flush()
      const lines = chunks.join('').split('\n')
      expect(lines.pop()).toBe('')
      expect(lines).toHaveLength(2)
      for (const [index, line] of lines.entries()) {
        const parsed = JSON.parse(line) as Record<string, unknown>
        expect(Object.keys(parsed)).toEqual(['timestamp', ...Object.keys(records[index]!)])
        expect(parsed).toEqual({ timestamp: new Date(records[index]!.time).toISOString(), ...records[index]! })
      }
    } finally {
      await log.stop()
      await store.close()
    }
  })

  test('off: nothing is written beside the store', async () => {
    const store = createEmbeddedStore({ dataDir: ':memory:' })
    const chunks: string[] = []
    const log = logOn(store, { accessLog: 'off' }, { flushIntervalMs: 60_000 }, (text) => chunks.push(text))
    log.sink.record(makeRecord())
    await log.flush()
    expect(chunks).toEqual([])
    expect(await stored(store)).toHaveLength(1)
    await log.stop()
    await store.close()
  })
})

describe('store outage', () => {
  let redis: TestRedis
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.dispose()
  })

  test('the sink never blocks or throws while Redis is down; the kept batch and the ring are written when it is back; overflow is counted', async () => {
    const store = createRedisStore({ url: redis.url, namespace: `logs-${randomToken(6)}:`, commandTimeoutMs: 500 })
    const log = logOn(store, { ringSize: 20 }, { flushIntervalMs: 50, batchSize: 10 })
    log.start()
    try {
      const sent: RequestRecord[] = []
      const send = (n: number) => {
        const started = performance.now()
        for (let i = 0; i < n; i++) {
          const record = makeRecord()
          sent.push(record)
          log.sink.record(record)
        }
        return performance.now() - started
      }
      send(5)
      await waitFor(() => log.counters().written === 5, { timeoutMs: 3_000, what: 'first records written' })

      await redis.stop()
      expect(send(10)).toBeLessThan(50)
      await waitFor(() => log.counters().writeFailures > 0, { timeoutMs: 10_000, what: 'a refused batch' })
      // 10 kept for retry, and the ring (20) fills: 40 more means 30 queued at most, the rest dropped.
      expect(send(40)).toBeLessThan(50)
      const during = log.counters()
      expect(during.queued).toBe(30)
      expect(during.dropped).toBe(20)

      await redis.start()
      await waitFor(() => log.counters().queued === 0, { timeoutMs: 15_000, what: 'the backlog written' })
      const after = log.counters()
      expect(after.written + after.dropped).toBe(sent.length)
      expect(after.written).toBe(35)
      // The test server keeps nothing across restarts: what it holds now is what was written after it came back.
      expect((await store.query(STREAMS.requests, { limit: 1_000 })).length).toBe(30)
    } finally {
      await log.stop()
      await store.close()
    }
  }, 40_000)

  test('stop while the store is down counts what could not be written as dropped', async () => {
    const store = createRedisStore({ url: redis.url, namespace: `logs-${randomToken(6)}:`, commandTimeoutMs: 500 })
    const log = logOn(store, {}, { flushIntervalMs: 60_000, batchSize: 10 })
    try {
      await store.ping()
      await redis.stop()
      for (let i = 0; i < 25; i++) log.sink.record(makeRecord())
      await log.stop()
      expect(log.counters()).toMatchObject({ queued: 0, written: 0, dropped: 25 })
    } finally {
      await redis.start()
      await store.close()
    }
  }, 30_000)
})
