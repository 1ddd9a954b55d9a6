/**
 * @module Page cursors: an opaque token for the position of the last record a page covered (its time
 * and stream id). The next page starts strictly after it, so records written meanwhile, newer or
 * late, never shift or repeat a page.
 */
import type { LogPosition } from '../store/index.ts'

export function encodeCursor(position: LogPosition): string {
  return Buffer.from(`${position.timeMs}.${position.id}`).toString('base64url')
}

/** The position, or null when the token is not one of ours. */
export function decodeCursor(token: string): LogPosition | null {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(token)) return null
  const match = /^(-?\d{1,16})\.(\d{1,15})$/.exec(Buffer.from(token, 'base64url').toString())
  if (!match) return null
  const timeMs = Number(match[1])
  return Number.isSafeInteger(timeMs) ? { timeMs, id: match[2]! } : null
}
