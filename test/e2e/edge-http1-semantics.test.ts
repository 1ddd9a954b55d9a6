/**
 * HTTP/1.1 request handling through the public listeners, byte for byte, against raw backends that
 * record what they received: persistent connections on both sides (RFC 9112 §9.3), including a backend
 * that silently closes an idle one (§9.3.1), pipelining (§9.3.2), request bodies framed by
 * Content-Length and chunked (§6.2, §7.1), no smuggling when both are sent (§6.1, §6.3 item 3, §11.2),
 * Expect: 100-continue (RFC 9110 §10.1.1, §15.2.1), Connection: close (§9.6), HTTP/1.0 and Host (§3.2),
 * malformed heads refused with 400 before any backend sees them (§2.2, §5.1, §5.2, RFC 9110 §5.5), and
 * the forwarding fields the backend sees (RFC 7239, RFC 9110 §7.6.1).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import { finalReplies, inTurnOn, openClient, readReplies, startRawBackend, type RawBackend, type RawClient } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

const SCHEMES = ['http', 'https'] as const
type Scheme = (typeof SCHEMES)[number]
const HOST = 'h1.test'

/** 200 with the request target as its body. */
const echoTarget = (target: string) => `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${target.length}\r\n\r\n${target}`

let edge: TestEdge
let echo: RawBackend
/** Its own backend, so its accepted connections count only the reuse test's requests. */
let counted: RawBackend
let continuing: RawBackend
/** Closes each connection 100 ms after answering, without saying so (an idle timeout shorter than the proxy's). */
let quitting: RawBackend

beforeAll(async () => {
  edge = await startTestEdge()
  echo = startRawBackend({ answer: (request) => echoTarget(request.target) })
  counted = startRawBackend({ answer: (request) => echoTarget(request.target) })
  // RFC 9110 §15.2: a server may send 100 Continue whether or not it was asked for; clients and proxies must cope.
  continuing = startRawBackend({ interim: () => 'HTTP/1.1 100 Continue\r\n\r\n', answer: (request) => echoTarget(request.target) })
  quitting = startRawBackend({ answer: (request) => ({ reply: echoTarget(request.target), closeAfterMs: 100 }) })
  await edge.createProxy(HOST, echo.url)
  await edge.createProxy('reuse.test', counted.url)
  await edge.createProxy('continue.test', continuing.url)
  await edge.createProxy('quitting.test', quitting.url)
  await edge.createProxy('custom.test', echo.url, { custom_headers: { 'X-Tenant': 'from-proxy' } })
})
afterAll(async () => {
  for (const backend of [echo, counted, continuing, quitting]) backend.stop()
  await edge.stop()
})

