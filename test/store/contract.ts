/**
 * @module The Store contract: behaviour every adapter must show. Each adapter's test file calls
 * storeContract() with a factory for two independent Store instances on one backing store, so the
 * concurrency and lock tests prove atomicity across instances (processes on SQLite, nodes on Redis).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { createManualClock, randomToken } from '../../src/lib/index.ts'
import { createCollection } from '../../src/store/collection.ts'
import { keys, safe } from '../../src/store/keys.ts'
import { acquireLock, LockTimeoutError, tryLock } from '../../src/store/lock.ts'
import { createLogCollection } from '../../src/store/log-collection.ts'
import { rowBatchOf } from '../../src/store/log-rows.ts'
import { StoreCorruptionError, type Store } from '../../src/store/store.ts'
import { waitFor } from '../support/ports.ts'

export interface StoreHarness {
  readonly store: Store
  /** Another Store instance on the same backing store (called once per suite). */
  readonly second: () => Store
  readonly dispose: () => Promise<void>
}

const CONCURRENCY = 100

/** Turns a synchronous throw into a rejection, so either way of failing counts. */
const attempt = <T>(work: () => Promise<T>): Promise<T> => Promise.resolve().then(work)
const SHORT_TTL_MS = 150

export function storeContract(name: string, makeStore: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let harness: StoreHarness
    let a: Store
    let b: Store
    // Every test works under its own prefix, so tests (and reruns on a shared backend) never collide.
    const run = `c${randomToken(6)}`
    let counter = 0
    const prefix = (label: string) => `${run}/${counter++}-${label}/`
    /** Alternates between the two instances so concurrent work really comes from both. */
    const either = (i: number) => (i % 2 === 0 ? a : b)

    beforeAll(async () => {
      harness = await makeStore()
      a = harness.store
      b = harness.second()
    })
    afterAll(async () => {
      await harness?.dispose()
    })

    // ---- documents ----------------------------------------------------------------------------

    test('get of a missing key is null; put, get and del round-trip a document', async () => {
      const key = prefix('roundtrip') + 'doc'
      expect(await a.get(key)).toBeNull()
      const version = await a.put(key, 'hello \u00e9 \u{1F600} "json" \n')
      expect(typeof version).toBe('number')
      expect(await a.get(key)).toEqual({ value: 'hello \u00e9 \u{1F600} "json" \n', version: version! })
      expect(await b.get(key)).toEqual({ value: 'hello \u00e9 \u{1F600} "json" \n', version: version! })
      expect(await b.del(key)).toBe(true)
      expect(await a.get(key)).toBeNull()
      expect(await a.del(key)).toBe(false)
    })

    test('an empty string is a stored value, distinct from a missing key', async () => {
      const key = prefix('empty') + 'doc'
      const version = await a.put(key, '')
      expect(await b.get(key)).toEqual({ value: '', version: version! })
      expect(await a.take(key)).toBe('')
      expect(await a.get(key)).toBeNull()
    })

    test('versions increase with every write and never repeat, even across delete and recreate (ABA-safe)', async () => {
      const p = prefix('versions')
      const seen: number[] = []
      const record = (version: number | null) => {
        expect(version).not.toBeNull()
        seen.push(version!)
        return version!
      }
      const v1 = record(await a.put(p + 'k', 'one'))
      const v2 = record(await b.put(p + 'k', 'two'))
      expect(v2).toBeGreaterThan(v1)
      expect(await a.del(p + 'k')).toBe(true)
      record(await a.put(p + 'other', 'x'))
      const v3 = record(await b.put(p + 'k', 'one'))
      expect(v3).toBeGreaterThan(v2)
      expect(await a.take(p + 'k')).toBe('one')
      const v4 = record(await a.put(p + 'k', 'one', { ifAbsent: true }))
      expect(v4).toBeGreaterThan(v3)
      expect((await b.get(p + 'k'))!.version).toBe(v4)
      // A holder of v1 (or any earlier version) cannot act on the recreated document.
      for (const stale of [v1, v2, v3]) {
        expect(await a.put(p + 'k', 'stale', { ifVersion: stale })).toBeNull()
        expect(await b.del(p + 'k', { ifVersion: stale })).toBe(false)
      }
      expect((await a.get(p + 'k'))!.value).toBe('one')
      // Concurrent writes from both instances still get distinct versions.
      const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => either(i).put(p + `burst${i % 5}`, String(i))))
      for (const version of burst) record(version)
      expect(new Set(seen).size).toBe(seen.length)
    })

    test('put ifAbsent writes only when the key does not exist', async () => {
      const key = prefix('ifabsent') + 'doc'
      const version = await a.put(key, 'first', { ifAbsent: true })
      expect(version).not.toBeNull()
      expect(await b.put(key, 'second', { ifAbsent: true })).toBeNull()
      expect(await a.get(key)).toEqual({ value: 'first', version: version! })
      await a.del(key)
      expect(await b.put(key, 'third', { ifAbsent: true })).not.toBeNull()
      expect((await a.get(key))!.value).toBe('third')
    })

    test('put ifVersion succeeds at the current version and fails with a stale one or on a missing key', async () => {
      const key = prefix('cas') + 'doc'
      expect(await a.put(key, 'x', { ifVersion: 1 })).toBeNull()
      expect(await a.get(key)).toBeNull()
      const v1 = (await a.put(key, 'one'))!
      const v2 = await b.put(key, 'two', { ifVersion: v1 })
      expect(v2).not.toBeNull()
      expect(v2!).toBeGreaterThan(v1)
      expect(await a.put(key, 'stale', { ifVersion: v1 })).toBeNull()
      expect(await a.get(key)).toEqual({ value: 'two', version: v2! })
      expect(await a.put(key, 'three', { ifVersion: v2! })).not.toBeNull()
      expect((await b.get(key))!.value).toBe('three')
    })

    test('del ifVersion deletes only at the current version', async () => {
      const key = prefix('delcas') + 'doc'
      const v1 = (await a.put(key, 'one'))!
      const v2 = (await a.put(key, 'two'))!
      expect(await b.del(key, { ifVersion: v1 })).toBe(false)
      expect((await a.get(key))!.value).toBe('two')
      expect(await b.del(key, { ifVersion: v2 })).toBe(true)
      expect(await a.get(key)).toBeNull()
      expect(await a.del(key, { ifVersion: v2 })).toBe(false)
    })

    test(`put ifAbsent: of ${CONCURRENCY} concurrent writers on two instances exactly one wins`, async () => {
      const key = prefix('race-absent') + 'doc'
      const results = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => either(i).put(key, `writer-${i}`, { ifAbsent: true })),
      )
      const winners = results.flatMap((version, i) => (version === null ? [] : [{ i, version }]))
      expect(winners).toHaveLength(1)
      expect(await b.get(key)).toEqual({ value: `writer-${winners[0]!.i}`, version: winners[0]!.version })
    })

    test(`take: of ${CONCURRENCY} concurrent takers on two instances exactly one receives the value`, async () => {
      const key = prefix('race-take') + 'code'
      expect(await a.take(key)).toBeNull()
      await a.put(key, 'single-use')
      const results = await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => either(i).take(key)))
      expect(results.filter((value) => value !== null)).toEqual(['single-use'])
      expect(await a.get(key)).toBeNull()
      expect(await b.take(key)).toBeNull()
    })

    test(`compare-and-set: of ${CONCURRENCY} concurrent increments from the same read version exactly one wins`, async () => {
      const key = prefix('race-cas') + 'counter'
      await a.put(key, '0')
      const read = (await b.get(key))!
      const results = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, i) => either(i).put(key, String(Number(read.value) + 1), { ifVersion: read.version })),
      )
      const winners = results.filter((version) => version !== null)
      expect(winners).toHaveLength(1)
      expect(await a.get(key)).toEqual({ value: '1', version: winners[0]! })
    })

    // ---- locks --------------------------------------------------------------------------------

    test('tryLock is exclusive across two instances, and a released lock can be re-acquired', async () => {
      const name = `${run}-exclusive`
      const held = await tryLock(a, name, 30_000)
      expect(held).not.toBeNull()
      expect(await tryLock(b, name, 30_000)).toBeNull()
      expect(await tryLock(a, name, 30_000)).toBeNull()
      const contenders = await Promise.all(Array.from({ length: 20 }, (_, i) => tryLock(either(i), name, 30_000)))
      expect(contenders.every((lock) => lock === null)).toBe(true)
      await held!.release()
      const again = await tryLock(b, name, 30_000)
      expect(again).not.toBeNull()
      expect(await tryLock(a, name, 30_000)).toBeNull()
      await again!.release()
      // Releasing twice is harmless and does not free anyone else's lock.
      const third = await tryLock(a, name, 30_000)
      await again!.release()
      expect(await tryLock(b, name, 30_000)).toBeNull()
      await third![Symbol.asyncDispose]()
      const last = await tryLock(b, name, 30_000)
      expect(last).not.toBeNull()
      await last!.release()
    })

    test('a lock whose TTL expired is taken over, and the stale holder\'s release does not free the new holder\'s lock', async () => {
      const name = `${run}-expiring`
      const stale = await tryLock(a, name, SHORT_TTL_MS)
      expect(stale).not.toBeNull()
      expect(await tryLock(b, name, 30_000)).toBeNull()
      const fresh = await waitFor(() => tryLock(b, name, 30_000), { timeoutMs: 5_000, what: 'expired lock to be free' })
      await stale!.release()
      expect(await tryLock(a, name, 30_000)).toBeNull()
      expect(await a.get(keys.lock(name))).not.toBeNull()
      await fresh.release()
      const next = await tryLock(a, name, 30_000)
      expect(next).not.toBeNull()
      await next!.release()
    })

    test('acquireLock waits while the lock is held and gets it once the holder releases', async () => {
      const name = `${run}-waiting`
      const holder = (await tryLock(a, name, 30_000))!
      let releasedAt = 0
      let acquiredAt = 0
      const waiting = acquireLock(b, name, { ttlMs: 30_000, waitMs: 10_000, retryMs: 10 }).then((lock) => {
        acquiredAt = Date.now()
        return lock
      })
      // Let the waiter retry a few times against the held lock.
      await Bun.sleep(100)
      expect(acquiredAt).toBe(0)
      releasedAt = Date.now()
      await holder.release()
      const lock = await waiting
      expect(acquiredAt).toBeGreaterThanOrEqual(releasedAt)
      // It got the lock because of the release, long before the holder's 30 s TTL.
      expect(acquiredAt - releasedAt).toBeLessThan(2_000)
      expect(await tryLock(a, name, 30_000)).toBeNull()
      await lock.release()
    })

    test('acquireLock rejects with LockTimeoutError once waitMs elapses while the lock is held', async () => {
      const name = `${run}-timeout`
      const holder = (await tryLock(a, name, 30_000))!
      const started = Date.now()
      const error = await acquireLock(b, name, { ttlMs: 30_000, waitMs: 200, retryMs: 20 }).catch((e: unknown) => e)
      const elapsed = Date.now() - started
      expect(error).toBeInstanceOf(LockTimeoutError)
      expect((error as LockTimeoutError).lockName).toBe(name)
      expect(elapsed).toBeGreaterThanOrEqual(200)
      expect(elapsed).toBeLessThan(3_000)
      // The failed waiter left the holder's lock alone.
      expect(await tryLock(b, name, 30_000)).toBeNull()
      await holder.release()
    })

    // ---- TTLs ---------------------------------------------------------------------------------

    test('a document written with ttlMs expires; until then it reads normally', async () => {
      const p = prefix('ttl')
      const version = await a.put(p + 'short', 'soon gone', { ttlMs: SHORT_TTL_MS })
      await a.put(p + 'long', 'stays', { ttlMs: 60_000 })
      expect(await b.get(p + 'short')).toEqual({ value: 'soon gone', version: version! })
      await waitFor(async () => (await b.get(p + 'short')) === null, { timeoutMs: 5_000, what: 'ttl expiry' })
      expect(await a.get(p + 'short')).toBeNull()
      expect(await a.take(p + 'short')).toBeNull()
      expect(await a.del(p + 'short')).toBe(false)
      expect(await a.put(p + 'short', 'again', { ifVersion: version! })).toBeNull()
      expect((await b.get(p + 'long'))!.value).toBe('stays')
    })

    test('an expired key counts as absent for ifAbsent', async () => {
      const key = prefix('ttl-absent') + 'doc'
      expect(await a.put(key, 'first', { ifAbsent: true, ttlMs: SHORT_TTL_MS })).not.toBeNull()
      expect(await b.put(key, 'second', { ifAbsent: true })).toBeNull()
      // Poll with the conditional write itself: nothing else touches the key before it succeeds.
      await waitFor(() => b.put(key, 'second', { ifAbsent: true }), { timeoutMs: 5_000, what: 'ifAbsent after expiry' })
      expect((await a.get(key))!.value).toBe('second')
    })

    test('list omits expired keys', async () => {
      const p = prefix('ttl-list')
      // "early" is written first with the same TTL, so once "probe" reads as expired, so is "early".
      await a.put(p + 'early', 'x', { ttlMs: SHORT_TTL_MS })
      await a.put(p + 'probe', 'x', { ttlMs: SHORT_TTL_MS })
      await a.put(p + 'persistent', 'x')
      expect(await b.list(p)).toEqual([p + 'early', p + 'persistent', p + 'probe'])
      await waitFor(async () => (await a.get(p + 'probe')) === null, { timeoutMs: 5_000, what: 'probe expiry' })
      expect(await b.list(p)).toEqual([p + 'persistent'])
    })

    test('put without ttlMs after a put with ttlMs makes the document persistent', async () => {
      const p = prefix('ttl-persist')
      await a.put(p + 'doc', 'temporary', { ttlMs: SHORT_TTL_MS })
      const version = await b.put(p + 'doc', 'permanent')
      await a.put(p + 'sentinel', 'x', { ttlMs: SHORT_TTL_MS })
      await waitFor(async () => (await a.get(p + 'sentinel')) === null, { timeoutMs: 5_000, what: 'sentinel expiry' })
      expect(await a.get(p + 'doc')).toEqual({ value: 'permanent', version: version! })
      expect(await b.list(p)).toEqual([p + 'doc'])
    })

    test('a put with ttlMs on a persistent document makes it expire', async () => {
      const p = prefix('ttl-replace')
      const v1 = (await a.put(p + 'doc', 'one'))!
      expect(await a.put(p + 'doc', 'two', { ifVersion: v1, ttlMs: SHORT_TTL_MS })).not.toBeNull()
      await waitFor(async () => (await b.get(p + 'doc')) === null, { timeoutMs: 5_000, what: 'ttl expiry' })
    })

    // ---- listing ------------------------------------------------------------------------------

    test('list(prefix) returns only keys under the prefix, in lexical order', async () => {
      const p = prefix('list')
      const inside = ['b', 'a', 'a/x', 'aa', 'B', '0', 'a-b', 'z/z/z'].map((s) => p + 'items/' + s)
      const outside = [p + 'items', p + 'itemsX', p + 'item', p + 'other/a', p.slice(0, -1) + 'x/items/a']
      await Promise.all([...inside, ...outside].map((key, i) => either(i).put(key, 'v')))
      const listed = await a.list(p + 'items/')
      expect(listed).toEqual([...inside].sort())
      expect(listed).toEqual(['0', 'B', 'a', 'a-b', 'a/x', 'aa', 'b', 'z/z/z'].map((s) => p + 'items/' + s))
      expect(await b.list(p + 'items/a')).toEqual(['a', 'a-b', 'a/x', 'aa'].map((s) => p + 'items/' + s))
      expect(await a.list(p + 'nothing/')).toEqual([])
      await a.del(p + 'items/aa')
      expect(await b.list(p + 'items/a')).toEqual(['a', 'a-b', 'a/x'].map((s) => p + 'items/' + s))
    })

    test('list treats glob characters (* ? [ ] \\) and SQL wildcards (% _) in the prefix literally', async () => {
      const p = prefix('glob')
      const all = ['a*b/1', 'a*b/2', 'axb/1', 'a?c/1', 'abc/1', '[x]/1', 'x/1', '[!x]/1', 'y/1', '50%/1', '50%25', '50x/1', 'a_b', 'aXb', 'a\\b/1', 'a\\\\b/1']
      await Promise.all(all.map((s, i) => either(i).put(p + s, 'v')))
      const under = async (sub: string) => (await a.list(p + sub)).map((key) => key.slice(p.length))
      expect(await under('a*b/')).toEqual(['a*b/1', 'a*b/2'])
      expect(await under('a*')).toEqual(['a*b/1', 'a*b/2'])
      expect(await under('a?c/')).toEqual(['a?c/1'])
      expect(await under('[x]/')).toEqual(['[x]/1'])
      expect(await under('[')).toEqual(['[!x]/1', '[x]/1'])
      expect(await under('[!x]')).toEqual(['[!x]/1'])
      expect(await under('50%')).toEqual(['50%/1', '50%25'])
      expect(await under('a_')).toEqual(['a_b'])
      expect(await under('a\\b')).toEqual(['a\\b/1'])
      expect(await under('a\\')).toEqual(['a\\\\b/1', 'a\\b/1'])
      expect(await under('*')).toEqual([])
      expect(await under('?')).toEqual([])
    })

    // ---- log streams --------------------------------------------------------------------------

    test('query returns entries newest first by default and oldest first on request', async () => {
      const stream = prefix('log-order') + 's'
      for (let i = 0; i < 5; i++) await either(i).append(stream, 1_000 + i * 10, `d${i}`)
      const newest = await b.query(stream)
      expect(newest.map((e) => e.data)).toEqual(['d4', 'd3', 'd2', 'd1', 'd0'])
      expect(newest.map((e) => e.timeMs)).toEqual([1_040, 1_030, 1_020, 1_010, 1_000])
      expect(new Set(newest.map((e) => e.id)).size).toBe(5)
      const oldest = await a.query(stream, { order: 'oldest' })
      expect(oldest).toEqual([...newest].reverse())
      expect(await a.query(stream, { order: 'newest' })).toEqual(newest)
    })

    test('entries with the same timeMs keep their append order', async () => {
      const stream = prefix('log-ties') + 's'
      for (const data of ['first', 'second', 'third']) await a.append(stream, 5_000, data)
      await b.append(stream, 5_000, 'fourth')
      expect((await b.query(stream, { order: 'oldest' })).map((e) => e.data)).toEqual(['first', 'second', 'third', 'fourth'])
      expect((await a.query(stream)).map((e) => e.data)).toEqual(['fourth', 'third', 'second', 'first'])
    })

    test('an entry stamped earlier than the newest one is indexed, ordered and trimmed by its own timeMs', async () => {
      const stream = prefix('log-late') + 's'
      await a.append(stream, 2_000, 'on time')
      await b.append(stream, 1_000, 'late')
      const entries = await a.query(stream)
      expect(entries.map((e) => [e.data, e.timeMs])).toEqual([
        ['on time', 2_000],
        ['late', 1_000],
      ])
      expect(new Set(entries.map((e) => e.id)).size).toBe(2)
      expect((await b.query(stream, { order: 'oldest' })).map((e) => e.data)).toEqual(['late', 'on time'])
      expect((await b.query(stream, { toMs: 1_500 })).map((e) => e.data)).toEqual(['late'])
      expect(await a.trim(stream, 1_500)).toBe(1)
      expect((await b.query(stream)).map((e) => e.data)).toEqual(['on time'])
    })

    test('query time window: fromMs and toMs are inclusive, and limit caps the result', async () => {
      const stream = prefix('log-window') + 's'
      for (const t of [100, 200, 300, 400, 500]) await a.append(stream, t, `t${t}`)
      const data = async (query: Parameters<Store['query']>[1]) => (await b.query(stream, query)).map((e) => e.data)
      expect(await data({ fromMs: 200, toMs: 400 })).toEqual(['t400', 't300', 't200'])
      expect(await data({ fromMs: 200, toMs: 400, order: 'oldest' })).toEqual(['t200', 't300', 't400'])
      expect(await data({ fromMs: 201, toMs: 399 })).toEqual(['t300'])
      expect(await data({ fromMs: 300 })).toEqual(['t500', 't400', 't300'])
      expect(await data({ toMs: 300, order: 'oldest' })).toEqual(['t100', 't200', 't300'])
      expect(await data({ fromMs: 501 })).toEqual([])
      expect(await data({ limit: 2 })).toEqual(['t500', 't400'])
      expect(await data({ limit: 2, order: 'oldest' })).toEqual(['t100', 't200'])
      expect(await data({ fromMs: 200, toMs: 400, limit: 2 })).toEqual(['t400', 't300'])
      expect(await data({ fromMs: 200, toMs: 400, limit: 2, order: 'oldest' })).toEqual(['t200', 't300'])
    })

    test('query limit defaults to 100', async () => {
      const stream = prefix('log-limit') + 's'
      await Promise.all(Array.from({ length: 120 }, (_, i) => a.append(stream, 1, `e${i}`)))
      expect(await b.query(stream)).toHaveLength(100)
      expect(await b.query(stream, { limit: 1_000 })).toHaveLength(120)
    })

    test('separate log streams do not mix', async () => {
      const p = prefix('log-streams')
      await a.append(p + 's', 100, 'in s')
      await b.append(p + 's2', 100, 'in s2')
      await a.append(p + 's/x', 100, 'in s/x')
      expect((await a.query(p + 's')).map((e) => e.data)).toEqual(['in s'])
      expect((await b.query(p + 's2')).map((e) => e.data)).toEqual(['in s2'])
      expect((await b.query(p + 's/x')).map((e) => e.data)).toEqual(['in s/x'])
      expect(await a.query(p + 'missing')).toEqual([])
      // Log streams and documents live apart too.
      expect(await a.get(p + 's')).toBeNull()
      expect(await a.list(p)).toEqual([])
    })

    test('trim removes only entries older than beforeMs and returns the count', async () => {
      const p = prefix('log-trim')
      for (const t of [100, 200, 300, 400, 500]) await a.append(p + 's', t, `t${t}`)
      await a.append(p + 'other', 100, 'other')
      expect(await b.trim(p + 's', 300)).toBe(2)
      expect((await a.query(p + 's', { order: 'oldest' })).map((e) => e.data)).toEqual(['t300', 't400', 't500'])
      expect(await a.trim(p + 's', 300)).toBe(0)
      expect(await a.trim(p + 's', 501)).toBe(3)
      expect(await a.query(p + 's')).toEqual([])
      expect((await b.query(p + 'other')).map((e) => e.data)).toEqual(['other'])
      expect(await b.trim(p + 'missing', 1_000)).toBe(0)
    })

    test('appendMany appends a batch in order, with increasing ids, and an empty batch is a no-op', async () => {
      const stream = prefix('log-batch') + 's'
      await a.appendMany(stream, [])
      expect(await b.query(stream)).toEqual([])
      await a.appendMany(stream, [
        { timeMs: 300, data: 'b1' },
        { timeMs: 100, data: 'b2' },
        { timeMs: 300, data: 'b3' },
      ])
      await b.appendMany(stream, [{ timeMs: 200, data: 'b4' }])
      const oldest = await a.query(stream, { order: 'oldest' })
      expect(oldest.map((e) => [e.data, e.timeMs])).toEqual([
        ['b2', 100],
        ['b4', 200],
        ['b1', 300],
        ['b3', 300],
      ])
      const byData = new Map(oldest.map((e) => [e.data, Number(e.id)]))
      expect(byData.get('b1')! < byData.get('b2')! && byData.get('b2')! < byData.get('b3')! && byData.get('b3')! < byData.get('b4')!).toBe(true)
    })

    test('appendRows appends rows as entries whose data is the JSON array of their cells, beside appendMany entries, readable by query, tail and trims', async () => {
      const stream = prefix('log-rows') + 's'
      const rows = (times: number[], strings: (string | null)[][], numbers: number[][]) => rowBatchOf(times, 2, numbers.flat(), 3, strings.flat(), ['same', 'unused'])
      await a.appendRows(stream, rows([], [], []))
      expect(await b.query(stream)).toEqual([])
      // Repeated strings (given once, in the batch's dictionary), a null, non-ASCII and JSON-special text, a float and a large integer.
      await a.appendRows(
        stream,
        rows(
          [300, 100, 300],
          [
            ['same', null, 'a "quoted" \\ line\nbreak'],
            ['same', 'ünïcødé ✓', 'same'],
            ['other', '', 'same'],
          ],
          [
            [200, 1.25],
            [404, 2 ** 40],
            [-1, 0],
          ],
        ),
      )
      await b.appendMany(stream, [{ timeMs: 200, data: 'plain' }])
      const expected: [string, number][] = [
        ['[404,1099511627776,"same","ünïcødé ✓","same"]', 100],
        ['plain', 200],
        ['[200,1.25,"same",null,"a \\"quoted\\" \\\\ line\\nbreak"]', 300],
        ['[-1,0,"other","","same"]', 300],
      ]
      const oldest = await b.query(stream, { order: 'oldest' })
      expect(oldest.map((e) => [e.data, e.timeMs])).toEqual(expected)
      expect(JSON.parse(oldest[2]!.data)).toEqual([200, 1.25, 'same', null, 'a "quoted" \\ line\nbreak'])
      // Ids increase in append order: the rows' along the batch, then the later appendMany's.
      const tail = await a.tail(stream, { limit: 10 })
      expect(tail.map((e) => e.data)).toEqual([expected[2]![0], expected[0]![0], expected[3]![0], 'plain'])
      expect(tail.map((e) => Number(e.id))).toEqual(tail.map((e) => Number(e.id)).sort((x, y) => x - y))
      expect((await a.tail(stream, { afterId: tail[1]!.id })).map((e) => e.data)).toEqual([expected[3]![0], 'plain'])
      expect(await a.trimToCount(stream, 2)).toBe(2)
      expect((await b.query(stream, { order: 'oldest' })).map((e) => e.data)).toEqual([expected[2]![0], expected[3]![0]])
      expect(await b.trim(stream, 301)).toBe(2)
      expect(await a.query(stream)).toEqual([])
    })

    test('startAfter continues a scan strictly past a position, in either order, through equal timestamps', async () => {
      const stream = prefix('log-cursor') + 's'
      await a.appendMany(stream, [100, 200, 200, 200, 300, 400].map((timeMs, i) => ({ timeMs, data: `e${i}` })))
      const all = await b.query(stream)
      const pages = async (order: 'newest' | 'oldest', size: number) => {
        const seen: string[] = []
        let startAfter: { timeMs: number; id: string } | undefined
        for (;;) {
          const page = await either(seen.length).query(stream, { order, limit: size, startAfter })
          if (page.length === 0) return seen
          seen.push(...page.map((e) => e.data))
          const last = page.at(-1)!
          startAfter = { timeMs: last.timeMs, id: last.id }
        }
      }
      for (const size of [1, 2, 4]) {
        expect(await pages('newest', size)).toEqual(all.map((e) => e.data))
        expect(await pages('oldest', size)).toEqual([...all].reverse().map((e) => e.data))
      }
      // Inside a window, the cursor and the window bounds combine.
      const middle = all.find((e) => e.data === 'e2')!
      const data = async (query: Parameters<Store['query']>[1]) => (await a.query(stream, query)).map((e) => e.data)
      expect(await data({ startAfter: middle })).toEqual(['e1', 'e0'])
      expect(await data({ startAfter: middle, order: 'oldest' })).toEqual(['e3', 'e4', 'e5'])
      expect(await data({ startAfter: middle, fromMs: 200 })).toEqual(['e1'])
      expect(await data({ startAfter: middle, order: 'oldest', toMs: 300 })).toEqual(['e3', 'e4'])
      expect(await data({ startAfter: middle, order: 'oldest', toMs: 200 })).toEqual(['e3'])
      expect(await data({ startAfter: middle, fromMs: 201 })).toEqual([])
      // A cursor outside the window does not narrow it.
      expect(await data({ startAfter: { timeMs: 1_000, id: '0' }, toMs: 300 })).toEqual(['e4', 'e3', 'e2', 'e1', 'e0'])
    })

    test('a page cursor is stable while entries are appended, newer ones and late ones alike', async () => {
      const stream = prefix('log-stable') + 's'
      await a.appendMany(stream, Array.from({ length: 10 }, (_, i) => ({ timeMs: 1_000 + i * 10, data: `old${i}` })))
      const first = await b.query(stream, { limit: 4 })
      expect(first.map((e) => e.data)).toEqual(['old9', 'old8', 'old7', 'old6'])
      // Newer entries, one at the cursor's own millisecond, and a late one older than everything.
      await a.appendMany(stream, [
        { timeMs: 2_000, data: 'new' },
        { timeMs: 1_060, data: 'same-ms' },
        { timeMs: 500, data: 'late' },
      ])
      const last = first.at(-1)!
      const rest = await a.query(stream, { startAfter: { timeMs: last.timeMs, id: last.id }, limit: 100 })
      expect(rest.map((e) => e.data)).toEqual(['old5', 'old4', 'old3', 'old2', 'old1', 'old0', 'late'])
    })

    test('tail returns entries in append order whatever their timeMs, from any instance, after an id', async () => {
      const stream = prefix('log-tail') + 's'
      expect(await a.tail(stream)).toEqual([])
      await a.append(stream, 500, 'first')
      await b.append(stream, 100, 'second, stamped earlier')
      await a.appendMany(stream, [
        { timeMs: 900, data: 'third' },
        { timeMs: 50, data: 'fourth' },
      ])
      await a.append(prefix('log-tail-other') + 's', 1, 'another stream')
      const all = await b.tail(stream)
      expect(all.map((e) => [e.data, e.timeMs])).toEqual([
        ['first', 500],
        ['second, stamped earlier', 100],
        ['third', 900],
        ['fourth', 50],
      ])
      expect((await a.tail(stream, { limit: 2 })).map((e) => e.data)).toEqual(['third', 'fourth'])
      expect((await a.tail(stream, { afterId: all[1]!.id })).map((e) => e.data)).toEqual(['third', 'fourth'])
      expect((await b.tail(stream, { afterId: all[1]!.id, limit: 1 })).map((e) => e.data)).toEqual(['third'])
      expect(await a.tail(stream, { afterId: all[3]!.id })).toEqual([])
      await b.append(stream, 10, 'fifth')
      expect((await a.tail(stream, { afterId: all[3]!.id })).map((e) => e.data)).toEqual(['fifth'])
      // Trimmed entries are gone from the tail too.
      expect(await a.trim(stream, 101)).toBe(3)
      expect((await b.tail(stream)).map((e) => e.data)).toEqual(['first', 'third'])
    })

    test('trimToCount keeps the newest entries by time and returns how many went', async () => {
      const stream = prefix('log-count') + 's'
      await a.appendMany(stream, [
        { timeMs: 300, data: 't300' },
        { timeMs: 100, data: 't100' },
        { timeMs: 200, data: 't200a' },
        { timeMs: 200, data: 't200b' },
        { timeMs: 400, data: 't400' },
      ])
      expect(await b.trimToCount(stream, 10)).toBe(0)
      expect(await b.trimToCount(stream, 3)).toBe(2)
      expect((await a.query(stream, { order: 'oldest' })).map((e) => e.data)).toEqual(['t200b', 't300', 't400'])
      expect((await a.tail(stream)).map((e) => e.data)).toEqual(['t300', 't200b', 't400'])
      expect(await a.trimToCount(stream, 3)).toBe(0)
      expect(await a.trimToCount(stream, 0)).toBe(3)
      expect(await b.query(stream)).toEqual([])
      expect(await b.trimToCount(prefix('log-count-missing') + 's', 0)).toBe(0)
    })

    test('retention removes more entries than one chunk in a single call', async () => {
      const stream = prefix('log-many') + 's'
      await a.appendMany(stream, Array.from({ length: 24_000 }, (_, i) => ({ timeMs: i, data: `e${i}` })))
      expect(await b.trim(stream, 11_000)).toBe(11_000)
      expect(await b.trimToCount(stream, 100)).toBe(12_900)
      const left = await a.query(stream, { order: 'oldest', limit: 1_000 })
      expect(left.map((e) => e.data)).toEqual(Array.from({ length: 100 }, (_, i) => `e${23_900 + i}`))
    })

    // ---- typed collections --------------------------------------------------------------------

    const Item = v.object({ name: v.pipe(v.string(), v.minLength(1)), count: v.pipe(v.number(), v.integer()) })

    test('a collection rejects an invalid value on write and stores nothing', async () => {
      const p = prefix('coll-invalid')
      const items = createCollection(a, p, Item)
      await expect(attempt(() => items.put('bad', { name: '', count: 1 }))).rejects.toThrow()
      await expect(attempt(() => items.put('bad', { name: 'x', count: 1.5 }))).rejects.toThrow()
      await expect(attempt(() => items.put('bad', { name: 'x' } as never))).rejects.toThrow()
      expect(await a.list(p)).toEqual([])
      expect(await items.get('bad')).toBeNull()
      const version = await items.put('good', { name: 'x', count: 2 })
      expect(await createCollection(b, p, Item).get('good')).toEqual({ value: { name: 'x', count: 2 }, version: version! })
    })

    test('reading a stored invalid document gives StoreCorruptionError', async () => {
      const p = prefix('coll-corrupt')
      const items = createCollection(a, p, Item)
      await b.put(keys.inCollection(p, 'wrong-shape'), JSON.stringify({ name: 'x', count: 'many' }))
      await b.put(keys.inCollection(p, 'not-json'), '{oops')
      for (const id of ['wrong-shape', 'not-json']) {
        const error = await items.get(id).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(StoreCorruptionError)
        expect((error as StoreCorruptionError).key).toBe(p + id)
      }
      expect(await items.list().catch((e: unknown) => e)).toBeInstanceOf(StoreCorruptionError)
      expect(await items.take('wrong-shape').catch((e: unknown) => e)).toBeInstanceOf(StoreCorruptionError)
    })

    test('listing a large collection lets timers and sockets in meanwhile, and lists every document', async () => {
      // The edge's reconcile lists every route every 30 s on the thread serving requests: with an
      // embedded store each get is answered at once, and 10,000 of them held that thread ~150 ms.
      const p = prefix('coll-turns')
      const items = createCollection(a, p, Item)
      const count = 1_200
      for (let i = 0; i < count; i++) await items.put(`item-${i}`, { name: `n${i}`, count: i })
      let turns = 0
      let isListing = true
      const tick = () => {
        if (!isListing) return
        turns++
        setImmediate(tick)
      }
      setImmediate(tick)
      const listed = await items.list()
      isListing = false
      expect(listed.map(({ value }) => value.count).sort((x, y) => x - y)).toEqual(Array.from({ length: count }, (_, i) => i))
      // A turn at least every 256 documents.
      expect(turns).toBeGreaterThanOrEqual(Math.floor(count / 256))
    })

    test('collection ids() decode safe() segments, including ids containing / and %', async () => {
      const p = prefix('coll-ids')
      const items = createCollection(a, p, Item)
      const ids = ['plain', 'a/b', '100%', '%2F', 'x/../y', 'new\nline', '\u00e9t\u00e9']
      for (const [i, id] of ids.entries()) await items.put(id, { name: id, count: i })
      expect(await a.list(p)).toEqual(ids.map((id) => p + safe(id)).sort())
      const seen = await createCollection(b, p, Item).ids()
      expect([...seen].sort()).toEqual([...ids].sort())
      expect((await items.list()).map(({ id, value }) => [id, value.name])).toEqual(seen.map((id) => [id, id]))
      expect((await items.get('a/b'))!.value.count).toBe(1)
      // An id with "/" never makes documents appear in a nested collection.
      expect(await createCollection(a, p + 'a/', Item).ids()).toEqual([])
    })

    test('collection take returns the typed value exactly once; conditional writes pass through', async () => {
      const p = prefix('coll-take')
      const items = createCollection(a, p, Item)
      const other = createCollection(b, p, Item)
      const v1 = (await items.put('code', { name: 'c', count: 1 }, { ifAbsent: true }))!
      expect(await other.put('code', { name: 'c', count: 9 }, { ifAbsent: true })).toBeNull()
      const v2 = await other.put('code', { name: 'c', count: 2 }, { ifVersion: v1 })
      expect(v2).not.toBeNull()
      expect(await items.del('code', { ifVersion: v1 })).toBe(false)
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? items : other).take('code')))
      expect(results.filter((r) => r !== null)).toEqual([{ name: 'c', count: 2 }])
      expect(await items.get('code')).toBeNull()
      expect(await items.take('code')).toBeNull()
    })

    // ---- log collections ----------------------------------------------------------------------

    const Request = v.object({ host: v.string(), status: v.pipe(v.number(), v.integer()) })

    test('a log collection validates records on append and skips invalid stored entries on query', async () => {
      const stream = prefix('logcoll-valid') + 'requests'
      const clock = createManualClock()
      const log = createLogCollection(a, stream, Request, { retentionMs: 60_000, clock })
      await expect(attempt(() => log.append({ host: 'x', status: 'ok' } as never))).rejects.toThrow()
      expect(await a.query(stream)).toEqual([])
      await log.append({ host: 'example.com', status: 200 })
      await b.append(stream, clock.nowMs(), 'not json')
      await b.append(stream, clock.nowMs(), JSON.stringify({ host: 'x' }))
      clock.advanceMs(10)
      await log.append({ host: 'example.org', status: 404 })
      const records = await createLogCollection(b, stream, Request, { retentionMs: 60_000, clock }).query()
      expect(records.map((r) => [r.timeMs, r.record])).toEqual([
        [clock.nowMs(), { host: 'example.org', status: 404 }],
        [clock.nowMs() - 10, { host: 'example.com', status: 200 }],
      ])
    })

    test('log collection enforceRetention removes only entries older than the retention period', async () => {
      const stream = prefix('logcoll-retention') + 'requests'
      const clock = createManualClock()
      const log = createLogCollection(a, stream, Request, { retentionMs: 1_500, clock })
      await log.append({ host: 'old', status: 200 })
      clock.advanceMs(1_000)
      await log.append({ host: 'middle', status: 200 })
      clock.advanceMs(1_000)
      await log.append({ host: 'new', status: 200 })
      expect(await log.enforceRetention()).toBe(1)
      expect((await log.query({ order: 'oldest' })).map((r) => r.record.host)).toEqual(['middle', 'new'])
      expect(await log.enforceRetention()).toBe(0)
      clock.advanceMs(1_000)
      expect(await log.enforceRetention()).toBe(1)
      expect((await log.query()).map((r) => r.record.host)).toEqual(['new'])
    })
  })
}
