/**
 * Adversarial review: RFC 9112 §9.3.2 pipelining on the hand-over path. When the bytes the relay hands
 * over hold a request and the start of another (the client wrote them in one segment), the hand-over
 * server answers neither: the connection closes without a byte and the first request's backend call is
 * cancelled. Cause, reproduced on a bare Bun 1.4.5 server: with an async fetch handler, a second request
 * pipelined behind the first aborts the first one's request.signal at once and the connection is closed
 * (forward() passes that signal to the backend call). The relay answers the same bytes correctly
 * (edge-http1-semantics §9.3.2), so whether pipelining works depends on the forwarding path: for a proxy
 * whose backend is https or PROXY protocol (or the local API, whenever its answer is not immediate),
 * every pipelining client is affected without any trick, since the relay hands such requests over as
 * they come.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { finalReplies, inTurnOn, openClient, startRawBackend, type RawBackend } from '../fixtures/raw-backends.ts'
import { startProxyAwareBackend, type ProxyAwareBackend } from '../fixtures/proxy-aware-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import type { Scheme } from '../support/edge-clients.ts'

let edge: TestEdge
let backend: RawBackend
let proxyAware: ProxyAwareBackend

beforeAll(async () => {
  edge = await startTestEdge()
  backend = startRawBackend({ answer: (request) => `HTTP/1.1 200 OK\r\ncontent-length: ${request.target.length}\r\n\r\n${request.target}` })
  proxyAware = startProxyAwareBackend()
  await edge.createProxy('a.test', backend.url)
  // A PROXY protocol backend: the relay hands every request for it over.
  await edge.createProxy('pp.test', proxyAware.url, { proxy_protocol: 'v1' })
})
afterAll(async () => {
  await edge.stop()
  backend.stop()
  proxyAware.stop()
})

const SCHEMES: readonly Scheme[] = ['http', 'https']

describe('review: two requests in one segment, handed over together, get two responses in order', () => {
  test('control: pp.test answers one request, then another on the same connection, each sent after the previous answer', async () => {
    const client = await openClient(edge, 'http', 'pp.test')
    try {
      const replies = await inTurnOn(client, ['GET /s1 HTTP/1.1\r\nHost: pp.test\r\n\r\n', 'GET /s2 HTTP/1.1\r\nHost: pp.test\r\n\r\n'])
      expect(replies.map((reply) => reply.status)).toEqual([200, 200])
    } finally {
      client.close()
    }
  })

  for (const scheme of SCHEMES) {
    test(`${scheme}: absolute-form (hand-over) then origin-form, pipelined → 200 /p1, 200 /p2`, async () => {
      const client = await openClient(edge, scheme, 'a.test')
      try {
        client.write(`GET ${scheme}://a.test/${scheme}/p1 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /${scheme}/p2 HTTP/1.1\r\nHost: a.test\r\n\r\n`)
        const replies = await finalReplies(client, ['GET', 'GET'], 0, 3_000)
        expect(replies.map((reply) => `${reply.status} ${reply.text}`)).toEqual([`200 /${scheme}/p1`, `200 /${scheme}/p2`])
      } finally {
        client.close()
      }
    })

    test(`${scheme}: a proxy with a PROXY protocol backend (always handed over): two plain GETs, pipelined → two 200s`, async () => {
      const client = await openClient(edge, scheme, 'pp.test')
      try {
        client.write('GET /q1 HTTP/1.1\r\nHost: pp.test\r\n\r\nGET /q2 HTTP/1.1\r\nHost: pp.test\r\n\r\n')
        const replies = await finalReplies(client, ['GET', 'GET'], 0, 3_000)
        expect(replies.map((reply) => reply.status)).toEqual([200, 200])
      } finally {
        client.close()
      }
    })
  }

  test('http: control: the same two origin-form requests, pipelined, on the relay → 200 /r1, 200 /r2', async () => {
    const client = await openClient(edge, 'http', 'a.test')
    try {
      client.write('GET /r1 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /r2 HTTP/1.1\r\nHost: a.test\r\n\r\n')
      const replies = await finalReplies(client, ['GET', 'GET'], 0, 3_000)
      expect(replies.map((reply) => `${reply.status} ${reply.text}`)).toEqual(['200 /r1', '200 /r2'])
    } finally {
      client.close()
    }
  })
})
