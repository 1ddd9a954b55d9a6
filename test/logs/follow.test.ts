/**
 * The live tail across nodes: a record written through one node's sink reaches a follower on another
 * node sharing the store within a second, in write order even when stamped earlier, filtered, and
 * nothing from before the follow began. On both adapters.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger, systemClock, randomToken } from '../../src/lib/index.ts'
import { createRequestLog, type RequestLog, type StoredRecord } from '../../src/logs/index.ts'
import { createEmbeddedStore, createRedisStore, type Store } from '../../src/store/index.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { makeRecord } from './records.ts'

let redis: TestRedis
const dirs: string[] = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis?.dispose()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Two stores on one backing store: two nodes. */
const pairs: [string, () => [Store, Store]][] = [
  [
    'embedded file shared by two connections',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'ohp-follow-'))
      dirs.push(dir)
      return [createEmbeddedStore({ dataDir: dir }), createEmbeddedStore({ dataDir: dir })]
    },
  ],
  [
    'redis',
    () => {
      const namespace = `follow-${randomToken(6)}:`
      return [createRedisStore({ url: redis.url, namespace }), createRedisStore({ url: redis.url, namespace })]
    },
  ],
]

const nodeLog = (store: Store) =>
  createRequestLog({
    store,
    clock: systemClock,
    logger: createLogger('silent'),
    settings: { retentionMs: 86_400_000, maxRecords: 1_000_000, ringSize: 10_000, accessLog: 'off' },
  })

for (const [name, open] of pairs) {
  describe(`follow (${name})`, () => {
    let storeA: Store
    let storeB: Store
    let nodeA: RequestLog
    let nodeB: RequestLog
    beforeAll(() => {
      ;[storeA, storeB] = open()
      nodeA = nodeLog(storeA)
      nodeB = nodeLog(storeB)
      nodeA.start()
      nodeB.start()
    })
    afterAll(async () => {
      await nodeA.stop()
      await nodeB.stop()
      await storeA.close()
      await storeB.close()
    })

    test('a record written on node A reaches a follower on node B within 1 s; older records are not replayed', async () => {
      nodeA.sink.record(makeRecord({ request_id: 'before' }))
      await nodeA.flush()
      const got: { stored: StoredRecord; atMs: number }[] = []
      const stop = await nodeB.follow([], (stored) => got.push({ stored, atMs: performance.now() }))
      try {
        const sentAt = performance.now()
        nodeA.sink.record(makeRecord({ request_id: 'live' }))
        await waitFor(() => got.length > 0, { timeoutMs: 2_000, what: 'the record on node B' })
        expect(got.map((g) => g.stored.record.request_id)).toEqual(['live'])
        expect(got[0]!.atMs - sentAt).toBeLessThan(1_000)
      } finally {
        stop()
      }
      expect(nodeB.followers()).toBe(0)
    })

    test('records arrive in write order, and one stamped earlier than those already seen (a long request, another node\'s late batch) still arrives', async () => {
      const got: string[] = []
      const stop = await nodeB.follow([], (stored) => got.push(stored.record.request_id))
      try {
        nodeA.sink.record(makeRecord({ request_id: 'first', time: Date.now() }))
        await waitFor(() => got.length === 1, { timeoutMs: 2_000, what: 'first' })
        nodeA.sink.record(makeRecord({ request_id: 'stamped-earlier', time: Date.now() - 600_000 }))
        nodeA.sink.record(makeRecord({ request_id: 'third', time: Date.now() }))
        nodeB.sink.record(makeRecord({ request_id: 'from-b, stamped earlier', time: Date.now() - 60_000 }))
        await waitFor(() => got.length === 4, { timeoutMs: 2_000, what: 'the rest' })
        expect(got.filter((id) => !id.startsWith('from-b'))).toEqual(['first', 'stamped-earlier', 'third'])
        expect(got).toContain('from-b, stamped earlier')
      } finally {
        stop()
      }
    })

    test('each follower gets only what its filter matches; several followers share one poller', async () => {
      const errors: string[] = []
      const alice: string[] = []
      const stopErrors = await nodeB.follow([{ kind: 'errors' }], (stored) => errors.push(stored.record.request_id))
      const stopAlice = await nodeB.follow([{ kind: 'equals', field: 'user', value: 'alice' }, { kind: 'path_prefix', prefix: '/mcp' }], (stored) => alice.push(stored.record.request_id))
      try {
        expect(nodeB.followers()).toBe(2)
        nodeA.sink.record(makeRecord({ request_id: 'ok' }))
        nodeA.sink.record(makeRecord({ request_id: 'boom', status: 502, outcome: 'backend_error', backend_error: 'refused' }))
        nodeA.sink.record(makeRecord({ request_id: 'alice-mcp', user: 'alice', path: '/mcp' }))
        nodeA.sink.record(makeRecord({ request_id: 'alice-other', user: 'alice', path: '/other' }))
        nodeA.sink.record(makeRecord({ request_id: 'marker', status: 500 }))
        await waitFor(() => errors.includes('marker') && alice.length > 0, { timeoutMs: 2_000, what: 'filtered records' })
        expect(errors).toEqual(['boom', 'marker'])
        expect(alice).toEqual(['alice-mcp'])
      } finally {
        stopErrors()
        stopAlice()
      }
      expect(nodeB.followers()).toBe(0)
    })

    test('what node A served, node B finds by request id and by search (one shared log)', async () => {
      const record = makeRecord({ request_id: `shared-${randomToken(6)}`, time: Date.now(), node: 'node-a', user: 'carol' })
      nodeA.sink.record(record)
      await nodeA.flush()
      const window = { fromMs: Date.now() - 60_000, toMs: Date.now() + 60_000 }
      expect((await nodeB.byId(record.request_id, window)).records.map((s) => s.record)).toEqual([record])
      expect((await nodeB.search({ conditions: [{ kind: 'equals', field: 'user', value: 'carol' }], ...window, limit: 10 })).records.map((s) => s.record.request_id)).toEqual([record.request_id])
    })

    test('after unsubscribing nothing more is delivered', async () => {
      const got: string[] = []
      const stop = await nodeB.follow([], (stored) => got.push(stored.record.request_id))
      stop()
      nodeA.sink.record(makeRecord({ request_id: 'after' }))
      await nodeA.flush()
      await Bun.sleep(600)
      expect(got).toEqual([])
    })
  })
}
