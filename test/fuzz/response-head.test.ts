/**
 * Fuzzing the two response-head parsers (RFC 9112 §4–§6): the relay's (proxy/relay/response-head.ts),
 * which rewrites a backend's head for the client, and the raw forwarder's (proxy/http1-response.ts).
 * Inputs: random bytes, word soup, generated heads and those mutated. Properties: no throw; the head is
 * never longer than the input nor 64 KiB, and once 64 KiB are held the parser has decided (bounded
 * buffering); the relay's rewrite grows the head by no more than the lines it adds, and parses again to
 * the same status and framing (what the client gets is well-formed); the two parsers agree on every
 * head both have read to its end; a generated head's prefixes are incomplete and the body after it
 * changes nothing.
 */
import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { MAX_RESPONSE_HEAD_BYTES, parseResponseHead } from '../../src/proxy/http1-response.ts'
import { MAX_RELAY_RESPONSE_HEAD_BYTES, parseResponseHeadForRelay, type ResponseHeaderRules, type ResponseHeadResult } from '../../src/proxy/relay/response-head.ts'
import { concatBytes, FUZZ_TEST_TIMEOUT_MS, fuzz, latin1, mutated, randomBytes, soup } from './fuzz.ts'
import { tokenArb } from './http-request.ts'

const NO_RULES: ResponseHeaderRules = { setNames: new Set(), setLines: '', entries: [] }
const SITE_RULES: ResponseHeaderRules = {
  setNames: new Set(['strict-transport-security', 'x-frame-options']),
  setLines: 'strict-transport-security: max-age=63072000\r\nx-frame-options: DENY\r\n',
  entries: [['strict-transport-security', 'max-age=63072000'], ['x-frame-options', 'DENY']],
}
/** The most a rewrite adds besides the rules' lines: "transfer-encoding: chunked" and a Date line, with their CRLFs. */
const MAX_ADDED_BYTES = 'transfer-encoding: chunked\r\n'.length + 'date: Thu, 01 Jan 1970 00:00:00 GMT\r\n'.length

const RESPONSE_FIELDS = ['Content-Length', 'Transfer-Encoding', 'Connection', 'Date', 'X-Request-Id', 'Keep-Alive', 'Proxy-Connection', 'Upgrade', 'Trailer', 'TE', 'Strict-Transport-Security', 'Set-Cookie', 'Content-Type', 'X-Frame-Options']
const RESPONSE_VALUES = ['0', '5', '12', '5, 5', '5,6', '-1', '0x10', '999999999999999', 'chunked', 'gzip, chunked', 'chunked, gzip', 'close', 'keep-alive', 'X-Custom', 'content-length', 'transfer-encoding', 'x-request-id', 'Thu, 01 Jan 1970 00:00:00 GMT', 'text/plain', '']

const responseArb = fc
  .record({
    minor: fc.constantFrom('0', '1'),
    status: fc.oneof(fc.constantFrom(100, 101, 103, 200, 204, 206, 301, 304, 400, 404, 500, 502), fc.integer({ min: 100, max: 599 })),
    reason: fc.constantFrom(' OK', ' Not Found', '', ' ', ' \xe9t\xe9'),
    fields: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...RESPONSE_FIELDS), tokenArb), fc.constantFrom(...RESPONSE_VALUES), fc.constantFrom('', ' ', '\t ')), { maxLength: 8 }),
  })
  .map(({ minor, status, reason, fields }) => `HTTP/1.${minor} ${status}${reason}\r\n${fields.map(([name, value, ows]) => `${name}:${ows}${value}\r\n`).join('')}\r\n`)
const responseBytesArb = responseArb.map(latin1)
const methodArb = fc.constantFrom('GET', 'HEAD', 'POST', 'CONNECT')
const rulesArb = fc.constantFrom(NO_RULES, SITE_RULES)

const WORDS = ['HTTP/1.1 ', 'HTTP/1.0 ', '200', ' OK', '\r\n', '\r\n\r\n', '\n', '\r', ':', ': ', ' ', '\t', '\0', ...RESPONSE_FIELDS.map((name) => `${name}: `), ...RESPONSE_VALUES]

function checkRelay(bytes: Buffer, from: number, rules: ResponseHeaderRules, result: ResponseHeadResult): void {
  expect(['incomplete', 'invalid', 'complete']).toContain(result.status)
  if (bytes.length - from >= MAX_RELAY_RESPONSE_HEAD_BYTES) expect(result.status).not.toBe('incomplete')
  if (result.status !== 'complete') return
  const { head } = result
  expect(head.headLength).toBeLessThanOrEqual(Math.min(bytes.length - from, MAX_RELAY_RESPONSE_HEAD_BYTES))
  expect(head.status >= 100 && head.status <= 599).toBe(true)
  if (head.lines !== null) expect(head.lines.length).toBeLessThanOrEqual(head.headLength + rules.setLines.length + MAX_ADDED_BYTES)
}

