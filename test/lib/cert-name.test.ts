import { describe, expect, test } from 'bun:test'
import { isCertName } from '../../src/lib/index.ts'

describe('isCertName: the one rule for certificate names (API, manager, proxy cert_name)', () => {
  test.each(['shop.test', 'a', 'A_b-c.d', '*.wild.test', 'x'.repeat(253)])('accepts %s', (name) => {
    expect(isCertName(name)).toBe(true)
  })
  test.each(['', '.', '..', '../etc', 'a..b', '.hidden', '_under', '-dash', 'bad/name', 'sp ace', 'x'.repeat(254)])('refuses %p', (name) => {
    expect(isCertName(name)).toBe(false)
  })
})
