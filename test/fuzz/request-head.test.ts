/**
 * Fuzzing the two request-head parsers (RFC 9112 §2–§5): the lenient reader every connection's first
 * head goes through (proxy/http-head.ts) and the strict one the relay forwards by
 * (proxy/relay/request-head.ts). Inputs: random bytes, word soup of the protocol's own pieces,
 * generated well-formed heads, and those mutated. Properties: no throw; the head is never longer than
 * the input nor the limit, and once the limit is held the parser has decided (the buffer is bounded);
 * what the relay passes on (keptFields) is only lines the client sent, byte for byte, and no more than
 * it sent; a well-formed head's prefixes are incomplete and the body after it changes nothing; and a
 * head the strict parser relays, the lenient reader takes too, for the same host and length.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { readRequestHead, type HeadResult } from '../../src/proxy/http-head.ts'
import { MAX_RELAY_HEAD_BYTES, parseRequestHead, type RequestHeadResult } from '../../src/proxy/relay/request-head.ts'
import { concatBytes, FUZZ_TEST_TIMEOUT_MS, fuzz, latin1, mutated, randomBytes, soup } from './fuzz.ts'
import { REQUEST_WORDS, requestArb, requestBytesArb } from './http-request.ts'

const NO_DROPS: ReadonlySet<string> = new Set()
const SOME_DROPS: ReadonlySet<string> = new Set(['x-team', 'x-auth-user'])

function checkLenient(bytes: Uint8Array, maxBytes: number, result: HeadResult): void {
  expect(['incomplete', 'invalid', 'too_large', 'complete']).toContain(result.status)
  if (result.status === 'complete') {
    expect(result.headLength).toBeLessThanOrEqual(Math.min(bytes.length, maxBytes))
    if (result.host !== null) expect(result.host).toMatch(/^(\[[0-9a-f:.]+\]|[a-z0-9._~-]+)$/)
  }
  if (bytes.length >= maxBytes) expect(result.status).not.toBe('incomplete')
}

function checkStrict(bytes: Buffer, from: number, result: RequestHeadResult): void {
  expect(['incomplete', 'unsupported', 'complete']).toContain(result.status)
  if (bytes.length - from >= MAX_RELAY_HEAD_BYTES) expect(result.status).not.toBe('incomplete')
  if (result.status !== 'complete') return
  const { head } = result
  expect(head.headLength).toBeLessThanOrEqual(Math.min(bytes.length - from, MAX_RELAY_HEAD_BYTES))
  const headText = bytes.toString('latin1', from, from + head.headLength)
  expect(head.keptFields.length).toBeLessThanOrEqual(headText.length)
  // Only the client's own field lines, whole: nothing synthesised, nothing spliced.
  const sentLines = new Set(headText.split('\r\n').slice(1))
  for (const line of head.keptFields.split('\r\n').slice(0, -1)) expect(sentLines.has(line)).toBe(true)
  expect(head.keptFields === '' || head.keptFields.endsWith('\r\n')).toBe(true)
}

const inputsArb = fc.oneof(
  randomBytes(600),
  soup(REQUEST_WORDS, 40),
  mutated(requestBytesArb, 6),
  requestBytesArb,
)

describe('request-head parsers (fuzzed)', () => {
  test('random, soup, generated and mutated heads: no throw, bounded results, a decision by the limit', () => {
    fuzz('request-head: lenient reader', fc.property(inputsArb, fc.constantFrom(16_384, 256, 64), (bytes, maxBytes) => checkLenient(bytes, maxBytes, readRequestHead(bytes, maxBytes))), { runs: 25_000 })
    fuzz('request-head: strict relay parser', fc.property(inputsArb, randomBytes(8), fc.boolean(), (bytes, before, drops) => {
      const input = Buffer.from(concatBytes(before, bytes))
      checkStrict(input, before.length, parseRequestHead(input, drops ? SOME_DROPS : NO_DROPS, before.length))
    }), { runs: 25_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('oversized heads: both parsers decide once their limit is held', () => {
    fuzz('request-head: oversized', fc.property(requestArb, fc.integer({ min: 1, max: 3 }), (request, extra) => {
      const filler = `X-Filler: ${'a'.repeat(MAX_RELAY_HEAD_BYTES)}\r\n`
      const bytes = latin1(request.text.replace('\r\n', `\r\n${filler.repeat(extra)}`).slice(0, -2))
      checkLenient(bytes, MAX_RELAY_HEAD_BYTES, readRequestHead(bytes, MAX_RELAY_HEAD_BYTES))
      checkStrict(Buffer.from(bytes), 0, parseRequestHead(Buffer.from(bytes), NO_DROPS))
    }), { runs: 300 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('a well-formed head: its prefixes are incomplete, the body after it changes nothing, and what the relay takes the lenient reader takes alike', () => {
    fuzz('request-head: well-formed', fc.property(requestArb, fc.nat(), randomBytes(40), (request, cutAt, body) => {
      const bytes = latin1(request.text)
      const prefix = bytes.subarray(0, cutAt % bytes.length)
      expect(readRequestHead(prefix).status).toBe('incomplete')
      expect(parseRequestHead(Buffer.from(prefix), NO_DROPS).status).toBe('incomplete')

      const lenient = readRequestHead(bytes)
      expect(readRequestHead(concatBytes(bytes, body))).toEqual(lenient)
      const strict = parseRequestHead(Buffer.from(bytes), NO_DROPS)
      expect(parseRequestHead(Buffer.from(concatBytes(bytes, body)), NO_DROPS)).toEqual(strict)
      if (strict.status === 'complete') {
        expect(lenient).toEqual({ status: 'complete', host: strict.head.hostname, headLength: strict.head.headLength })
        expect(strict.head.host).toBe(request.host)
      }
    }), { runs: 20_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('the differential holds on mutated and soup heads too: a head the relay parses, the lenient reader reads the same', () => {
    fuzz('request-head: differential', fc.property(fc.oneof(mutated(requestBytesArb, 4), soup(REQUEST_WORDS, 40)), (bytes) => {
      const strict = parseRequestHead(Buffer.from(bytes), NO_DROPS)
      if (strict.status !== 'complete') return
      expect(readRequestHead(bytes)).toEqual({ status: 'complete', host: strict.head.hostname, headLength: strict.head.headLength })
    }), { runs: 25_000 })
  }, FUZZ_TEST_TIMEOUT_MS)
})

describe('regressions found by this suite', () => {
  // RFC 9112 §3.2: a Host with an invalid value gets 400. The relay routed these (its shape check let
  // them by) while the hand-over path answered 400; now the relay hands them over, to the same 400.
  test.each(['a.aa:65536', 'example.com:99999', '[::0:0:0]:65536', '[:]', '[1::2::3]', '.'])('Host: %s is refused by both parsers', (host) => {
    const text = `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`
    expect(parseRequestHead(Buffer.from(text, 'latin1'), NO_DROPS).status).toBe('unsupported')
    expect(readRequestHead(latin1(text)).status).toBe('invalid')
  })

  test.each([['a.aa:65535', 'a.aa'], ['[::1]:443', '[::1]'], ['[::ffff:127.0.0.1]', '[::ffff:127.0.0.1]'], ['localhost.:0', 'localhost']])('Host: %s is taken by both, as %s', (host, hostname) => {
    const text = `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`
    const strict = parseRequestHead(Buffer.from(text, 'latin1'), NO_DROPS)
    expect(strict.status === 'complete' && strict.head.hostname).toBe(hostname)
    expect(readRequestHead(latin1(text))).toEqual({ status: 'complete', host: hostname, headLength: text.length })
  })
})
