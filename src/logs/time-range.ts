/**
 * @module The time bounds of a query: ISO 8601 (a date, or a date and time with Z or an offset, so
 * the server's zone never changes the answer) or relative to now (`15m`, `2h`, `7d`, `now`).
 */

const RELATIVE = /^(\d{1,9})(s|m|h|d)$/
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i

/** Epoch milliseconds, or null when the text is neither form. */
export function parseTimeBound(text: string, nowMs: number): number | null {
  if (text === 'now') return nowMs
  const relative = RELATIVE.exec(text)
  if (relative) return nowMs - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS]
  if (!ISO_DATE.test(text) && !ISO_DATE_TIME.test(text)) return null
  const ms = Date.parse(text)
  return Number.isFinite(ms) ? ms : null
}

export const TIME_BOUND_HINT = 'expected an ISO 8601 time with Z or an offset (2026-12-01T10:00:00Z), a date, or a time ago such as 15m, 2h, 7d'
