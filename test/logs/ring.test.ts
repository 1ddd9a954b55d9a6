/** The ring between the data plane and the writer: FIFO, bounded, and a full ring drops (and counts) the new record. */
import { expect, test } from 'bun:test'
import { recordsOf } from '../../src/logs/record-row.ts'
import { createRecordRing } from '../../src/logs/ring.ts'
import { makeRecord } from './records.ts'

test('records come out in the order they went in, in takes of any size, across the wrap-around', () => {
  const ring = createRecordRing(4)
  const records = Array.from({ length: 10 }, (_, i) => makeRecord({ request_id: `r${i}` }))
  const out: string[] = []
  let next = 0
  for (const take of [3, 1, 2, 4]) {
    while (ring.size < ring.capacity && next < records.length) expect(ring.push(records[next++]!)).toBe(true)
    out.push(...recordsOf(ring.take(take)).map((r) => r.request_id))
  }
  out.push(...recordsOf(ring.take(100)).map((r) => r.request_id))
  expect(out).toEqual(records.map((r) => r.request_id))
  expect(ring.size).toBe(0)
  expect(ring.dropped).toBe(0)
  expect(ring.take(5).count).toBe(0)
})

test('a record comes out of the ring with every field as it went in, nulls included', () => {
  const ring = createRecordRing(2)
  const full = makeRecord({ user: 'alice', client_id: 'client-one', route_id: 'r1', user_agent: 'ünïcødé', outcome: 'backend_error', backend_error: 'timeout', status: 504, duration_ms: 30_000.25, bytes_in: 2 ** 40 })
  const sparse = makeRecord({ proxy: null, user_agent: null, backend: null, scheme: 'http', bytes_out: 0 })
  ring.push(full)
  ring.push(sparse)
  expect(recordsOf(ring.take(2))).toEqual([full, sparse])
})

test('a full ring refuses the new record and counts it; the queued ones are kept', () => {
  const ring = createRecordRing(3)
  for (let i = 0; i < 3; i++) expect(ring.push(makeRecord({ request_id: `kept${i}` }))).toBe(true)
  for (let i = 0; i < 5; i++) expect(ring.push(makeRecord({ request_id: `dropped${i}` }))).toBe(false)
  expect(ring.dropped).toBe(5)
  expect(ring.size).toBe(3)
  expect(recordsOf(ring.take(10)).map((r) => r.request_id)).toEqual(['kept0', 'kept1', 'kept2'])
  expect(ring.push(makeRecord())).toBe(true)
  expect(ring.dropped).toBe(5)
})

test('text cells wrap around the ring of characters: every record comes out whole, in takes of any size', () => {
  // 40 characters: a record's request id, path and address take 12 to 30, so most takes cross the end.
  const ring = createRecordRing(8, 40, 40)
  const records = Array.from({ length: 30 }, (_, i) => makeRecord({ request_id: `id-${i}`, path: `/p/${'x'.repeat(i % 7)}é${i}`, client_ip: `10.0.0.${i}` }))
  const out: string[] = []
  let next = 0
  // Push until the ring refuses (the refused record is offered again after the next take), take 1-3.
  for (let round = 0; out.length < records.length; round++) {
    while (next < records.length && ring.push(records[next]!)) next++
    out.push(...recordsOf(ring.take(1 + (round % 3))).map((record) => `${record.request_id} ${record.path} ${record.client_ip}`))
  }
  expect(ring.dropped).toBeGreaterThan(0)
  expect(out).toEqual(records.map((record) => `${record.request_id} ${record.path} ${record.client_ip}`))
})

test('a record whose text does not fit the characters left (at their most) is dropped and counted; the queued ones are kept', () => {
  const ring = createRecordRing(8, 64, 64)
  const kept = makeRecord({ request_id: 'kept', path: '/a', client_ip: '10.0.0.1' })
  expect(ring.push(kept)).toBe(true)
  expect(ring.push(makeRecord({ request_id: 'too-long', path: `/${'y'.repeat(60)}`, client_ip: '10.0.0.2' }))).toBe(false)
  expect(ring.dropped).toBe(1)
  expect(recordsOf(ring.take(10))).toEqual([kept])
  // Emptied, the same characters are free again, all 64 of them for one record.
  const fits = makeRecord({ request_id: 'fits', path: `/${'z'.repeat(51)}`, client_ip: '10.0.0.3' })
  expect(fits.request_id.length + fits.path.length + fits.client_ip.length).toBe(64)
  expect(ring.push(fits)).toBe(true)
  expect(recordsOf(ring.take(10))).toEqual([fits])
})

