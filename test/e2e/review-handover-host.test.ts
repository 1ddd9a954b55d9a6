/**
 * Adversarial review: the relay checks a request's Host strictly (one Host, RFC 9110 §7.2 uri-host and a
 * numeric port, an absolute-form authority equal to Host), and so does its lenient reader (http-head.ts)
 * for a head it hands over. But only the first head of a connection is read there: once a connection
 * is handed over (absolute-form, HTTP/1.0, an Upgrade, or any proxy whose backend is https, PROXY
 * protocol or the local API), every later request is read by Bun.serve alone, which joins duplicate
 * Host lines with ", ", takes any port text, and rebuilds the URL from Host. normalizeHost() then cuts
 * at the last ":" and routes "a.test:1, evil.example" to a.test, and the backend receives that Host,
 * X-Forwarded-Host and Forwarded host= as sent: a Host-header injection (cache keys, password-reset
 * links) the relay refuses with 400.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { inTurnOn, openClient, startRawBackend, type RawBackend } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import type { Scheme } from '../support/edge-clients.ts'

let edge: TestEdge
let backendA: RawBackend
let backendB: RawBackend
const answer = (tag: string) => () => `HTTP/1.1 200 OK\r\ncontent-length: ${tag.length}\r\n\r\n${tag}`

beforeAll(async () => {
  edge = await startTestEdge()
  backendA = startRawBackend({ answer: answer('A') })
  backendB = startRawBackend({ answer: answer('B') })
  await edge.createProxy('a.test', backendA.url)
  await edge.createProxy('b.test', backendB.url)
})
afterAll(async () => {
  await edge.stop()
  backendA.stop()
  backendB.stop()
})

const HOSTILE: readonly { readonly name: string; readonly request: (path: string) => string }[] = [
  { name: 'RFC 9112 §3.2: two Host lines (a.test:1, evil.example)', request: (path) => `GET ${path} HTTP/1.1\r\nHost: a.test:1\r\nHost: evil.example\r\n\r\n` },
  { name: 'RFC 9110 §7.2: a Host whose port is not a number (b.test:abc)', request: (path) => `GET ${path} HTTP/1.1\r\nHost: b.test:abc\r\n\r\n` },
  { name: 'RFC 9110 §7.2: a Host that is a list (a.test:80, b.test)', request: (path) => `GET ${path} HTTP/1.1\r\nHost: a.test:80, b.test\r\n\r\n` },
]

/** The paths the backends were asked for, so far. */
const all = () => [...backendA.requests, ...backendB.requests]
const seen = () => all().map((request) => request.target)

describe('review: Host is checked on every request, not only on the first of a connection', () => {
  for (const scheme of ['http', 'https'] as const satisfies readonly Scheme[]) {
    for (const [index, row] of HOSTILE.entries()) {
      // Plain HTTP serves both hosts; on TLS (SNI a.test) only a.test's, so only the rows naming a.test first apply.
      if (scheme === 'https' && index === 1) continue
      test(`${scheme}: relay: ${row.name} → 400, the backend sees nothing`, async () => {
        const path = `/relay-${scheme}-${index}`
        const client = await openClient(edge, scheme, 'a.test')
        try {
          const [reply] = await inTurnOn(client, [row.request(path)])
          expect(reply!.status).toBe(400)
          expect(seen()).not.toContain(path)
        } finally {
          client.close()
        }
      })

      test(`${scheme}: after a hand-over: ${row.name} → 400 as on the relay, the backend sees nothing`, async () => {
        const path = `/handed-${scheme}-${index}`
        const client = await openClient(edge, scheme, 'a.test')
        try {
          const [first] = await inTurnOn(client, [`GET ${scheme}://a.test/carrier HTTP/1.1\r\nHost: a.test\r\n\r\n`])
          expect(first!.status).toBe(200)
          const before = all().length
          const [reply] = await inTurnOn(client, [row.request(path)])
          // Bun may even rewrite the path (a "list" Host became "GET /"), so every request that arrived since counts.
          const forwardedHosts = all().slice(before).map((request) => request.fields.find(([name]) => name.toLowerCase() === 'host')?.[1])
          expect({ status: reply!.status, forwardedHosts }).toEqual({ status: 400, forwardedHosts: [] })
        } finally {
          client.close()
        }
      })
    }
  }

  test('http: after a hand-over, an absolute-form target naming b.test with Host a.test → 400 (commit bdd1426, RFC 9112 §3.2)', async () => {
    const client = await openClient(edge, 'http', 'a.test')
    try {
      const [first] = await inTurnOn(client, ['GET http://a.test/carrier HTTP/1.1\r\nHost: a.test\r\n\r\n'])
      expect(first!.status).toBe(200)
      const [reply] = await inTurnOn(client, ['GET http://b.test/abs-mismatch HTTP/1.1\r\nHost: a.test\r\n\r\n'])
      expect({ status: reply!.status, reached: seen().includes('/abs-mismatch') }).toEqual({ status: 400, reached: false })
    } finally {
      client.close()
    }
  })
})
