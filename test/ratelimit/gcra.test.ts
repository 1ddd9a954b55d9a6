/** GCRA (ITU-T I.371 §4.4.2, virtual scheduling): burst at once, then the sustained rate; RFC 9110 §10.2.3 Retry-After. */
import { describe, expect, test } from 'bun:test'
import { addressIdentity, gcraStep, retryAfterSeconds, type RateLimit } from '../../src/ratelimit/index.ts'

/** Runs requests at the given times and says which were admitted, keeping the TAT as a limiter would. */
function admittedAt(times: readonly number[], limit: RateLimit): boolean[] {
  let tat: number | null = null
  return times.map((nowMs) => {
    const step = gcraStep(tat, nowMs, limit)
    if (step.isAdmitted) tat = step.tat
    return step.isAdmitted
  })
}

describe('gcraStep', () => {
  test('a full bucket admits exactly `burst` requests at one instant, then refuses', () => {
    expect(admittedAt([0, 0, 0, 0, 0], { perSecond: 1, burst: 3 })).toEqual([true, true, true, false, false])
  })

  test('after the burst, one request per emission interval (10/s: every 100 ms), and no more', () => {
    const limit = { perSecond: 10, burst: 2 }
    expect(admittedAt([0, 0, 0, 99, 100, 150, 200, 200], limit)).toEqual([true, true, false, false, true, false, true, false])
  })

  test('a client that stays under the rate is never refused', () => {
    const times = Array.from({ length: 100 }, (_, i) => i * 101)
    expect(admittedAt(times, { perSecond: 10, burst: 1 }).every(Boolean)).toBe(true)
  })

  test('a refusal says how long until the next request is admitted, and a retry then is admitted', () => {
    const limit = { perSecond: 2, burst: 2 }
    const first = gcraStep(null, 1_000, limit)
    const second = first.isAdmitted ? gcraStep(first.tat, 1_000, limit) : first
    expect(second.isAdmitted).toBe(true)
    const third = second.isAdmitted ? gcraStep(second.tat, 1_000, limit) : second
    expect(third).toEqual({ isAdmitted: false, retryAfterMs: 500 })
    const retried = second.isAdmitted ? gcraStep(second.tat, 1_500, limit) : second
    expect(retried.isAdmitted).toBe(true)
  })

  test('an idle client refills to the burst, never beyond it', () => {
    const limit = { perSecond: 1, burst: 2 }
    expect(admittedAt([0, 0, 60_000, 60_000, 60_000], limit)).toEqual([true, true, true, true, false])
  })

  test('the TAT kept is at most burst intervals ahead of now (what a store TTL relies on)', () => {
    const limit = { perSecond: 4, burst: 5 }
    let tat: number | null = null
    for (let i = 0; i < 20; i++) {
      const step = gcraStep(tat, 0, limit)
      if (step.isAdmitted) tat = step.tat
    }
    expect(tat).toBe(5 * 250)
  })
})

describe('retryAfterSeconds', () => {
  test('RFC 9110 §10.2.3: whole seconds, rounded up, at least 1', () => {
    expect(retryAfterSeconds(1)).toBe(1)
    expect(retryAfterSeconds(999)).toBe(1)
    expect(retryAfterSeconds(1_000)).toBe(1)
    expect(retryAfterSeconds(1_001)).toBe(2)
    expect(retryAfterSeconds(3_600_000)).toBe(3_600)
  })
})

describe('addressIdentity', () => {
  test('IPv4 is counted per address', () => {
    expect(addressIdentity('203.0.113.7')).toBe('203.0.113.7')
  })

  test('RFC 4291 §2.5.4: IPv6 is counted per /64, however the address is spelled', () => {
    const spellings = ['2001:db8:1:2::1', '2001:0db8:0001:0002:0000:0000:0000:0001', '2001:DB8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2:a:b:1.2.3.4', 'fe80::1%eth0'.replace('fe80::', '2001:db8:1:2::')]
    for (const address of spellings) expect(addressIdentity(address)).toBe('2001:db8:1:2::/64')
    expect(addressIdentity('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64')
    expect(addressIdentity('::1')).toBe('0:0:0:0::/64')
  })

  test('text that is no address is its own identity', () => {
    expect(addressIdentity('not:an:address')).toBe('not:an:address')
    expect(addressIdentity('local:alice')).toBe('local:alice')
  })
})
