/**
 * Adversarial review (holds): requests pipelined in one write across the relay / hand-over boundary.
 * The relay forwards what its strict parser takes and hands the connection over, from the first head it
 * does not take, byte-exact; after that it never reads the connection again, so the two parsers never
 * read the same bytes. Bodies that look like requests stay bodies, and framing the relay refuses
 * (Content-Length with Transfer-Encoding, a coding other than chunked) is never relayed. Locked in on
 * both listeners: the backend sees exactly the requests the client framed, in order, and no /smuggled.
 * (Each hand-over here carries one request: a hand-over carrying two is review-handover-pipelining.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { finalReplies, openClient, startRawBackend, type RawBackend } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import type { Scheme } from '../support/edge-clients.ts'

let edge: TestEdge
let backend: RawBackend

beforeAll(async () => {
  edge = await startTestEdge()
  backend = startRawBackend({ answer: (request) => `HTTP/1.1 200 OK\r\ncontent-length: ${request.target.length}\r\n\r\n${request.target}` })
  await edge.createProxy('a.test', backend.url)
})
afterAll(async () => {
  await edge.stop()
  backend.stop()
})

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n'

interface Case {
  readonly name: string
  readonly bytes: (scheme: Scheme, tag: string) => string
  /** Methods of the final replies the client must get, in order. */
  readonly methods: readonly string[]
  /** What the backend must have received: "METHOD target bodyLength". */
  readonly received: (tag: string) => readonly string[]
  readonly statuses: readonly number[]
}

const CASES: readonly Case[] = [
  {
    name: 'relay POST (Content-Length body that looks like a request), relay GET, then absolute-form (handed over)',
    bytes: (scheme, tag) => `POST /${tag}/1 HTTP/1.1\r\nHost: a.test\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}GET /${tag}/2 HTTP/1.1\r\nHost: a.test\r\n\r\nGET ${scheme}://a.test/${tag}/3 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`,
    methods: ['POST', 'GET', 'GET'],
    received: (tag) => [`POST /${tag}/1 ${SMUGGLED.length}`, `GET /${tag}/2 0`, `GET /${tag}/3 0`],
    statuses: [200, 200, 200],
  },
  {
    name: 'relay chunked POST whose chunk holds a request, then HTTP/1.0 with a Content-Length body holding a request',
    bytes: (_scheme, tag) =>
      `POST /${tag}/1 HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\nPOST /${tag}/2 HTTP/1.0\r\nHost: a.test\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
    methods: ['POST', 'POST'],
    received: (tag) => [`POST /${tag}/1 ${SMUGGLED.length}`, `POST /${tag}/2 ${SMUGGLED.length}`],
    statuses: [200, 200],
  },
  {
    name: 'relay GET, then Content-Length and Transfer-Encoding together (CL.TE): refused, never relayed',
    bytes: (_scheme, tag) => `GET /${tag}/1 HTTP/1.1\r\nHost: a.test\r\n\r\nPOST /${tag}/2 HTTP/1.1\r\nHost: a.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
    methods: ['GET', 'POST'],
    received: (tag) => [`GET /${tag}/1 0`],
    statuses: [200, 400],
  },
]

describe('review (holds): pipelining across the relay / hand-over boundary', () => {
  for (const scheme of ['http', 'https'] as const) {
    for (const [index, row] of CASES.entries()) {
      test(`${scheme}: ${row.name}`, async () => {
        const tag = `${scheme}-${index}`
        const client = await openClient(edge, scheme, 'a.test')
        try {
          client.write(row.bytes(scheme, tag))
          const replies = await finalReplies(client, row.methods)
          expect(replies.map((reply) => reply.status)).toEqual([...row.statuses])
          const received = backend.requests.filter((request) => request.target.startsWith(`/${tag}/`) || request.target === '/smuggled')
          expect(received.map((request) => `${request.method} ${request.target} ${request.body.length}`)).toEqual([...row.received(tag)])
        } finally {
          client.close()
        }
      })
    }
  }
})