test('long paths grow the ring of characters, doubling up to its most, with the queued text kept in order; emptied, it is small again', () => {
  const ring = createRecordRing(8, 64, 1_024)
  const queued = makeRecord({ request_id: 'first', path: '/short', client_ip: '10.0.0.1' })
  expect(ring.push(queued)).toBe(true)
  // 5 × ~120 characters: 64 → 128 → 256 → 512 → 1,024.
  const long = Array.from({ length: 5 }, (_, i) => makeRecord({ request_id: `long-${i}`, path: `/${String(i).repeat(100)}`, client_ip: '10.0.0.2' }))
  for (const record of long) expect(ring.push(record)).toBe(true)
  expect(ring.dropped).toBe(0)
  // Past the most: dropped.
  expect(ring.push(makeRecord({ path: `/${'z'.repeat(1_000)}` }))).toBe(false)
  expect(ring.dropped).toBe(1)
  expect(recordsOf(ring.take(2))).toEqual([queued, long[0]!])
  expect(recordsOf(ring.take(10))).toEqual(long.slice(1))
  // Back to 64: half of it is 32 characters.
  expect(ring.push(makeRecord({ request_id: 'again', path: `/${'y'.repeat(20)}`, client_ip: '10.0.0.3' }))).toBe(true)
  expect(ring.isTextHalfFull).toBe(true)
})

test('a take hands over at most 2 Mi characters of text (more only for a first record that has them alone), the rest in the next take', () => {
  const ring = createRecordRing(100)
  const long = Array.from({ length: 30 }, (_, i) => makeRecord({ request_id: `long-${i}`, path: `/${String(i % 10).repeat(99_999)}` }))
  for (const record of long) expect(ring.push(record)).toBe(true)
  const first = recordsOf(ring.take(100))
  // 2 Mi characters hold 20 paths of 100,000 (and their ids and addresses), not 21.
  expect(first.map((record) => record.request_id)).toEqual(long.slice(0, 20).map((record) => record.request_id))
  expect(recordsOf(ring.take(100))).toEqual(long.slice(20))
})

test('with the dictionary full, repeating values are kept as text in the ring of characters and come out as they went in', () => {
  const ring = createRecordRing(8_192)
  // 4,096 distinct user agents fill the dictionary; the next distinct values are text cells.
  const records = Array.from({ length: 4_200 }, (_, i) => makeRecord({ request_id: `r${i}`, user_agent: `agent/${i}`, host: i >= 4_100 ? `host-${i}.example` : 'app.example' }))
  for (const record of records) expect(ring.push(record)).toBe(true)
  expect(recordsOf(ring.take(5_000))).toEqual(records)
})

test('push costs the same whatever the ring holds (no copying or shifting)', () => {
  const ring = createRecordRing(200_000)
  const record = makeRecord()
  const timePushes = (n: number) => {
    const started = performance.now()
    for (let i = 0; i < n; i++) ring.push(record)
    return performance.now() - started
  }
  timePushes(10_000)
  const early = timePushes(50_000)
  ring.take(10_000)
  const late = timePushes(50_000)
  // Generous: an O(n) push (Array.shift, copying) would be hundreds of times slower at 100,000 queued.
  expect(late).toBeLessThan(Math.max(early * 10, 50))
})

test('a capacity that is not a positive integer is refused', () => {
  for (const capacity of [0, -1, 1.5, Number.NaN]) expect(() => createRecordRing(capacity)).toThrow(RangeError)
})

test('repeating fields with more distinct values than the dictionary holds come out as they went in, across the wrap-around, and after the dictionary starts again', () => {
  // 5,000 distinct user agents and hosts: past the dictionary's 4,096 values, the rest are kept as strings.
  const ring = createRecordRing(6_000)
  const varied = (i: number, round: string) => makeRecord({ request_id: `${round}${i}`, user_agent: `agent/${round}${i}`, host: `h${i % 4_500}.example`, user: i % 3 === 0 ? null : `u${i % 7}` })
  for (const round of ['a', 'b', 'c']) {
    const records = Array.from({ length: 5_000 }, (_, i) => varied(i, round))
    for (const record of records) expect(ring.push(record)).toBe(true)
    const out = [...recordsOf(ring.take(1_234)), ...recordsOf(ring.take(10_000))]
    expect(out).toEqual(records)
    expect(ring.size).toBe(0)
  }
})

