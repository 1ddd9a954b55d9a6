/**
 * @module When a certificate needs an order: a new or changed request, a failed order whose backoff has
 * run out, or an issued certificate close to expiry. Pure functions of the record and the time.
 */
import type { CertificateRecord, IssuedCertificate } from './certificate-record.ts'

const DAY_MS = 86_400_000
/** The first retry of a failed order; each further failure doubles it, up to RETRY_MAX_MS. */
export const RETRY_MIN_MS = 60_000
export const RETRY_MAX_MS = 6 * 3_600_000

/**
 * The wait before the next attempt after `attempts` consecutive failures (attempts ≥ 1): exponential
 * backoff, but never sooner than a rate-limited CA said to come back (RFC 8555 §6.6, Retry-After).
 */
export function retryDelayMs(attempts: number, retryNotBeforeMs: number | null, nowMs: number): number {
  const backoffMs = Math.min(RETRY_MIN_MS * 2 ** Math.max(0, attempts - 1), RETRY_MAX_MS)
  return Math.max(backoffMs, retryNotBeforeMs === null ? 0 : retryNotBeforeMs - nowMs)
}

/**
 * Renew when a third of the lifetime is left (Let's Encrypt's advice, which tracks shorter lifetimes) or
 * when `thresholdDays` remain (the original's RENEWAL_THRESHOLD_DAYS), whichever comes first, but never
 * before half the lifetime has passed: a short-lived certificate (6 days) would otherwise be renewed at
 * every check.
 */
export function isRenewalDue(issued: Pick<IssuedCertificate, 'not_before' | 'not_after'>, nowMs: number, thresholdDays: number): boolean {
  const notBeforeMs = Date.parse(issued.not_before)
  const notAfterMs = Date.parse(issued.not_after)
  const lifetimeMs = notAfterMs - notBeforeMs
  const renewWithinMs = Math.min(Math.max(lifetimeMs / 3, thresholdDays * DAY_MS), lifetimeMs / 2)
  return notAfterMs - nowMs <= renewWithinMs
}

export function needsOrder(record: CertificateRecord, nowMs: number, thresholdDays: number): boolean {
  switch (record.status) {
    // Asked for and not finished: either it runs now (someone holds the lock) or its node died.
    case 'pending':
    case 'validating':
      return true
    case 'failed':
      return record.next_attempt_at === null || Date.parse(record.next_attempt_at) <= nowMs
    case 'issued':
      return record.issued === null || isRenewalDue(record.issued, nowMs, thresholdDays)
  }
}
