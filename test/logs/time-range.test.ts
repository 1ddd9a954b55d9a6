/** Query times: ISO 8601 with a zone (never the server's), dates, and times ago; anything else is refused. */
import { expect, test } from 'bun:test'
import { parseTimeBound } from '../../src/logs/index.ts'

const NOW = Date.UTC(2026, 10, 27, 12)

test('times ago: seconds, minutes, hours, days, and now', () => {
  expect(parseTimeBound('now', NOW)).toBe(NOW)
  expect(parseTimeBound('30s', NOW)).toBe(NOW - 30_000)
  expect(parseTimeBound('15m', NOW)).toBe(NOW - 900_000)
  expect(parseTimeBound('2h', NOW)).toBe(NOW - 7_200_000)
  expect(parseTimeBound('7d', NOW)).toBe(NOW - 7 * 86_400_000)
})

test('ISO 8601 with Z or an offset, fractions, and plain dates (UTC midnight)', () => {
  expect(parseTimeBound('2026-11-27T10:00:00Z', NOW)).toBe(Date.UTC(2026, 10, 27, 10))
  expect(parseTimeBound('2026-11-27T10:00Z', NOW)).toBe(Date.UTC(2026, 10, 27, 10))
  expect(parseTimeBound('2026-11-27T10:00:00.250Z', NOW)).toBe(Date.UTC(2026, 10, 27, 10, 0, 0, 250))
  expect(parseTimeBound('2026-11-27T12:00:00+02:00', NOW)).toBe(Date.UTC(2026, 10, 27, 10))
  expect(parseTimeBound('2026-11-27', NOW)).toBe(Date.UTC(2026, 10, 27))
})

test('a time without a zone, other formats and nonsense are refused', () => {
  for (const text of ['2026-11-27T10:00:00', '27/11/2026', 'yesterday', '15', '-5m', '1w', '2026-13-40', '2026-11-27T25:00:00Z', '', ' 15m']) {
    expect(parseTimeBound(text, NOW), text).toBeNull()
  }
})
