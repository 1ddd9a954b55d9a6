/** Unique visitors: the HyperLogLog estimate against exact counts (issue #12: within 2 % for 10,000 distinct addresses). */
import { expect, test } from 'bun:test'
import { createHyperLogLog } from '../../src/logs/index.ts'

const ipv4 = (i: number) => `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`
const ipv6 = (i: number) => `2001:db8::${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}`
const withinPercent = (estimate: number, exact: number, percent: number) => Math.abs(estimate - exact) <= (exact * percent) / 100

test('10,000 distinct IPv4 addresses, each seen many times, are counted within 2 %', () => {
  const hll = createHyperLogLog()
  for (let round = 0; round < 5; round++) for (let i = 0; i < 10_000; i++) hll.add(ipv4(i * 7 + 3))
  expect(withinPercent(hll.count(), 10_000, 2)).toBe(true)
})

test('10,000 distinct IPv6 addresses are counted within 2 %', () => {
  const hll = createHyperLogLog()
  for (let i = 0; i < 10_000; i++) hll.add(ipv6(i))
  expect(withinPercent(hll.count(), 10_000, 2)).toBe(true)
})

test('from a handful to a million distinct values, the estimate stays within 2 % (at 100 and fewer: within 2 values)', () => {
  for (const exact of [1, 2, 10, 100, 1_000, 50_000, 200_000, 1_000_000]) {
    const hll = createHyperLogLog()
    for (let i = 0; i < exact; i++) hll.add(ipv4(i))
    const estimate = hll.count()
    if (exact <= 100) expect(Math.abs(estimate - exact), `${exact}`).toBeLessThanOrEqual(2)
    else expect(withinPercent(estimate, exact, 2), `${exact}: ${estimate}`).toBe(true)
  }
})

test('nothing added counts 0; the same value any number of times counts 1', () => {
  const hll = createHyperLogLog()
  expect(hll.count()).toBe(0)
  for (let i = 0; i < 1_000; i++) hll.add('192.0.2.1')
  expect(hll.count()).toBe(1)
})

test('precision outside 4-16 is refused', () => {
  for (const precision of [3, 17, 10.5]) expect(() => createHyperLogLog(precision)).toThrow(RangeError)
})
