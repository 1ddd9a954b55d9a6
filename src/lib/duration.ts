/** @module Parses human durations ("90s", "15m", "1h", "30d", or bare seconds) into seconds. */

const UNIT_SEC = { s: 1, m: 60, h: 3600, d: 86400 } as const

/** Returns whole seconds, or null when the text is not a positive duration. */
export function parseDurationSec(text: string): number | null {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim())
  if (!match) return null
  const amount = Number(match[1])
  const unit = (match[2] || 's') as keyof typeof UNIT_SEC
  const seconds = amount * UNIT_SEC[unit]
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : null
}