describe('response-head parsers (fuzzed)', () => {
  test('random, soup, generated and mutated heads: no throw, bounded results, a decision by 64 KiB', () => {
    const inputs = fc.oneof(randomBytes(600), soup(WORDS, 40), responseBytesArb, mutated(responseBytesArb, 6))
    fuzz('response-head: relay parser', fc.property(inputs, randomBytes(8), methodArb, rulesArb, (bytes, before, method, rules) => {
      const input = Buffer.from(concatBytes(before, bytes))
      checkRelay(input, before.length, rules, parseResponseHeadForRelay(input, method, rules, before.length))
    }), { runs: 25_000 })
    fuzz('response-head: raw forwarder parser', fc.property(inputs, methodArb, (bytes, method) => {
      const result = parseResponseHead(bytes, method)
      expect(['incomplete', 'invalid', 'complete']).toContain(result.status)
      if (result.status === 'complete') expect(result.headLength).toBeLessThanOrEqual(Math.min(bytes.length, MAX_RESPONSE_HEAD_BYTES))
    }), { runs: 25_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test('oversized heads: both parsers decide once 64 KiB are held', () => {
    fuzz('response-head: oversized', fc.property(responseArb, fc.boolean(), (text, isEnded) => {
      const filler = `X-Filler: ${'a'.repeat(MAX_RELAY_RESPONSE_HEAD_BYTES)}\r\n`
      const bytes = Buffer.from(text.replace('\r\n', `\r\n${filler}`).slice(0, isEnded ? undefined : -2), 'latin1')
      checkRelay(bytes, 0, NO_RULES, parseResponseHeadForRelay(bytes, 'GET', NO_RULES))
      expect(parseResponseHead(bytes, 'GET').status).toBe('invalid')
    }), { runs: 200 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test("the relay's rewrite parses again to the same status and framing; the two parsers agree on every head both read to its end", () => {
    fuzz('response-head: rewrite and agreement', fc.property(fc.oneof(responseBytesArb, mutated(responseBytesArb, 4)), methodArb, rulesArb, (bytes, method, rules) => {
      const relay = parseResponseHeadForRelay(Buffer.from(bytes), method, rules)
      const raw = parseResponseHead(bytes, method)
      if (relay.status !== 'incomplete' && raw.status !== 'incomplete') {
        expect(relay.status).toBe(raw.status)
        if (relay.status === 'complete' && raw.status === 'complete') {
          expect(relay.head.status).toBe(raw.head.status)
          expect(relay.head.framing).toEqual(raw.head.framing)
          expect(relay.head.headLength).toBe(raw.headLength)
        }
      }
      if (relay.status !== 'complete' || relay.head.lines === null) return
      const again = parseResponseHeadForRelay(Buffer.from(`${relay.head.lines}\r\n`, 'latin1'), method, NO_RULES)
      if (again.status !== 'complete') throw new Error(`the rewritten head is ${again.status}: ${JSON.stringify(relay.head.lines)}`)
      expect(again.head.status).toBe(relay.head.status)
      expect(again.head.framing).toEqual(relay.head.framing)
    }), { runs: 25_000 })
  }, FUZZ_TEST_TIMEOUT_MS)

  test("a generated head's prefixes are incomplete; the body after it changes nothing", () => {
    fuzz('response-head: prefixes and body', fc.property(responseBytesArb, fc.nat(), randomBytes(40), methodArb, (bytes, cutAt, body, method) => {
      const prefix = bytes.subarray(0, cutAt % bytes.length)
      expect(parseResponseHeadForRelay(Buffer.from(prefix), method, NO_RULES).status).toBe('incomplete')
      expect(parseResponseHead(prefix, method).status).toBe('incomplete')
      const relay = parseResponseHeadForRelay(Buffer.from(bytes), method, NO_RULES)
      const withBody = parseResponseHeadForRelay(Buffer.from(concatBytes(bytes, body)), method, NO_RULES)
      // The Date a rewrite adds may tick between the two calls; everything else is the same.
      const withoutDate = (result: ResponseHeadResult) => JSON.stringify(result).replace(/date: [^\\]*\\r\\n/, '')
      expect(withoutDate(withBody)).toBe(withoutDate(relay))
      expect(parseResponseHead(concatBytes(bytes, body), method).status).toBe(parseResponseHead(bytes, method).status)
    }), { runs: 20_000 })
  }, FUZZ_TEST_TIMEOUT_MS)
})