test('a recycled batch lends its memory to a later take, whose records come out whole; a batch still held is never written over', () => {
  const ring = createRecordRing(16)
  const push = (prefix: string, count: number, pathLength = 1) => {
    const records = Array.from({ length: count }, (_, i) => makeRecord({ request_id: `${prefix}${i}`, path: `/${prefix}/${'p'.repeat(pathLength + i)}` }))
    for (const record of records) expect(ring.push(record)).toBe(true)
    return records
  }
  push('a', 8)
  const first = ring.take(8)
  const firstRecords = recordsOf(first)
  // Not recycled yet: the next take has memory of its own, and the first batch still reads the same.
  const secondRecords = push('b', 8)
  const second = ring.take(8)
  expect(second.timesMs.buffer).not.toBe(first.timesMs.buffer)
  expect(recordsOf(first)).toEqual(firstRecords)
  ring.recycle(first)
  ring.recycle(first)
  const thirdRecords = push('c', 5)
  const third = ring.take(5)
  expect(third.timesMs.buffer).toBe(first.timesMs.buffer)
  expect(recordsOf(third)).toEqual(thirdRecords)
  expect(recordsOf(second)).toEqual(secondRecords)
  // Recycled twice, it was kept once: the next take gets new memory, not the buffer the third batch is using.
  const fourth = [push('d', 1), ring.take(1)] as const
  expect(fourth[1].timesMs.buffer).not.toBe(third.timesMs.buffer)
  expect(recordsOf(third)).toEqual(thirdRecords)
  // A batch larger than any spare buffer (16 paths of 8,000 characters: 256 KB of text) gets new memory.
  ring.recycle(third)
  const longRecords = push('e', 16, 8_000)
  const long = ring.take(16)
  expect(long.timesMs.buffer).not.toBe(third.timesMs.buffer)
  expect(long.timesMs.buffer.byteLength).toBeGreaterThan(256_000)
  expect(recordsOf(long)).toEqual(longRecords)
  expect(recordsOf(fourth[1])).toEqual(fourth[0])
})

test('the spare buffers kept are the largest: after the small batches of a quiet start, batches under load reuse memory instead of getting fresh pages', () => {
  const ring = createRecordRing(64)
  const take = (prefix: string, count: number, pathLength: number) => {
    const records = Array.from({ length: count }, (_, i) => makeRecord({ request_id: `${prefix}${i}`, path: `/${'p'.repeat(pathLength)}` }))
    for (const record of records) expect(ring.push(record)).toBe(true)
    const batch = ring.take(count)
    expect(recordsOf(batch)).toEqual(records)
    return batch
  }
  // A quiet start: two small batches in flight at once leave two small spares.
  const quiet = [take('a', 2, 1), take('b', 2, 1)]
  for (const batch of quiet) ring.recycle(batch)
  const small = quiet[0]!.timesMs.buffer.byteLength
  // Load: 8 paths of 8,000 characters (128 KB of text) need a larger buffer, which is kept over a small one.
  const loaded = take('c', 8, 8_000)
  expect(loaded.timesMs.buffer.byteLength).toBeGreaterThan(small)
  ring.recycle(loaded)
  expect(take('d', 8, 8_000).timesMs.buffer).toBe(loaded.timesMs.buffer)
  ring.recycle(loaded)
  // A small batch gets the smallest spare that fits, leaving the large one for the next large batch.
  const next = take('e', 2, 1)
  expect(next.timesMs.buffer.byteLength).toBe(small)
  expect(take('f', 8, 8_000).timesMs.buffer).toBe(loaded.timesMs.buffer)
})

test('a buffer made for one huge batch is not kept: its memory goes back once the batch is written', () => {
  const ring = createRecordRing(4)
  const huge = () => {
    const record = makeRecord({ path: `/${'h'.repeat(4_500_000)}` })
    expect(ring.push(record)).toBe(true)
    const batch = ring.take(1)
    expect(recordsOf(batch)).toEqual([record])
    return batch
  }
  const first = huge()
  expect(first.timesMs.buffer.byteLength).toBeGreaterThan(8 * 1024 * 1024)
  ring.recycle(first)
  expect(huge().timesMs.buffer).not.toBe(first.timesMs.buffer)
})
