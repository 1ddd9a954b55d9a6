/**
 * DESIGN §3.1: the public dispatchers route by Host (HTTP) and by SNI (TLS) to each hostname's own
 * instance, exact names before the one-label wildcard (RFC 6125 §6.4.3), and refuse names they do not
 * serve: 404 over HTTP, a handshake refused with a fatal alert over TLS (RFC 8446 §6.2), 400 without a Host.
 * RFC 6066 §3 suggests unrecognized_name for that alert; the TLS engine picks the certificate by SNI
 * before our code runs and, with no certificate for the name, sends internal_error.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTaggedBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { captureClientHello, httpsGet, isOnlyFatalAlert, parseResponses, tcpExchange, tlsHandshakeError, via, type HttpReply, type Scheme } from '../support/edge-clients.ts'

const SCHEMES: Scheme[] = ['http', 'https']

let edge: TestEdge
const backends = new Map<string, ReturnType<typeof startTaggedBackend>>()

beforeAll(async () => {
  edge = await startTestEdge()
  const proxies = { alpha: 'alpha.test', beta: 'beta.test', wild: '*.w.test', exact: 'exact.w.test' }
  for (const [tag, hostname] of Object.entries(proxies)) {
    const backend = startTaggedBackend(tag)
    backends.set(tag, backend)
    await edge.createProxy(hostname, `http://127.0.0.1:${backend.port}`)
  }
})
afterAll(async () => {
  for (const backend of backends.values()) backend.stop(true)
  await edge.stop()
})

async function backendOf(scheme: Scheme, host: string): Promise<string> {
  const response = await via(scheme)(edge, host, '/who')
  expect(response.status).toBe(200)
  return `${await response.text()} (x-backend: ${response.headers.get('x-backend')})`
}

/** One request over plain TCP, read up to the dispatcher's close. */
async function rawHttp(request: string): Promise<HttpReply> {
  const replies = parseResponses(await tcpExchange(edge.httpPort, [request]))
  expect(replies).toHaveLength(1)
  return replies[0]!
}

describe('two hostnames', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: each hostname reaches its own backend`, async () => {
      expect(await backendOf(scheme, 'alpha.test')).toBe('alpha (x-backend: alpha)')
      expect(await backendOf(scheme, 'beta.test')).toBe('beta (x-backend: beta)')
    })
  }

  test('https: each hostname presents its own certificate (SAN and fingerprint)', async () => {
    const a = await httpsGet(edge.httpsPort, 'alpha.test')
    const b = await httpsGet(edge.httpsPort, 'beta.test')
    expect([a.reply.status, a.reply.text]).toEqual([200, 'alpha'])
    expect([b.reply.status, b.reply.text]).toEqual([200, 'beta'])
    expect(a.certificate.subjectaltname).toBe('DNS:alpha.test')
    expect(b.certificate.subjectaltname).toBe('DNS:beta.test')
    expect(a.certificate.fingerprint256).toMatch(/^[0-9A-F:]{95}$/)
    expect(a.certificate.fingerprint256).not.toBe(b.certificate.fingerprint256)
    // The same hostname keeps its certificate from one connection to the next.
    expect((await httpsGet(edge.httpsPort, 'alpha.test')).certificate.fingerprint256).toBe(a.certificate.fingerprint256)
  })
})

describe('wildcard proxies', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: *.w.test serves x.w.test`, async () => {
      expect(await backendOf(scheme, 'x.w.test')).toBe('wild (x-backend: wild)')
      expect(await backendOf(scheme, 'other-1.w.test')).toBe('wild (x-backend: wild)')
    })

    test(`${scheme}: the exact proxy exact.w.test wins over *.w.test`, async () => {
      expect(await backendOf(scheme, 'exact.w.test')).toBe('exact (x-backend: exact)')
    })
  }

  test('https: x.w.test is served the wildcard certificate, exact.w.test its own', async () => {
    const viaWildcard = await httpsGet(edge.httpsPort, 'x.w.test')
    const viaExact = await httpsGet(edge.httpsPort, 'exact.w.test')
    expect(viaWildcard.certificate.subjectaltname).toBe('DNS:*.w.test')
    expect(viaExact.certificate.subjectaltname).toBe('DNS:exact.w.test')
  })

  for (const host of ['a.b.w.test', 'deep.x.w.test', 'w.test']) {
    test(`RFC 6125 §6.4.3: *.w.test covers exactly one label, so ${host} is not served (http 404, TLS handshake refused)`, async () => {
      const reply = await rawHttp(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
      expect(reply.status).toBe(404)
      expect(JSON.parse(reply.text)).toEqual({ error: 'not_found', error_description: `no proxy for ${host}` })
      expect(isOnlyFatalAlert(await tcpExchange(edge.httpsPort, [await captureClientHello(host)]))).toBe(true)
    })
  }
})

describe('names the edge does not serve', () => {
  const unknown = ['nobody.test', 'alpha.test.example', 'xalpha.test', 'alpha.tes', '127.0.0.1']
  for (const host of unknown) {
    test(`http: unknown Host ${host} gets 404 with Content-Length and Connection: close, then the connection closes`, async () => {
      const reply = await rawHttp(`GET /anything HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
      expect(reply.status).toBe(404)
      expect(reply.headers['connection']).toBe('close')
      expect(reply.headers['content-length']).toBe(String(reply.body.length))
      expect(reply.body.length).toBeGreaterThan(0)
      expect(reply.headers['transfer-encoding']).toBeUndefined()
    })
  }

  test('RFC 8446 §6.2: TLS with an unknown SNI gets exactly one fatal alert, then the connection closes', async () => {
    for (const host of ['nobody.test', 'a.b.w.test']) {
      const answer = await tcpExchange(edge.httpsPort, [await captureClientHello(host)])
      expect({ host, refused: isOnlyFatalAlert(answer) }).toEqual({ host, refused: true })
    }
  })

  test('a TLS client sees its handshake fail with an alert for an unknown SNI', async () => {
    const error = await tlsHandshakeError(edge.httpsPort, 'nobody.test')
    expect(`${(error as NodeJS.ErrnoException).code} ${error.message}`).toMatch(/alert/i)
  })

  test('a ClientHello without server_name is refused with a fatal alert (no default certificate)', async () => {
    const answer = await tcpExchange(edge.httpsPort, [await captureClientHello(undefined)])
    expect(isOnlyFatalAlert(answer)).toBe(true)
  })

  const hostless: Record<string, string> = {
    'no Host field (HTTP/1.1)': 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n',
    'no Host field (HTTP/1.0)': 'GET / HTTP/1.0\r\n\r\n',
    'an empty Host': 'GET / HTTP/1.1\r\nHost:\r\n\r\n',
    'a blank Host': 'GET / HTTP/1.1\r\nHost:   \r\n\r\n',
    'two Host fields': 'GET / HTTP/1.1\r\nHost: alpha.test\r\nHost: beta.test\r\n\r\n',
  }
  for (const [what, request] of Object.entries(hostless)) {
    test(`RFC 9112 §3.2: a request with ${what} gets 400 and the connection closes`, async () => {
      const reply = await rawHttp(request)
      expect(reply.status).toBe(400)
      expect(reply.headers['connection']).toBe('close')
      expect(reply.headers['content-length']).toBe(String(reply.body.length))
    })
  }
})
