/**
 * Fuzzing the body trackers (proxy/relay/body-tracker.ts) and the chunked scanner under them (RFC 9112
 * §7.1): generated chunked bodies (sizes in any case with leading zeros, extensions, trailers), those
 * mutated, and random bytes, each fed whole and cut into random pieces as a socket delivers them.
 * Properties: the only error is Http1ProtocolError (the relay's 502), never another throw; the
 * outcome — where the body ends, or that it is malformed, or that more is due — does not depend on
 * how the bytes were cut; a generated body ends exactly at its last byte, whatever follows it; and
 * lines past the limits (4 KiB size line, 16 KiB of trailers) fail rather than being held.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { Http1ProtocolError, MAX_CHUNK_LINE_BYTES, MAX_TRAILER_BYTES } from '../../src/proxy/http1-response.ts'
import { createBodyTracker } from '../../src/proxy/relay/body-tracker.ts'
import { cut, FUZZ_TEST_TIMEOUT_MS, fuzz, latin1, mutated, randomBytes, soup, splits } from './fuzz.ts'
import { tokenArb } from './http-request.ts'

type Outcome = { readonly kind: 'end'; readonly at: number } | { readonly kind: 'more' } | { readonly kind: 'malformed' }

/** Feeds `pieces` to a fresh tracker as consecutive reads; where the body ends in the whole stream. */
function track(framing: Parameters<typeof createBodyTracker>[0], pieces: readonly Uint8Array[]): Outcome {
  const tracker = createBodyTracker(framing)
  let offset = 0
  for (const piece of pieces) {
    let end: number
    try {
      end = tracker.consume(piece, 0)
    } catch (error) {
      if (error instanceof Http1ProtocolError) return { kind: 'malformed' }
      throw error
    }
    if (end !== -1) {
      expect(end).toBeGreaterThanOrEqual(0)
      expect(end).toBeLessThanOrEqual(piece.length)
      expect(tracker.isComplete).toBe(true)
      return { kind: 'end', at: offset + end }
    }
    offset += piece.length
  }
  return { kind: 'more' }
}

const hexCase = fc.constantFrom((s: string) => s, (s: string) => s.toUpperCase())
const chunkArb = fc.record({
  data: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  zeros: fc.integer({ min: 0, max: 3 }),
  upper: hexCase,
  extension: fc.constantFrom('', ';a=b', '; name="quoted;value"', ';x', ' \t;ext'),
})
const trailerArb = fc.tuple(tokenArb, fc.constantFrom('v', '', 'a b', '\x80\xff')).map(([name, value]) => `${name}: ${value}\r\n`)

/** A well-formed chunked body: chunks, the last chunk, trailers, the final CRLF. */
const chunkedArb = fc.tuple(fc.array(chunkArb, { maxLength: 6 }), fc.array(trailerArb, { maxLength: 3 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom('', ';last')).map(([chunks, trailers, lastZeros, lastExtension]) => {
  const parts: Uint8Array[] = []
  for (const chunk of chunks) {
    parts.push(latin1(`${'0'.repeat(chunk.zeros)}${chunk.upper(chunk.data.length.toString(16))}${chunk.extension}\r\n`), chunk.data, latin1('\r\n'))
  }
  parts.push(latin1(`${'0'.repeat(lastZeros)}${lastExtension}\r\n${trailers.join('')}\r\n`))
  return Buffer.concat(parts)
})

const CHUNK_WORDS = ['0', '1', 'a', 'F', 'ffffffffffffff', '\r\n', '\r', '\n', ';', '=', '"', ' ', '\t', 'x', ':', 'Trailer: v', '\r\n\r\n', '0\r\n\r\n']

describe('chunked and length body tracking (fuzzed)', () => {
  test('only Http1ProtocolError escapes, and the outcome does not depend on how the bytes were cut', () => {
    const inputs = fc.oneof(chunkedArb, mutated(chunkedArb, 6), soup(CHUNK_WORDS, 30), randomBytes(300))
    fuzz('chunked: split invariance', fc.property(inputs, splits(8), (bytes, points) => {
      const whole = track({ kind: 'chunked' }, [bytes])
      expect(track({ kind: 'chunked' }, cut(bytes, points))).toEqual(whole)
    }), { runs: 40_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('a well-formed chunked body ends at its last byte, however it is cut and whatever follows', () => {
    fuzz('chunked: generated bodies', fc.property(chunkedArb, splits(8), randomBytes(32), (body, points, after) => {
      expect(track({ kind: 'chunked' }, cut(body, points))).toEqual({ kind: 'end', at: body.length })
      const stream = Buffer.concat([body, after])
      expect(track({ kind: 'chunked' }, cut(stream, points))).toEqual({ kind: 'end', at: body.length })
      if (body.length > 1) expect(track({ kind: 'chunked' }, [body.subarray(0, body.length - 1)])).toEqual({ kind: 'more' })
    }), { runs: 20_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('a Content-Length body ends after exactly its length, however it is cut', () => {
    fuzz('length: generated bodies', fc.property(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 0, max: 100 }), splits(8), (length, extra, points) => {
      const stream = new Uint8Array(length + extra)
      expect(track({ kind: 'length', bytes: length }, cut(stream, points))).toEqual({ kind: 'end', at: length })
      expect(track({ kind: 'length', bytes: length }, cut(stream.subarray(0, length - 1), points))).toEqual({ kind: 'more' })
    }), { runs: 10_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('a size line or trailer section past its limit fails, however it is cut (nothing unbounded is held)', () => {
    fuzz('chunked: limits', fc.property(fc.constantFrom('size-line', 'trailers'), fc.integer({ min: 1, max: 2_000 }), splits(8), (where, over, points) => {
      const bytes = where === 'size-line'
        ? latin1(`1;${'e'.repeat(MAX_CHUNK_LINE_BYTES + over)}`)
        : latin1(`0\r\n${`X-T: ${'v'.repeat(1_000)}\r\n`.repeat(Math.ceil((MAX_TRAILER_BYTES + over) / 1_007))}`)
      expect(track({ kind: 'chunked' }, cut(bytes, points))).toEqual({ kind: 'malformed' })
    }), { runs: 1_000 })
  }, FUZZ_TEST_TIMEOUT_MS)
})
