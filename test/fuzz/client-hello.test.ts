/**
 * Fuzzing the TLS ClientHello reader (RFC 8446 §4.1.2, RFC 6066 §3 server_name): random bytes,
 * generated ClientHellos fragmented over records at random (RFC 8446 §5.1 allows any split), and
 * those mutated. Properties: it never throws; a name it returns is a lower-case DNS name of at most
 * 253 bytes; a generated hello yields its own name however it is fragmented, every strict prefix of it
 * is 'incomplete' and bytes after it change nothing; and once maxBytes are held it never asks for more
 * (the listener's buffer is bounded by it).
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { readClientHelloSni, type SniResult } from '../../src/edge/client-hello.ts'
import { concatBytes, cut, FUZZ_TEST_TIMEOUT_MS, fuzz, mutated, randomBytes, splits } from './fuzz.ts'

const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff)
const u24 = (n: number) => Uint8Array.of(n >> 16, (n >> 8) & 0xff, n & 0xff)
const DNS_NAME = /^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*$/

interface Hello {
  readonly serverName: string | null
  /** The handshake message: type, uint24 length, body. */
  readonly message: Uint8Array
}

function serverNameExtension(name: string): Uint8Array {
  const entry = concatBytes(Uint8Array.of(0), u16(name.length), Buffer.from(name, 'latin1'))
  const list = concatBytes(u16(entry.length), entry)
  return concatBytes(u16(0), u16(list.length), list)
}

const otherExtensionArb = fc
  .record({ type: fc.integer({ min: 1, max: 0xffff }), data: fc.uint8Array({ maxLength: 40 }) })
  .map(({ type, data }) => concatBytes(u16(type), u16(data.length), data))

/** A well-formed ClientHello, with or without server_name, among other extensions. */
const helloArb: fc.Arbitrary<Hello> = fc
  .record({
    name: fc.option(fc.mixedCase(fc.domain()).filter((name) => name.length <= 253)),
    random: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    sessionId: fc.uint8Array({ maxLength: 32 }),
    suites: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 20 }),
    compression: fc.uint8Array({ minLength: 1, maxLength: 3 }),
    before: fc.array(otherExtensionArb, { maxLength: 4 }),
    after: fc.array(otherExtensionArb, { maxLength: 4 }),
    hasExtensions: fc.boolean(),
  })
  .map(({ name, random, sessionId, suites, compression, before, after, hasExtensions }) => {
    const extensions = concatBytes(...before, ...(name === null ? [] : [serverNameExtension(name)]), ...after)
    const withExtensions = hasExtensions || name !== null
    const body = concatBytes(
      Uint8Array.of(3, 3),
      random,
      Uint8Array.of(sessionId.length),
      sessionId,
      u16(suites.length * 2),
      ...suites.map(u16),
      Uint8Array.of(compression.length),
      compression,
      ...(withExtensions ? [u16(extensions.length), extensions] : []),
    )
    return { serverName: name === null ? null : name.toLowerCase(), message: concatBytes(Uint8Array.of(1), u24(body.length), body) }
  })

/** The handshake message in TLS records, cut into fragments at `points` (each record 1 to 2^14 bytes). */
function inRecords(message: Uint8Array, points: readonly number[]): Uint8Array {
  const fragments = cut(message, points).flatMap((piece) => cut(piece, Array.from({ length: Math.floor(piece.length / 16_384) }, (_, i) => (i + 1) * 16_384)))
  return concatBytes(...fragments.filter((f) => f.length > 0).map((f) => concatBytes(Uint8Array.of(22, 3, 1), u16(f.length), f)))
}

const recordsArb = fc.tuple(helloArb, splits(6)).map(([hello, points]) => ({ hello, bytes: inRecords(hello.message, points) }))

function checkResult(bytes: Uint8Array, maxBytes: number, result: SniResult): void {
  expect(['incomplete', 'invalid', 'complete']).toContain(result.status)
  if (result.status === 'complete' && result.serverName !== null) {
    expect(result.serverName.length).toBeLessThanOrEqual(253)
    expect(result.serverName).toMatch(DNS_NAME)
  }
  // Bounded buffering: holding maxBytes, the reader has decided.
  if (bytes.length >= maxBytes) expect(result.status).not.toBe('incomplete')
}

describe('ClientHello reader (fuzzed)', () => {
  test('random bytes, random records and mutated ClientHellos: no throw, a valid name or none, a decision by maxBytes', () => {
    const readsSafely = (bytes: Uint8Array, maxBytes: number) => checkResult(bytes, maxBytes, readClientHelloSni(bytes, maxBytes))
    fuzz('client-hello: random bytes', fc.property(randomBytes(400), fc.integer({ min: 1, max: 512 }), readsSafely), { runs: 20_000 })
    fuzz('client-hello: random handshake records', fc.property(randomBytes(400), fc.integer({ min: 5, max: 512 }), (tail, maxBytes) => readsSafely(concatBytes(Uint8Array.of(22, 3, 1), tail), maxBytes)), { runs: 20_000 })
    fuzz('client-hello: mutated ClientHellos', fc.property(mutated(recordsArb.map((r) => r.bytes), 4), fc.constantFrom(16_384, 1_024, 300), readsSafely), { runs: 20_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('a generated ClientHello yields its server name however it is fragmented; its prefixes are incomplete; bytes after it change nothing', () => {
    fuzz('client-hello: generated', fc.property(recordsArb, fc.nat(), randomBytes(32), ({ hello, bytes }, cutAt, trailing) => {
      expect(readClientHelloSni(bytes)).toEqual({ status: 'complete', serverName: hello.serverName })
      expect(readClientHelloSni(bytes.subarray(0, cutAt % bytes.length)).status).toBe('incomplete')
      expect(readClientHelloSni(concatBytes(bytes, trailing))).toEqual({ status: 'complete', serverName: hello.serverName })
    }), { runs: 15_000 })
  }, FUZZ_TEST_TIMEOUT_MS)
})
