/**
 * Where a body ends when the relay passes its bytes on unchanged (RFC 9112 §6.3): the tracker returns the
 * index just past the body in the bytes it is given — counted for Content-Length (item 6), scanned for
 * chunked (§7.1, trailers §7.1.2 included), at once for a body that cannot be there (item 1), never for
 * one that ends at the close (item 8). Whatever follows that index is the next message, so it must be
 * exact however the bytes were split into reads. (The chunked grammar's refusals are proved in detail by
 * http1-response.test.ts; here only that they reach the tracker's caller.)
 */
import { describe, expect, test } from 'bun:test'
import { Http1ProtocolError } from '../../src/proxy/http1-response.ts'
import { createBodyTracker } from '../../src/proxy/relay/body-tracker.ts'

const bytes = (text: string) => Buffer.from(text, 'latin1')
const NEXT = 'GET /next HTTP/1.1\r\nHost: a.test\r\n\r\n'

describe('Content-Length (RFC 9112 §6.3 item 6)', () => {
  test('all at once: the index just past the body, with the next message after it untouched', () => {
    const raw = bytes(`hello${NEXT}`)
    const tracker = createBodyTracker({ kind: 'length', bytes: 5 })
    expect(tracker.isComplete).toBe(false)
    expect(tracker.consume(raw, 0)).toBe(5)
    expect(tracker.isComplete).toBe(true)
    expect(raw.subarray(5).toString('latin1')).toBe(NEXT)
  })

  test('from an offset: the bytes before `from` (the head) are not counted', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'
    const tracker = createBodyTracker({ kind: 'length', bytes: 5 })
    expect(tracker.consume(bytes(`${head}hello${NEXT}`), head.length)).toBe(head.length + 5)
  })

  test('across several reads, each from its own offset; the end is an index in the last read', () => {
    const tracker = createBodyTracker({ kind: 'length', bytes: 10 })
    expect(tracker.consume(bytes('HEADabc'), 4)).toBe(-1)
    expect(tracker.isComplete).toBe(false)
    expect(tracker.consume(bytes('xxdefg'), 2)).toBe(-1)
    expect(tracker.consume(bytes(''), 0)).toBe(-1)
    expect(tracker.isComplete).toBe(false)
    expect(tracker.consume(bytes('hijNEXT'), 0)).toBe(3)
    expect(tracker.isComplete).toBe(true)
  })

  test('a read that ends exactly at the body end returns its length', () => {
    const tracker = createBodyTracker({ kind: 'length', bytes: 4 })
    expect(tracker.consume(bytes('ab'), 0)).toBe(-1)
    expect(tracker.consume(bytes('cd'), 0)).toBe(2)
    expect(tracker.isComplete).toBe(true)
  })

  test('split at every byte boundary, the end index is the same', () => {
    const body = 'x'.repeat(37)
    const raw = bytes(`${body}${NEXT}`)
    for (let split = 0; split < body.length; split++) {
      const tracker = createBodyTracker({ kind: 'length', bytes: body.length })
      expect(tracker.consume(raw.subarray(0, split), 0)).toBe(-1)
      expect({ split, end: tracker.consume(raw, split) }).toEqual({ split, end: body.length })
    }
  })

  test('Content-Length: 0 is complete at once and consumes nothing', () => {
    const tracker = createBodyTracker({ kind: 'length', bytes: 0 })
    expect(tracker.isComplete).toBe(true)
    expect(tracker.consume(bytes(NEXT), 3)).toBe(3)
  })

  test('a large body in 64 KiB reads: exactly one end, at the right place', () => {
    const total = 1_000_003
    const tracker = createBodyTracker({ kind: 'length', bytes: total })
    const read = Buffer.alloc(65_536, 0x61)
    let seen = 0
    let end = -1
    while (end === -1) {
      end = tracker.consume(read, 0)
      seen += end === -1 ? read.length : end
    }
    expect(seen).toBe(total)
    expect(end).toBe(total % 65_536)
  })
})

