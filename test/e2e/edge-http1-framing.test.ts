/**
 * HTTP/1.1 response framing through the public listeners, from a raw backend whose replies are written
 * byte for byte: Content-Length, chunked and close-delimited bodies, also cut into small pieces (RFC 9112
 * §6.3, §7.1); responses that never have a body (204, 304, answers to HEAD: RFC 9110 §9.3.2, §15.3.5,
 * §15.4.5; RFC 9112 §6.3 item 1) followed by another exchange on the same client connection; no invented
 * Content-Type (RFC 9110 §8.3) but an added Date (RFC 9110 §6.6.1); hop-by-hop fields dropped and a
 * backend's Connection: close kept to its own hop (RFC 9110 §7.6.1); and backend failures as 502 (RFC
 * 9112 §6.3 item 5, RFC 9110 §15.6.3) or 504 (RFC 9110 §15.6.5).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { finalReplies, inTurnOn, openClient, readReplies, startRawBackend, type RawAnswer, type RawBackend, type RawClient, type RawReply } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

const SCHEMES = ['http', 'https'] as const
type Scheme = (typeof SCHEMES)[number]
const HOST = 'framing.test'
/** Anything that would betray internals in an error body. */
const LEAKS = /\bat \S+ \(|node_modules|\.ts:\d+|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Error:|127\.0\.0\.1/
/** A close-delimited body large enough to span many reads on every hop. */
const LONG_BODY = 'close-delimited body line\n'.repeat(4_000)

const ANSWERS: Record<string, RawAnswer> = {
  '/length': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world',
  '/chunked': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n',
  '/until-close': { reply: `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n${LONG_BODY}`, closeAfterMs: 0 },
  '/no-content': 'HTTP/1.1 204 No Content\r\nX-Marker: no-content\r\n\r\n',
  '/not-modified': 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n',
  // RFC 9110 §9.3.2: the answer to HEAD carries the Content-Length a GET would have, and no body.
  '/head': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n',
  '/head-chunked': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n',
  '/hop': { reply: 'HTTP/1.1 200 OK\r\nConnection: close, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nKeep-Alive: timeout=5\r\nX-End-To-End: kept\r\nContent-Length: 3\r\n\r\nhop', closeAfterMs: 0 },
  '/trickled': { reply: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', pieceBytes: 7 },
  '/no-answer': 'close',
  '/never': 'hang',
  '/conflicting-length': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
}

let edge: TestEdge
let backend: RawBackend

beforeAll(async () => {
  edge = await startTestEdge()
  backend = startRawBackend({
    answer: (request) => ANSWERS[request.target] ?? `HTTP/1.1 200 OK\r\nContent-Length: ${request.target.length}\r\n\r\n${request.target}`,
  })
  await edge.createProxy(HOST, backend.url)
  await edge.createProxy('impatient.test', backend.url, { upstream_timeout: 1 })
})
afterAll(async () => {
  backend.stop()
  await edge.stop()
})

const open = (scheme: Scheme, host = HOST) => openClient(edge, scheme, host)
const request = (method: string, path: string, host = HOST, extra = '') => `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`

/** The client connection still works: a next request on it gets its own answer. */
async function expectReusable(client: RawClient, scheme: Scheme, after: string): Promise<void> {
  const [next] = await inTurnOn(client, [request('GET', `/after/${after}/${scheme}`)])
  expect([next!.status, next!.text]).toEqual([200, `/after/${after}/${scheme}`])
}

async function exchange(scheme: Scheme, path: string, method = 'GET', host = HOST): Promise<{ client: RawClient; reply: RawReply }> {
  const client = await open(scheme, host)
  const [reply] = await inTurnOn(client, [request(method, path, host)])
  return { client, reply: reply! }
}

describe('RFC 9112 §6.3: response bodies reach the client intact and correctly framed', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: a Content-Length body, then the next request on the same connection`, async () => {
      const { client, reply } = await exchange(scheme, '/length')
      try {
        expect([reply.status, reply.text, reply.headers['content-type']]).toEqual([200, 'hello world', 'text/plain'])
        await expectReusable(client, scheme, 'length')
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9112 §7.1: a chunked body (with a chunk extension) arrives whole, then the next request on the same connection`, async () => {
      const { client, reply } = await exchange(scheme, '/chunked')
      try {
        expect([reply.status, reply.text]).toEqual([200, 'hello world'])
        await expectReusable(client, scheme, 'chunked')
      } finally {
        client.close()
      }
    })

    test(`${scheme}: a response whose head and chunked body arrive in 7-byte pieces reaches the client whole, then the next request on the same connection`, async () => {
      const { client, reply } = await exchange(scheme, '/trickled')
      try {
        expect([reply.status, reply.text, reply.headers['content-type']]).toEqual([200, 'hello world', 'text/plain'])
        await expectReusable(client, scheme, 'trickled')
      } finally {
        client.close()
      }
    })

    test(`${scheme}: §6.3 item 8: a close-delimited body arrives whole, and its end is unambiguous (framed, or the connection ends after it)`, async () => {
      const client = await open(scheme)
      try {
        client.write(request('GET', '/until-close'))
        const [reply] = await client.until((bytes, ended) => {
          const replies = readReplies(bytes, ['GET'], ended)
          return replies.length > 0 && replies
        }, 'the whole close-delimited response', 10_000)
        expect(reply!.status).toBe(200)
        expect(reply!.body.length).toBe(LONG_BODY.length)
        expect(reply!.text).toBe(LONG_BODY)
        const isFramed = reply!.headers['content-length'] !== undefined || /chunked/i.test(reply!.headers['transfer-encoding'] ?? '')
        // Unframed, only the close marks the end; framed, the connection must stay usable.
        if (isFramed) await expectReusable(client, scheme, 'until-close')
        else expect(client.isClosed()).toBe(true)
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9110 §8.3: a response without Content-Type reaches the client without one (the proxy does not invent it)`, async () => {
      const { client, reply } = await exchange(scheme, '/untyped')
      client.close()
      expect([reply.status, reply.text]).toEqual([200, '/untyped'])
      expect(reply.headers['content-type']).toBeUndefined()
    })

    test(`${scheme}: RFC 9110 §6.6.1: a response without Date gets one on its way to the client (a recipient with a clock MUST add it)`, async () => {
      const { client, reply } = await exchange(scheme, '/undated')
      client.close()
      expect([reply.status, reply.text]).toEqual([200, '/undated'])
      expect(reply.head.match(/^date:/gim) ?? []).toHaveLength(1)
      expect(Math.abs(Date.parse(reply.headers['date'] ?? '') - Date.now())).toBeLessThan(60_000)
    })

    test(`${scheme}: RFC 9110 §15.3.5, §15.4.5: 204 and 304 carry no body, and the connection goes on serving`, async () => {
      const client = await open(scheme)
      try {
        const paths = ['/no-content', '/after/no-content', '/not-modified', '/after/not-modified']
        const replies = await inTurnOn(client, paths.map((path) => request('GET', path, HOST, path === '/not-modified' ? 'If-None-Match: "v1"\r\n' : '')))
        expect(replies.map((reply) => `${reply.status} ${reply.text}`)).toEqual(['204 ', '200 /after/no-content', '304 ', '200 /after/not-modified'])
        const [noContent, , notModified] = replies
        expect(noContent!.headers['x-marker']).toBe('no-content')
        // RFC 9110 §8.6 and RFC 9112 §6.1: no Content-Length or Transfer-Encoding on a 204.
        expect([noContent!.headers['content-length'], noContent!.headers['transfer-encoding']]).toEqual([undefined, undefined])
        expect(notModified!.headers['etag']).toBe('"v1"')
        expect(notModified!.headers['transfer-encoding']).toBeUndefined()
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9110 §9.3.2: HEAD gets the head with the backend's Content-Length and no body, then the next request on the same connection`, async () => {
      const { client, reply } = await exchange(scheme, '/head', 'HEAD')
      try {
        expect(reply.status).toBe(200)
        expect(reply.headers['content-length']).toBe('1000')
        expect(reply.body.length).toBe(0)
        await expectReusable(client, scheme, 'head')
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9112 §6.3 item 1: HEAD answered with Transfer-Encoding: chunked and no body, then the next request on the same connection`, async () => {
      const { client, reply } = await exchange(scheme, '/head-chunked', 'HEAD')
      try {
        expect([reply.status, reply.body.length]).toEqual([200, 0])
        await expectReusable(client, scheme, 'head-chunked')
      } finally {
        client.close()
      }
    })
  }
})

describe('RFC 9110 §7.6.1: hop-by-hop fields of a response stay on their hop', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: fields named in the backend's Connection, and Keep-Alive, never reach the client; end-to-end fields do`, async () => {
      const { client, reply } = await exchange(scheme, '/hop')
      client.close()
      expect([reply.status, reply.text, reply.headers['x-end-to-end']]).toEqual([200, 'hop', 'kept'])
      expect(reply.headers['x-secret-hop']).toBeUndefined()
      expect(reply.headers['keep-alive']).toBeUndefined()
      expect(reply.head.toLowerCase()).not.toContain('x-secret-hop')
    })

    test(`${scheme}: a backend's Connection: close does not close the client's keep-alive connection`, async () => {
      const { client, reply } = await exchange(scheme, '/hop')
      try {
        expect(reply.status).toBe(200)
        expect(reply.headers['connection'] ?? '').not.toMatch(/close/i)
        await expectReusable(client, scheme, 'hop')
      } finally {
        client.close()
      }
    })
  }
})

describe('backend failures', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: RFC 9110 §15.6.3: a backend that closes the connection without answering → 502 JSON`, async () => {
      const { client, reply } = await exchange(scheme, '/no-answer')
      client.close()
      expect(reply.status).toBe(502)
      expect(reply.headers['content-type']).toStartWith('application/json')
      expect(JSON.parse(reply.text)).toMatchObject({ error: 'bad_gateway', error_description: expect.any(String) })
      expect(reply.text).not.toMatch(LEAKS)
    })

    test(`${scheme}: RFC 9112 §6.3 item 5: a response with conflicting Content-Length values → 502, none of its body reaches the client`, async () => {
      const client = await open(scheme)
      try {
        client.write(request('GET', '/conflicting-length'))
        const [reply] = await finalReplies(client, ['GET'])
        expect(reply!.status).toBe(502)
        expect(Buffer.from(client.received()).toString('latin1')).not.toContain('hello')
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9110 §15.6.5: a backend that accepts and never answers → 504 JSON after upstream_timeout (1 s)`, async () => {
      const started = performance.now()
      const { client, reply } = await exchange(scheme, '/never', 'GET', 'impatient.test')
      const elapsed = performance.now() - started
      client.close()
      expect(reply.status).toBe(504)
      expect(JSON.parse(reply.text)).toMatchObject({ error: 'gateway_timeout', error_description: expect.any(String) })
      expect(reply.text).not.toMatch(LEAKS)
      expect(elapsed).toBeGreaterThanOrEqual(950)
      expect(elapsed).toBeLessThan(3_000)
    })
  }
})
