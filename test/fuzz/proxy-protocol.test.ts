/**
 * Fuzzing the PROXY protocol v1/v2 codec (haproxy doc/proxy-protocol.txt): random bytes, the spec's and
 * the HAProxy reg-tests' vectors mutated, and generated headers. Properties: parsing never throws and
 * answers one of its three results; a complete header is never longer than its input nor than the
 * protocol allows, and its TLVs fit inside it; serialize → parse → serialize round-trips byte for byte;
 * every strict prefix of a header is 'incomplete' (§2: the receiver waits for the whole header, never
 * guesses), and bytes after it never change it (they are application data).
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { parseProxyHeader, PROXY_MAX_HEADER_LENGTH, PROXY_V1_MAX_LENGTH, serializeProxyV1, serializeProxyV2, type ParseResult, type ProxyAddresses, type ProxyTlv } from '../../src/proxy/proxy-protocol.ts'
import { concatBytes, FUZZ_TEST_TIMEOUT_MS, fuzz, latin1, mutated, randomBytes, soup } from './fuzz.ts'

const hex = (text: string) => Uint8Array.from(text.trim().split(/\s+/), (h) => parseInt(h, 16))
const SIG = '0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a'
const V2_TCP4 = `${SIG} 21 11 00 14 7F 00 00 01 7F 00 00 01 00 2A 05 39`

/** proxy-protocol.txt §2.1 and §2.2 examples, proxy_protocol_tlv_validation.vtc's four cases, and edge cases from test/proxy/proxy-protocol.test.ts. */
const VECTORS: readonly Uint8Array[] = [
  latin1('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n'),
  latin1('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::ffff:192.0.2.1 0 65535\r\n'),
  latin1('PROXY UNKNOWN\r\n'),
  latin1('PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n'),
  latin1('PROXY TCP4 10.0.0.1 127.0.0.1 01234 80\r\n'),
  latin1('PROXY TCP6 10.0.0.1 127.0.0.1 1234 80\r\n'),
  hex(`${V2_TCP4} 02 00 05 31 32 33 34 35`),
  hex(`${V2_TCP4} 02 00 05 31 32 33 34 35 02 00 05 35 34 33 32 31`),
  hex(`${V2_TCP4} 02 00 0A 31 32 33 34 35 31 32 33 34 35`),
  hex(`${V2_TCP4} 02 00 04 31 32 33 34`),
  hex(`${SIG} 21 21 00 24 20 01 0d b8 00 00 00 00 00 01 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 ff ff c0 00 02 01 d4 31 01 bb`),
  hex(`${SIG} 20 00 00 00`),
  hex(`${SIG} 20 11 00 0c 7F 00 00 01 7F 00 00 01 00 2A 05 39`),
  hex(`${SIG} 21 00 00 03 04 00 00`),
  concatBytes(hex(`${SIG} 21 31 00 db`), new Uint8Array(216).fill(0x61), hex('04 00 00')),
]

const V1_WORDS = ['PROXY ', 'PROXY', ' ', 'TCP4', 'TCP6', 'UNKNOWN', '\r\n', '\r', '\n', '192.168.0.1', '::1', '::ffff:', '2001:db8::', '65535', '65536', '0', '00', '.', ':', '255']

/** The invariants of any one result for `bytes`. */
function checkResult(bytes: Uint8Array, result: ParseResult): void {
  expect(['incomplete', 'invalid', 'complete']).toContain(result.status)
  if (result.status !== 'complete') return
  expect(result.headerLength).toBeGreaterThan(0)
  expect(result.headerLength).toBeLessThanOrEqual(bytes.length)
  expect(result.headerLength).toBeLessThanOrEqual(result.header.version === 1 ? PROXY_V1_MAX_LENGTH : PROXY_MAX_HEADER_LENGTH)
  const tlvBytes = result.header.tlvs.reduce((sum, tlv) => sum + 3 + tlv.value.length, 0)
  expect(tlvBytes).toBeLessThanOrEqual(result.headerLength)
  if (result.header.kind === 'proxy') {
    const { sourcePort, destinationPort } = result.header.addresses
    for (const port of [sourcePort, destinationPort]) expect(Number.isInteger(port) && port >= 0 && port <= 0xffff).toBe(true)
  }
}