describe('chunked (RFC 9112 §7.1)', () => {
  const body = '5\r\nhello\r\n1;name=value\r\n \r\nA \t;ext\r\n0123456789\r\n0\r\nTrailer-A: 1\r\ntrailer-b:\r\n\r\n'

  test('all at once: the index just past the final CRLF (after the trailers, §7.1.2)', () => {
    const tracker = createBodyTracker({ kind: 'chunked' })
    expect(tracker.endsAtClose).toBe(false)
    expect(tracker.consume(bytes(`${body}${NEXT}`), 0)).toBe(body.length)
    expect(tracker.isComplete).toBe(true)
  })

  test('from an offset after a head', () => {
    const head = 'POST / HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n'
    const tracker = createBodyTracker({ kind: 'chunked' })
    expect(tracker.consume(bytes(`${head}${body}${NEXT}`), head.length)).toBe(head.length + body.length)
  })

  test('fed one byte at a time: -1 for every byte but the last, which ends at index 1', () => {
    const tracker = createBodyTracker({ kind: 'chunked' })
    const raw = bytes(body)
    for (let i = 0; i < raw.length - 1; i++) {
      expect({ i, end: tracker.consume(raw.subarray(i, i + 1), 0) }).toEqual({ i, end: -1 })
      expect(tracker.isComplete).toBe(false)
    }
    expect(tracker.consume(raw.subarray(raw.length - 1), 0)).toBe(1)
    expect(tracker.isComplete).toBe(true)
  })

  test('split in two at every byte boundary, with the next message after it: always the same end', () => {
    const raw = bytes(`${body}${NEXT}`)
    for (let split = 0; split < body.length; split++) {
      const tracker = createBodyTracker({ kind: 'chunked' })
      expect(tracker.consume(raw.subarray(0, split), 0)).toBe(-1)
      expect({ split, end: tracker.consume(raw, split) }).toEqual({ split, end: body.length })
    }
  })

  test('"0\\r\\n\\r\\n" inside chunk data is data, not the end (only the sizes count)', () => {
    const tricky = '7\r\n0\r\n\r\nab\r\n0\r\n\r\n'
    expect(createBodyTracker({ kind: 'chunked' }).consume(bytes(`${tricky}${NEXT}`), 0)).toBe(tricky.length)
  })

  test('the last chunk without trailers ends after its empty line', () => {
    expect(createBodyTracker({ kind: 'chunked' }).consume(bytes('0\r\n\r\nX'), 0)).toBe(5)
  })

  test.each([
    ['a non-hex chunk size', 'g\r\nx\r\n0\r\n\r\n', 'malformed chunk-size line'],
    ['a 0x-prefixed chunk size', '0x5\r\nhello\r\n0\r\n\r\n', 'malformed chunk-size line'],
    ['chunk data not followed by CRLF', '5\r\nhelloX\r\n0\r\n\r\n', 'chunk data not followed by CRLF'],
    ['chunk data followed by a bare LF', '5\r\nhello\n0\r\n\r\n', 'chunk data not followed by CRLF'],
    ['a bare LF after the chunk size', '5\nhello\r\n0\r\n\r\n', 'bare LF in a chunk-size line'],
    ['a bare LF ending the trailers', '0\r\n\n', 'bare LF in a trailer line'],
    ['a trailer line without a colon', '0\r\nnot a field\r\n\r\n', 'malformed trailer field'],
  ])('%s throws Http1ProtocolError, whole and byte by byte', (_name, raw, reason) => {
    expect(() => createBodyTracker({ kind: 'chunked' }).consume(bytes(raw), 0)).toThrow(new Http1ProtocolError(reason))
    const tracker = createBodyTracker({ kind: 'chunked' })
    let thrown: unknown = null
    try {
      for (let i = 0; i < raw.length; i++) tracker.consume(bytes(raw.slice(i, i + 1)), 0)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(Http1ProtocolError)
    expect((thrown as Error).message).toBe(reason)
    expect(tracker.isComplete).toBe(false)
  })
})

describe('no body (RFC 9112 §6.3 item 1) and read-to-close (item 8)', () => {
  test("'none' is complete at once; consume takes nothing and returns `from`", () => {
    const tracker = createBodyTracker({ kind: 'none' })
    expect(tracker.isComplete).toBe(true)
    expect(tracker.endsAtClose).toBe(false)
    expect(tracker.consume(bytes(NEXT), 0)).toBe(0)
    expect(tracker.consume(bytes(NEXT), 7)).toBe(7)
    expect(tracker.isComplete).toBe(true)
  })

  test("'close' never completes: every byte is body until the connection ends", () => {
    const tracker = createBodyTracker({ kind: 'close' })
    expect(tracker.endsAtClose).toBe(true)
    expect(tracker.isComplete).toBe(false)
    expect(tracker.consume(bytes('0\r\n\r\n'), 0)).toBe(-1)
    expect(tracker.consume(bytes(NEXT), 5)).toBe(-1)
    expect(tracker.isComplete).toBe(false)
  })

  test('length and chunked bodies do not end at the close', () => {
    expect(createBodyTracker({ kind: 'length', bytes: 3 }).endsAtClose).toBe(false)
    expect(createBodyTracker({ kind: 'chunked' }).endsAtClose).toBe(false)
  })
})
