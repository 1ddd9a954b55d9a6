/** @module Constant-time comparison of secrets, so response timing reveals nothing. */
import { timingSafeEqual } from 'node:crypto'

export function secretsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  // Compare against itself when lengths differ so the work done does not depend on the guess.
  if (left.length !== right.length) {
    timingSafeEqual(left, left)
    return false
  }
  return timingSafeEqual(left, right)
}
