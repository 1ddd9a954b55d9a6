/** Retention removes old records: by age (LOG_RETENTION, against the injected clock) and by count (LOG_MAX_RECORDS), on both adapters. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createLogger, createManualClock, randomToken } from '../../src/lib/index.ts'
import { createRequestLog } from '../../src/logs/index.ts'
import { createEmbeddedStore, createRedisStore, STREAMS, type Store } from '../../src/store/index.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { parseStoredRecord } from '../../src/logs/stored-record.ts'
import { makeRecord } from './records.ts'

const DAY = 86_400_000

let redis: TestRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.dispose()
})

const adapters: [string, () => Store][] = [
  ['embedded', () => createEmbeddedStore({ dataDir: ':memory:' })],
  ['redis', () => createRedisStore({ url: redis.url, namespace: `retention-${randomToken(6)}:` })],
]

const ids = async (store: Store) => (await store.query(STREAMS.requests, { limit: 10_000, order: 'oldest' })).map((e) => parseStoredRecord(e)!.record.request_id)

for (const [name, open] of adapters) {
  describe(`retention (${name})`, () => {
    test('records older than LOG_RETENTION go; younger ones stay; the clock moving on removes more', async () => {
      const store = open()
      const clock = createManualClock(Date.UTC(2026, 10, 27))
      const now = clock.nowMs()
      const log = createRequestLog({ store, clock, logger: createLogger('silent'), settings: { retentionMs: 7 * DAY, maxRecords: 1_000, ringSize: 100, accessLog: 'off' } })
      try {
        const ages = [10 * DAY, 7 * DAY + 1, 7 * DAY - 1, 3 * DAY, 0]
        for (const [i, age] of ages.entries()) log.sink.record(makeRecord({ request_id: `age${i}`, time: now - age }))
        await log.flush()
        expect(await log.enforceRetention()).toEqual({ byAge: 2, byCount: 0 })
        expect(await ids(store)).toEqual(['age2', 'age3', 'age4'])
        clock.advanceMs(4 * DAY)
        expect(await log.enforceRetention()).toEqual({ byAge: 1, byCount: 0 })
        expect(await ids(store)).toEqual(['age3', 'age4'])
      } finally {
        await log.stop()
        await store.close()
      }
    })

    test('beyond LOG_MAX_RECORDS the oldest records go first, whatever order they were written in', async () => {
      const store = open()
      const clock = createManualClock(Date.UTC(2026, 10, 27))
      const log = createRequestLog({ store, clock, logger: createLogger('silent'), settings: { retentionMs: 30 * DAY, maxRecords: 3, ringSize: 100, accessLog: 'off' } })
      try {
        const offsets = [5, 1, 4, 2, 3]
        for (const offset of offsets) log.sink.record(makeRecord({ request_id: `t${offset}`, time: clock.nowMs() - 60_000 + offset }))
        await log.flush()
        expect(await log.enforceRetention()).toEqual({ byAge: 0, byCount: 2 })
        expect(await ids(store)).toEqual(['t3', 't4', 't5'])
      } finally {
        await log.stop()
        await store.close()
      }
    })

    test('start() runs retention at once and then on its interval', async () => {
      const store = open()
      const clock = createManualClock(Date.UTC(2026, 10, 27))
      const log = createRequestLog({
        store,
        clock,
        logger: createLogger('silent'),
        settings: { retentionMs: DAY, maxRecords: 1_000, ringSize: 100, accessLog: 'off' },
        timings: { retentionIntervalMs: 50, flushIntervalMs: 20 },
      })
      try {
        await store.appendMany(STREAMS.requests, [{ timeMs: clock.nowMs() - 2 * DAY, data: JSON.stringify(makeRecord({ request_id: 'old' })) }])
        log.start()
        await waitFor(async () => (await ids(store)).length === 0, { timeoutMs: 2_000, what: 'retention at start' })
        log.sink.record(makeRecord({ request_id: 'young', time: clock.nowMs() }))
        await waitFor(async () => (await ids(store)).includes('young'), { timeoutMs: 2_000, what: 'record written' })
        clock.advanceMs(DAY + 1)
        await waitFor(async () => (await ids(store)).length === 0, { timeoutMs: 2_000, what: 'retention on the interval' })
      } finally {
        await log.stop()
        await store.close()
      }
    })
  })
}
