/** Client addresses as a dual-stack listener reports them, back to the form the client really has. */
import { describe, expect, test } from 'bun:test'
import { normalizeClientAddress } from '../../src/lib/index.ts'

describe('normalizeClientAddress', () => {
  test('RFC 4291 §2.5.5.2: an IPv4-mapped IPv6 address is the IPv4 address, in every spelling and case', () => {
    for (const mapped of ['::ffff:1.2.3.4', '::FFFF:1.2.3.4', '::Ffff:1.2.3.4', '0:0:0:0:0:ffff:1.2.3.4', '0000:0000:0000:0000:0000:FFFF:1.2.3.4', '::ffff:102:304', '::ffff:0102:0304']) {
      expect(normalizeClientAddress(mapped)).toBe('1.2.3.4')
    }
    expect(normalizeClientAddress('::ffff:127.0.0.1')).toBe('127.0.0.1')
    expect(normalizeClientAddress('::ffff:7f00:1')).toBe('127.0.0.1')
    expect(normalizeClientAddress('::ffff:0.0.0.0')).toBe('0.0.0.0')
  })

  test('plain IPv4 and IPv6 addresses are unchanged', () => {
    for (const address of ['1.2.3.4', '127.0.0.1', '::1', '::', '2001:db8::1', 'fe80::1', 'FD00::2', 'ffff::1', '::ffff', '::ffff:0:1.2.3.4', '1::ffff:1.2.3.4']) {
      expect(normalizeClientAddress(address)).toBe(address)
    }
  })

  test('an IPv4-compatible address (::1.2.3.4, deprecated by RFC 4291 §2.5.5.1) and NAT64 (64:ff9b::/96) stay IPv6', () => {
    expect(normalizeClientAddress('::1.2.3.4')).toBe('::1.2.3.4')
    expect(normalizeClientAddress('64:ff9b::1.2.3.4')).toBe('64:ff9b::1.2.3.4')
  })

  test('text that is not an address comes back unchanged, never half-converted', () => {
    for (const text of ['', 'unknown', '::ffff:999.1.2.3', '::ffff:1.2.3', '[::ffff:1.2.3.4]', '::ffff:1.2.3.4%eth0', '::ffff:1.2.3.4:80', 'ffff']) {
      expect(normalizeClientAddress(text)).toBe(text)
    }
  })
})