const open = (scheme: Scheme, host = HOST) => openClient(edge, scheme, host)
const get = (path: string, host = HOST, extra = '') => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`
const requestsTo = (backend: RawBackend, target: string) => backend.requests.filter((request) => request.target === target)

/** The body ended where its framing said: a next request on the connection is served on its own. */
async function expectNextServed(client: RawClient, path: string): Promise<void> {
  const [next] = await inTurnOn(client, [get(path)])
  expect([next!.status, next!.text]).toEqual([200, path])
  expect(requestsTo(echo, path)[0]!.body.length).toBe(0)
}

/** Waits for the connection to end; fails if it stays open. */
const endsSoon = (client: RawClient, what: string) => client.until((_, ended) => ended, what)

describe('RFC 9112 §9.3: persistent connections', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: three requests in turn on one client connection are all answered, in order, each with its own body`, async () => {
      const client = await open(scheme)
      try {
        const paths = [1, 2, 3].map((n) => `/keep-alive/${scheme}/${n}`)
        const replies = await inTurnOn(client, paths.map((path) => get(path)))
        expect(replies.map((reply) => `${reply.status} ${reply.text}`)).toEqual(paths.map((path) => `200 ${path}`))
        expect(client.isClosed()).toBe(false)
      } finally {
        client.close()
      }
    })

    test(`${scheme}: 20 requests in turn from one client reach the backend over fewer than 20 backend connections`, async () => {
      const before = counted.connections()
      const client = await open(scheme, 'reuse.test')
      try {
        const paths = Array.from({ length: 20 }, (_, n) => `/reuse/${scheme}/${n}`)
        const replies = await inTurnOn(client, paths.map((path) => get(path, 'reuse.test')))
        expect(replies.map((reply) => reply.text)).toEqual(paths)
        expect(paths.every((path) => requestsTo(counted, path).length === 1)).toBe(true)
        expect(counted.connections() - before).toBeLessThan(20)
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9112 §9.3.1: a backend that silently closes its idle connection does not fail the client's next request`, async () => {
      const client = await open(scheme, 'quitting.test')
      try {
        const [first] = await inTurnOn(client, [get(`/quitting/${scheme}/1`, 'quitting.test')])
        expect([first!.status, first!.text]).toEqual([200, `/quitting/${scheme}/1`])
        await Bun.sleep(300) // the backend has closed that connection by now
        const [second] = await inTurnOn(client, [get(`/quitting/${scheme}/2`, 'quitting.test')])
        expect([second!.status, second!.text]).toEqual([200, `/quitting/${scheme}/2`])
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9112 §9.3.2: two requests written in one segment (pipelined) get two responses, in order`, async () => {
      const client = await open(scheme)
      try {
        client.write(get(`/pipe/${scheme}/1`) + get(`/pipe/${scheme}/2`, HOST, 'Connection: close\r\n'))
        const replies = await finalReplies(client, ['GET', 'GET'])
        expect(replies.map((reply) => `${reply.status} ${reply.text}`)).toEqual([`200 /pipe/${scheme}/1`, `200 /pipe/${scheme}/2`])
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9112 §9.6: a request with Connection: close is answered and then the connection closes`, async () => {
      const client = await open(scheme)
      client.write(get(`/close/${scheme}`, HOST, 'Connection: close\r\n'))
      await endsSoon(client, 'the proxy to close the connection')
      const replies = readReplies(client.received(), ['GET'], true)
      expect(replies.map((reply) => `${reply.status} ${reply.text}`)).toEqual([`200 /close/${scheme}`])
    })
  }
})