const addressesArb: fc.Arbitrary<ProxyAddresses> = fc.oneof(
  fc.record({ family: fc.constant('tcp4' as const), sourceAddress: fc.ipV4(), destinationAddress: fc.ipV4(), sourcePort: fc.integer({ min: 0, max: 65535 }), destinationPort: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ family: fc.constant('tcp6' as const), sourceAddress: fc.ipV6(), destinationAddress: fc.ipV6(), sourcePort: fc.integer({ min: 0, max: 65535 }), destinationPort: fc.integer({ min: 0, max: 65535 }) }),
)
const tlvsArb: fc.Arbitrary<ProxyTlv[]> = fc.array(
  fc.record({ type: fc.integer({ min: 0, max: 255 }), value: fc.uint8Array({ maxLength: 64 }) }),
  { maxLength: 6 },
)
/** Any header the serializers can write: v1 or v2, PROXY or LOCAL/UNKNOWN, with TLVs on v2. */
const headerArb = fc.oneof(
  fc.option(addressesArb).map((addresses) => serializeProxyV1(addresses)),
  fc.tuple(fc.option(addressesArb), tlvsArb).map(([addresses, tlvs]) => serializeProxyV2(addresses, tlvs)),
)

describe('PROXY protocol codec (fuzzed)', () => {
  test('random bytes, mutated vectors and v1 word soup: no throw, bounded results', () => {
    const parsesSafely = (bytes: Uint8Array) => checkResult(bytes, parseProxyHeader(bytes))
    fuzz('proxy: random bytes', fc.property(randomBytes(300), parsesSafely), { runs: 20_000 })
    fuzz('proxy: random bytes after the v2 signature', fc.property(randomBytes(300), (tail) => parsesSafely(concatBytes(hex(SIG), tail))), { runs: 20_000 })
    fuzz('proxy: mutated spec and reg-test vectors', fc.property(mutated(fc.constantFrom(...VECTORS)), parsesSafely), { runs: 40_000 })
    fuzz('proxy: v1 word soup', fc.property(soup(V1_WORDS, 16), parsesSafely), { runs: 20_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('serialize → parse → serialize round-trips, for v1 and v2, with TLVs', () => {
    fuzz('proxy: v1 round-trip', fc.property(fc.option(addressesArb), (addresses) => {
      const bytes = serializeProxyV1(addresses)
      const parsed = parseProxyHeader(bytes)
      if (parsed.status !== 'complete') throw new Error(`not complete: ${parsed.status}`)
      expect(parsed.headerLength).toBe(bytes.length)
      expect(parsed.header.kind).toBe(addresses ? 'proxy' : 'local')
      const again = serializeProxyV1(parsed.header.kind === 'proxy' ? parsed.header.addresses : null)
      expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true)
      if (addresses && parsed.header.kind === 'proxy') {
        expect(parsed.header.addresses.sourcePort).toBe(addresses.sourcePort)
        expect(parsed.header.addresses.destinationPort).toBe(addresses.destinationPort)
        expect(parsed.header.addresses.family).toBe(addresses.family)
      }
    }), { runs: 15_000 })
    fuzz('proxy: v2 round-trip', fc.property(fc.option(addressesArb), tlvsArb, (addresses, tlvs) => {
      const bytes = serializeProxyV2(addresses, tlvs)
      const parsed = parseProxyHeader(bytes)
      if (parsed.status !== 'complete') throw new Error(`not complete: ${parsed.status}`)
      expect(parsed.headerLength).toBe(bytes.length)
      expect(parsed.header.tlvs.map((tlv) => [tlv.type, Array.from(tlv.value)])).toEqual(tlvs.map((tlv) => [tlv.type, Array.from(tlv.value)]))
      const again = serializeProxyV2(parsed.header.kind === 'proxy' ? parsed.header.addresses : null, parsed.header.tlvs)
      expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true)
    }), { runs: 15_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('every strict prefix of a header is incomplete (§2: wait, never guess); bytes after it are application data', () => {
    fuzz('proxy: prefixes and trailing data', fc.property(headerArb, fc.nat(), randomBytes(64), (header, cutAt, trailing) => {
      const prefix = header.subarray(0, cutAt % header.length)
      expect(parseProxyHeader(prefix).status).toBe('incomplete')
      const whole = parseProxyHeader(header)
      const withData = parseProxyHeader(concatBytes(header, trailing))
      expect(withData).toEqual(whole)
    }), { runs: 15_000 })
  }, FUZZ_TEST_TIMEOUT_MS)
})
