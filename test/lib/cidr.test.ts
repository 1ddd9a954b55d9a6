import { describe, expect, test } from 'bun:test'
import { cidrContains, parseCidr, parseDurationSec } from '../../src/lib/index.ts'

describe('CIDR', () => {
  const contains = (cidr: string, address: string) => cidrContains(parseCidr(cidr)!, address)

  test('IPv4 ranges and single addresses', () => {
    expect(contains('10.0.0.0/8', '10.255.1.2')).toBe(true)
    expect(contains('10.0.0.0/8', '11.0.0.1')).toBe(false)
    expect(contains('192.168.1.7', '192.168.1.7')).toBe(true)
    expect(contains('192.168.1.7', '192.168.1.8')).toBe(false)
    expect(contains('0.0.0.0/0', '203.0.113.9')).toBe(true)
    expect(contains('127.0.0.1/32', '::ffff:127.0.0.1')).toBe(true)
  })

  test('IPv6 ranges, compressed forms and families kept apart', () => {
    expect(contains('::1', '::1')).toBe(true)
    expect(contains('2001:db8::/32', '2001:db8:ffff::1')).toBe(true)
    expect(contains('2001:db8::/32', '2001:db9::1')).toBe(false)
    expect(contains('fe80::/10', 'febf::1')).toBe(true)
    expect(contains('::/0', '10.0.0.1')).toBe(false)
    expect(contains('10.0.0.0/8', '::1')).toBe(false)
  })

  test('a dual-stack client (::ffff:a.b.c.d, any spelling) matches IPv4 ranges; a plain IPv4 address never matches an IPv6 range', () => {
    for (const mapped of ['::ffff:10.0.0.1', '::FFFF:10.0.0.1', '::ffff:a00:1', '0:0:0:0:0:ffff:10.0.0.1']) {
      expect(contains('10.0.0.0/8', mapped)).toBe(true)
      expect(contains('11.0.0.0/8', mapped)).toBe(false)
    }
    // The mapped form is still an IPv6 address for IPv6 ranges (the CIMD blocklist names ::ffff:0:0/96).
    expect(contains('::ffff:0:0/96', '::ffff:10.0.0.1')).toBe(true)
    // Normalized to 10.0.0.1, the client no longer matches a range written in the mapped form: write IPv4 ranges as IPv4.
    expect(contains('::ffff:10.0.0.0/104', '10.0.0.1')).toBe(false)
    expect(contains('::ffff:0:0/96', '10.0.0.1')).toBe(false)
  })

  test('malformed CIDRs are rejected', () => {
    for (const bad of ['', '10.0.0.0/33', '10.0.0/8', '::1/129', 'a.b.c.d', '10.0.0.0/-1', '10.0.0.0/8/8', 'localhost']) {
      expect(parseCidr(bad)).toBeNull()
    }
  })
})

describe('durations', () => {
  test('units and bare seconds', () => {
    expect(parseDurationSec('90')).toBe(90)
    expect(parseDurationSec('90s')).toBe(90)
    expect(parseDurationSec('15m')).toBe(900)
    expect(parseDurationSec('1h')).toBe(3600)
    expect(parseDurationSec('30d')).toBe(2_592_000)
    for (const bad of ['', '0', '-1', '1.5h', '1w', 'h', '1 hour', '9'.repeat(20)]) expect(parseDurationSec(bad)).toBeNull()
  })
})