describe('request bodies arrive at the backend byte for byte', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: RFC 9112 §6.2: a 100 KiB body with Content-Length`, async () => {
      const body = randomBytes(100 * 1024)
      const path = `/upload/length/${scheme}`
      const client = await open(scheme)
      try {
        client.write(`POST ${path} HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`)
        client.write(body)
        const [reply] = await finalReplies(client, ['POST'])
        expect([reply!.status, reply!.text]).toEqual([200, path])
        const [seen, ...again] = requestsTo(echo, path)
        expect(again).toHaveLength(0)
        expect(seen!.body.length).toBe(body.length)
        expect(Buffer.from(seen!.body).equals(body)).toBe(true)
        await expectNextServed(client, `${path}/next`)
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9112 §7.1: a chunked body sent as chunks in separate writes, one with a chunk extension`, async () => {
      const chunks = [1, 10, 1000, 30_000, 7].map((size) => randomBytes(size))
      const path = `/upload/chunked/${scheme}`
      const client = await open(scheme)
      try {
        client.write(`POST ${path} HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\n\r\n`)
        for (const [index, chunk] of chunks.entries()) {
          await Bun.sleep(20)
          // RFC 9112 §7.1.1: a recipient MUST ignore chunk extensions it does not understand.
          client.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}${index === 2 ? ';note=x' : ''}\r\n`), chunk, Buffer.from('\r\n')]))
        }
        await Bun.sleep(20)
        client.write('0\r\n\r\n')
        const [reply] = await finalReplies(client, ['POST'])
        expect([reply!.status, reply!.text]).toEqual([200, path])
        const [seen, ...again] = requestsTo(echo, path)
        expect(again).toHaveLength(0)
        expect(Buffer.from(seen!.body).equals(Buffer.concat(chunks))).toBe(true)
        await expectNextServed(client, `${path}/next`)
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9110 §10.1.1: Expect: 100-continue, and a backend that sends 100 Continue first: the client gets the final 200 and the backend the body`, async () => {
      const body = randomBytes(5_000)
      const path = `/continue/${scheme}`
      const client = await open(scheme, 'continue.test')
      try {
        client.write(`PUT ${path} HTTP/1.1\r\nHost: continue.test\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`)
        // RFC 9110 §10.1.1: a client need not wait forever for 100 Continue before sending the body.
        await client.until((bytes) => Buffer.from(bytes).toString('latin1').startsWith('HTTP/1.1 100'), '100 Continue', 1_000).catch(() => {})
        client.write(body)
        const replies = await client.until((bytes) => {
          const all = readReplies(bytes, ['PUT'], false)
          return all.some((reply) => reply.status >= 200) && all
        }, 'the final response')
        const finals = replies.filter((reply) => reply.status >= 200)
        expect(finals.map((reply) => `${reply.status} ${reply.text}`)).toEqual([`200 ${path}`])
        // Interim answers, if any, come before the final one and are all 100.
        expect(replies.slice(0, -1).map((reply) => reply.status)).toEqual(replies.slice(0, -1).map(() => 100))
        expect(Buffer.from(requestsTo(continuing, path)[0]!.body).equals(body)).toBe(true)
        // The connection is still usable: no stray interim bytes were left to confuse the next exchange.
        const [next] = await inTurnOn(client, [get(`/after-continue/${scheme}`, 'continue.test')])
        expect([next!.status, next!.text]).toEqual([200, `/after-continue/${scheme}`])
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9112 §6.1, §6.3 item 3: Content-Length with Transfer-Encoding is refused (400 or closed) and nothing is smuggled to the backend`, async () => {
      const marker = `/smuggled/${scheme}`
      const client = await open(scheme)
      client.write(`POST /front/${scheme} HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET ${marker} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`)
      await endsSoon(client, 'the proxy to close the connection')
      const replies = readReplies(client.received(), ['POST', 'GET'], true)
      expect(replies.map((reply) => reply.status)).toEqual(replies.length === 0 ? [] : [400])
      expect(echo.requests.some((request) => request.requestLine.includes(marker))).toBe(false)
      expect(echo.rawBytes()).not.toContain(marker)
    })
  }
})

describe('RFC 9112 §3.2: HTTP/1.0 and the Host field', () => {
  test('http: an HTTP/1.0 request without Host cannot be routed: 400, and no backend sees it', async () => {
    const client = await open('http')
    client.write('GET /v10/no-host HTTP/1.0\r\n\r\n')
    await endsSoon(client, 'the proxy to close the connection')
    expect(readReplies(client.received(), ['GET'], true).map((reply) => reply.status)).toEqual([400])
    expect(echo.rawBytes()).not.toContain('/v10/no-host')
  })

  test('https: an HTTP/1.1 request without Host gets 400 (a server MUST), and no backend sees it', async () => {
    const client = await open('https')
    client.write('GET /v11/no-host HTTP/1.1\r\n\r\n')
    const [reply] = await finalReplies(client, ['GET'])
    client.close()
    expect(reply!.status).toBe(400)
    expect(echo.rawBytes()).not.toContain('/v11/no-host')
  })

  for (const scheme of SCHEMES) {
    test(`${scheme}: an HTTP/1.0 request with Host is answered, and the connection then closes (no keep-alive was asked for)`, async () => {
      const client = await open(scheme)
      client.write(`GET /v10/${scheme} HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`)
      await endsSoon(client, 'the proxy to close the HTTP/1.0 connection')
      const replies = readReplies(client.received(), ['GET'], true)
      expect(replies.map((reply) => `${reply.status} ${reply.text}`)).toEqual([`200 /v10/${scheme}`])
    })
  }
})

/** Each has a marker path; none may reach a backend. */
const MALFORMED: Record<string, (path: string) => string> = {
  'RFC 9112 §5.1: whitespace between a field name and the colon': (path) => `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nFoo : bar\r\n\r\n`,
  'RFC 9112 §5.2: obs-fold (a continuation line)': (path) => `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nX-Folded: one\r\n two\r\n\r\n`,
  'RFC 9110 §5.5: a NUL in a field value': (path) => `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nX-Nul: a\0b\r\n\r\n`,
  'RFC 9112 §2.2: a bare LF ending a field line': (path) => `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nX-Bare: lf\nX-After: 1\r\n\r\n`,
}

describe('malformed request heads get 400 and never reach the backend', () => {
  for (const scheme of SCHEMES) {
    for (const [index, [name, request]] of Object.entries(MALFORMED).entries()) {
      test(`${scheme}: ${name}, as the first request of a connection`, async () => {
        const marker = `/malformed/${scheme}/first/${index}`
        const client = await open(scheme)
        try {
          client.write(request(marker))
          const [reply] = await finalReplies(client, ['GET'])
          expect(reply!.status).toBe(400)
          await endsSoon(client, 'the connection to close after the 400')
          expect(echo.rawBytes()).not.toContain(marker)
        } finally {
          client.close()
        }
      })

      test(`${scheme}: ${name}, as the second request on a kept-alive connection`, async () => {
        const marker = `/malformed/${scheme}/second/${index}`
        const client = await open(scheme)
        try {
          const [first] = await inTurnOn(client, [get(`/before-malformed/${scheme}/${index}`)])
          expect(first!.status).toBe(200)
          client.write(request(marker))
          const [, reply] = await finalReplies(client, ['GET', 'GET'])
          expect(reply!.status).toBe(400)
          await endsSoon(client, 'the connection to close after the 400')
          expect(echo.rawBytes()).not.toContain(marker)
        } finally {
          client.close()
        }
      })
    }
  }
})

describe('the fields a forwarded request carries to the backend', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: RFC 7239: client-sent forwarding and identity fields never reach the backend as sent; custom_headers replace the client's`, async () => {
      const path = `/identity/${scheme}`
      const client = await open(scheme, 'custom.test')
      try {
        const hostile = ['X-Forwarded-For: 6.6.6.6', 'X-Auth-User: eve', 'X_Auth_User: eve', 'Forwarded: for=6.6.6.6', 'X-Tenant: from-client', 'X-Control: kept']
        const [reply] = await inTurnOn(client, [get(path, 'custom.test', hostile.map((line) => `${line}\r\n`).join(''))])
        expect(reply!.status).toBe(200)
        const [seen] = requestsTo(echo, path)
        const values = (name: string) => seen!.fields.filter(([key]) => key.toLowerCase().replaceAll('_', '-') === name).map(([, value]) => value)
        expect(values('x-control')).toEqual(['kept'])
        expect(seen!.head).not.toContain('6.6.6.6')
        expect(seen!.head).not.toContain('eve')
        expect(values('x-auth-user')).toEqual([])
        expect(values('x-forwarded-for')).toEqual(['127.0.0.1'])
        expect(values('forwarded')).toHaveLength(1)
        expect(values('forwarded')[0]).toContain('for=127.0.0.1')
        expect(values('x-tenant')).toEqual(['from-proxy'])
      } finally {
        client.close()
      }
    })

    test(`${scheme}: RFC 9110 §7.6.1: fields the client named in Connection, and Keep-Alive, stay on the client's hop`, async () => {
      const path = `/client-hop/${scheme}`
      const client = await open(scheme)
      try {
        const [reply] = await inTurnOn(client, [get(path, HOST, 'Connection: keep-alive, X-Client-Hop\r\nX-Client-Hop: 1\r\nKeep-Alive: timeout=9\r\nX-Control: kept\r\n')])
        expect(reply!.status).toBe(200)
        const [seen] = requestsTo(echo, path)
        const names = seen!.fields.map(([name]) => name.toLowerCase())
        expect(names).toContain('x-control')
        expect(names).not.toContain('x-client-hop')
        expect(names).not.toContain('keep-alive')
      } finally {
        client.close()
      }
    })
  }
})
