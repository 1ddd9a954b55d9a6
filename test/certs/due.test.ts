/** When a certificate is ordered again: backoff after failures, rate limits, and the renewal window. */
import { describe, expect, test } from 'bun:test'
import { parseRetryAfter } from '../../src/certs/acme-account.ts'
import type { CertificateRecord } from '../../src/certs/certificate-record.ts'
import { isRenewalDue, needsOrder, retryDelayMs, RETRY_MAX_MS } from '../../src/certs/due.ts'
import { describeFailure } from '../../src/certs/issuance.ts'

const DAY_MS = 86_400_000
const NOW = Date.UTC(2026, 5, 1)
const iso = (ms: number) => new Date(ms).toISOString()

describe('retryDelayMs', () => {
  test('one minute after the first failure, doubling, at most six hours', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30].map((attempts) => retryDelayMs(attempts, null, NOW) / 60_000)).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360])
    expect(RETRY_MAX_MS).toBe(6 * 3_600_000)
  })

  test('RFC 8555 §6.6: a rate-limited CA’s Retry-After wins when it is later than the backoff', () => {
    expect(retryDelayMs(1, NOW + 3 * 3_600_000, NOW)).toBe(3 * 3_600_000)
    expect(retryDelayMs(1, NOW + 10_000, NOW)).toBe(60_000)
    expect(retryDelayMs(2, NOW - 10_000, NOW)).toBe(120_000)
  })
})

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  test('delay-seconds and HTTP-date; anything else is no hint', () => {
    expect(parseRetryAfter('120', NOW)).toBe(NOW + 120_000)
    expect(parseRetryAfter('Wed, 03 Jun 2026 00:00:00 GMT', NOW)).toBe(Date.UTC(2026, 5, 3))
    for (const value of [undefined, '', 'soon', '-5']) expect(parseRetryAfter(value, NOW)).toBeNull()
  })
})

describe('isRenewalDue', () => {
  const issued = (lifetimeDays: number, ageDays: number) => ({ not_before: iso(NOW - ageDays * DAY_MS), not_after: iso(NOW + (lifetimeDays - ageDays) * DAY_MS) })

  test('a 90-day certificate: due with 30 days left (a third, and the threshold), not with 31', () => {
    expect(isRenewalDue(issued(90, 59), NOW, 30)).toBe(false)
    expect(isRenewalDue(issued(90, 60), NOW, 30)).toBe(true)
  })

  test('a long certificate renews when a third is left, before the 30-day threshold', () => {
    expect(isRenewalDue(issued(1800, 1150), NOW, 30)).toBe(false)
    expect(isRenewalDue(issued(1800, 1200), NOW, 30)).toBe(true)
  })

  test('a larger threshold renews earlier, but never before half the lifetime: a 6-day certificate is not renewed at every check', () => {
    expect(isRenewalDue(issued(90, 30), NOW, 60)).toBe(false)
    expect(isRenewalDue(issued(90, 45), NOW, 60)).toBe(true)
    expect(isRenewalDue(issued(6, 2), NOW, 30)).toBe(false)
    expect(isRenewalDue(issued(6, 3), NOW, 30)).toBe(true)
  })
})

describe('needsOrder', () => {
  const record = (changes: Partial<CertificateRecord>): CertificateRecord => ({
    cert_name: 'x',
    domains: ['x.test'],
    email: null,
    directory_url: 'https://ca.test/dir',
    status: 'issued',
    error: null,
    attempts: 0,
    next_attempt_at: null,
    generation: 'g',
    created_at: iso(NOW),
    updated_at: iso(NOW),
    created_by: null,
    issued: null,
    ...changes,
  })
  const fresh = { chain_pem: '', key_pem: '', domains: ['x.test'], issuer: null, serial: '01', fingerprint_sha256: '', not_before: iso(NOW - DAY_MS), not_after: iso(NOW + 89 * DAY_MS) }

  test('pending and validating always (a node that died leaves them so); failed once its backoff ends; issued when due', () => {
    expect(needsOrder(record({ status: 'pending' }), NOW, 30)).toBe(true)
    expect(needsOrder(record({ status: 'validating' }), NOW, 30)).toBe(true)
    expect(needsOrder(record({ status: 'failed', next_attempt_at: iso(NOW + 1) }), NOW, 30)).toBe(false)
    expect(needsOrder(record({ status: 'failed', next_attempt_at: iso(NOW) }), NOW, 30)).toBe(true)
    expect(needsOrder(record({ status: 'issued', issued: fresh }), NOW, 30)).toBe(false)
    expect(needsOrder(record({ status: 'issued', issued: { ...fresh, not_before: iso(NOW - 80 * DAY_MS), not_after: iso(NOW + 10 * DAY_MS) } }), NOW, 30)).toBe(true)
  })
})

describe('describeFailure', () => {
  test('one bounded line, with anything PEM-shaped removed', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----'
    expect(describeFailure(new Error(`bad\n  thing ${pem} after`))).toBe('bad thing [PEM removed] after')
    expect(describeFailure(new Error(`cut ${pem.slice(0, 60)}`))).toBe('cut [PEM removed]')
    expect(describeFailure(new Error('x'.repeat(5000))).length).toBe(1000)
    expect(describeFailure('')).toBe('the order failed without a reason')
  })
})
