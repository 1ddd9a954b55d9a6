/**
 * The pieces of `log follow` a terminal is needed to see: the line per record (status coloured by class
 * only when colour is allowed, server text without control characters), and the Server-Sent Events
 * reader (HTML Living Standard §9.2.6) with the line endings and chunk boundaries a network produces.
 */
import { describe, expect, test } from 'bun:test'
import { followLine } from '../../src/cli/commands/log-follow.ts'
import { createSseParser, type ServerSentEvent } from '../../src/cli/commands/log-sse.ts'

const record = {
  timestamp: '2026-11-27T12:00:00.125Z',
  status: 200,
  method: 'GET',
  host: 'app.example.com',
  path: '/api/x?code=***',
  duration_ms: 4.18,
  client_ip: '203.0.113.7',
  user: 'alice',
  backend_error: null,
}

describe('followLine', () => {
  test('without colour: time, status, method, host, path, duration, client address, user; no escape byte', () => {
    expect(followLine(record, false)).toBe('2026-11-27 12:00:00.125 200 GET     app.example.com /api/x?code=*** 4.2ms 203.0.113.7 alice\n')
    expect(followLine({ ...record, status: 502, user: null, duration_ms: 30012.4, backend_error: 'refused' }, false)).toBe(
      '2026-11-27 12:00:00.125 502 GET     app.example.com /api/x?code=*** 30012ms 203.0.113.7 - [refused]\n',
    )
  })

  test('with colour: 2xx green, 3xx cyan, 4xx yellow, 5xx red, the time dim; the rest as without', () => {
    const colours: [number, string][] = [
      [204, '\x1b[32m204\x1b[39m'],
      [302, '\x1b[36m302\x1b[39m'],
      [404, '\x1b[33m404\x1b[39m'],
      [503, '\x1b[31m503\x1b[39m'],
    ]
    for (const [status, painted] of colours) {
      const line = followLine({ ...record, status }, true)
      expect(line).toStartWith(`\x1b[2m2026-11-27 12:00:00.125\x1b[22m ${painted} GET `)
      expect(line.replace(/\x1b\[\d+m/g, '')).toBe(followLine({ ...record, status }, false))
    }
  })

  test('a server\'s control characters never reach the terminal', () => {
    const line = followLine({ ...record, host: 'evil\x1b]0;title\x07.test', path: '/a\nb', user: 'x\x1b[2Jy' }, false)
    expect(line.slice(0, -1)).not.toMatch(/[\x00-\x1f\x7f]/)
  })
})

describe('createSseParser', () => {
  const parse = (chunks: readonly string[]) => {
    const events: ServerSentEvent[] = []
    const comments: string[] = []
    const parser = createSseParser((event) => events.push(event), (comment) => comments.push(comment))
    for (const chunk of chunks) parser.push(chunk)
    return { events, comments }
  }

  test('events as /logs/follow sends them: comments heard apart, id and event kept, data parsed', () => {
    const { events, comments } = parse([': following\n\n', 'id: 17-0\nevent: request\ndata: {"a":1}\n\n', ': keep-alive\n\n'])
    expect(events).toEqual([{ type: 'request', data: '{"a":1}', lastEventId: '17-0' }])
    expect(comments).toEqual(['following', 'keep-alive'])
  })

  test('CRLF, LF and CR line ends, a CRLF split between chunks, fields split anywhere', () => {
    const stream = 'event: request\r\ndata: one\r\n\r\nevent: request\rdata: two\r\rdata: three\n\n'
    const whole = parse([stream]).events
    expect(whole.map((event) => [event.type, event.data])).toEqual([
      ['request', 'one'],
      ['request', 'two'],
      ['message', 'three'],
    ])
    // Every split point, including between the CR and LF of a CRLF: the same events.
    for (let at = 1; at < stream.length; at++) expect(parse([stream.slice(0, at), stream.slice(at)]).events).toEqual(whole)
    expect(parse([...stream]).events).toEqual(whole)
  })

  test('§9.2.6: data lines joined with LF, one leading space dropped, no data no event, an unfinished event not dispatched', () => {
    const { events } = parse(['data:first\ndata:  second\n\nevent: request\n\n', 'id: 9\n\ndata: x\nevent: late\n'])
    expect(events).toEqual([{ type: 'message', data: 'first\n second', lastEventId: '' }])
  })
})
