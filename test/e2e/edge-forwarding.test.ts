/**
 * What the backend receives through the edge: the real client address carried across the dispatcher
 * hand-off (X-Forwarded-*, RFC 7239 Forwarded), none of a client's own forwarding or identity headers
 * (Caddy GHSA-7r4p-vjf4-gxv4, oauth2-proxy #624), the target's path prefix, the Host chosen by
 * preserve_host_header, and compressed bodies untouched.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startEchoBackend, startGzipBackend, type EchoReport } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { parseResponses, tcpExchange, tlsExchange, via, type Scheme } from '../support/edge-clients.ts'

const SCHEMES: Scheme[] = ['http', 'https']
const SPOOF = '6.6.6.6'

let edge: TestEdge
let echo: ReturnType<typeof startEchoBackend>
let gzip: ReturnType<typeof startGzipBackend>

beforeAll(async () => {
  edge = await startTestEdge()
  echo = startEchoBackend()
  gzip = startGzipBackend('squeezed '.repeat(200))
  const origin = `http://127.0.0.1:${echo.port}`
  await edge.createProxy('fwd.test', origin)
  await edge.createProxy('prefix.test', `${origin}/base/`)
  await edge.createProxy('prefix-bare.test', `${origin}/base`)
  await edge.createProxy('target-host.test', origin, { preserve_host_header: false })
  await edge.createProxy('gzip.test', `http://127.0.0.1:${gzip.server.port}`)
})
afterAll(async () => {
  echo.stop(true)
  gzip.server.stop(true)
  await edge.stop()
})

async function report(scheme: Scheme, host: string, path = '/', headers: Record<string, string> = {}): Promise<EchoReport> {
  const response = await via(scheme)(edge, host, path, { headers })
  expect(response.status).toBe(200)
  return (await response.json()) as EchoReport
}

describe('the real client address', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: the backend sees X-Forwarded-For 127.0.0.1, X-Forwarded-Proto ${scheme} and Forwarded for=127.0.0.1;proto=${scheme}`, async () => {
      const { headers } = await report(scheme, 'fwd.test')
      expect({
        'x-forwarded-for': headers['x-forwarded-for'],
        'x-forwarded-proto': headers['x-forwarded-proto'],
        'x-real-ip': headers['x-real-ip'],
        'x-forwarded-host': headers['x-forwarded-host'],
      }).toEqual({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': scheme, 'x-real-ip': '127.0.0.1', 'x-forwarded-host': 'fwd.test' })
      // RFC 7239 §4: one forwarded-element for this hop.
      expect(headers['forwarded']).toBe(`for=127.0.0.1;proto=${scheme};host="fwd.test"`)
    })
  }
})

/** Sent by the client with a hostile value; what the backend must see instead (undefined: nothing). */
const HOSTILE_HEADERS: Record<string, (scheme: Scheme) => string | undefined> = {
  'X-Forwarded-For': () => '127.0.0.1',
  Forwarded: (scheme) => `for=127.0.0.1;proto=${scheme};host="fwd.test"`,
  'X-Real-IP': () => '127.0.0.1',
  'X-Forwarded-Proto': (scheme) => scheme,
  'X-Forwarded-Host': () => 'fwd.test',
  'X-Auth-User': () => undefined,
  'X-Auth-Scopes': () => undefined,
  X_Auth_User: () => undefined,
  'X-Forwarded-User': () => undefined,
  'X-Forwarded-Email': () => undefined,
  'Remote-User': () => undefined,
}

describe('client-sent forwarding and identity headers never reach the backend as sent', () => {
  for (const scheme of SCHEMES) {
    for (const [name, expected] of Object.entries(HOSTILE_HEADERS)) {
      test(`${scheme}: ${name}`, async () => {
        const hostile = name.toLowerCase().includes('for') || name === 'X-Real-IP' ? SPOOF : 'admin'
        const { headers } = await report(scheme, 'fwd.test', '/', { [name]: hostile, 'x-control': 'kept' })
        // The control header proves client headers do cross; the hostile one must not.
        expect(headers['x-control']).toBe('kept')
        const normal = name.toLowerCase().replaceAll('_', '-')
        const seen = Object.entries(headers).filter(([key]) => key.replaceAll('_', '-') === normal).map(([, value]) => value)
        const want = expected(scheme)
        expect(seen).toEqual(want === undefined ? [] : [want])
        expect(JSON.stringify(headers)).not.toContain(hostile === SPOOF ? SPOOF : '"admin"')
      })
    }
  }

  test('all of them at once, over both listeners', async () => {
    const all = Object.fromEntries(Object.keys(HOSTILE_HEADERS).map((name) => [name, SPOOF]))
    for (const scheme of SCHEMES) {
      const { headers } = await report(scheme, 'fwd.test', '/', all)
      expect(JSON.stringify(headers)).not.toContain(SPOOF)
      for (const name of ['x-auth-user', 'x_auth_user', 'x-auth-scopes', 'x-forwarded-user', 'x-forwarded-email', 'remote-user']) expect(headers[name]).toBeUndefined()
    }
  })
})

describe('the target URL and Host', () => {
  const cases: [string, string, string][] = [
    ['prefix.test', '/x?y=1', '/base/x?y=1'],
    ['prefix.test', '/', '/base/'],
    ['prefix.test', '/a/b/?c=d&e', '/base/a/b/?c=d&e'],
    ['prefix-bare.test', '/x?y=1', '/base/x?y=1'],
    ['fwd.test', '/x?y=1', '/x?y=1'],
  ]
  for (const scheme of SCHEMES) {
    test(`${scheme}: the target's path is a prefix of the request path, joined without "//"`, async () => {
      for (const [host, path, expected] of cases) {
        const url = new URL((await report(scheme, host, path)).url)
        expect(`${host} ${path} → ${url.pathname}${url.search}`).toBe(`${host} ${path} → ${expected}`)
      }
    })

    test(`${scheme}: preserve_host_header false sends the target's host; true (the default) the client's`, async () => {
      expect((await report(scheme, 'target-host.test')).headers['host']).toBe(`127.0.0.1:${echo.port}`)
      expect((await report(scheme, 'fwd.test')).headers['host']).toBe('fwd.test')
    })
  }
})

describe('compressed responses', () => {
  test('http: a gzip body passes byte-identical with its Content-Encoding', async () => {
    const bytes = await tcpExchange(edge.httpPort, ['GET / HTTP/1.1\r\nHost: gzip.test\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n'])
    const [reply] = parseResponses(bytes)
    expect(reply!.status).toBe(200)
    expect(reply!.headers['content-encoding']).toBe('gzip')
    expect(Buffer.from(reply!.body).equals(Buffer.from(gzip.compressed))).toBe(true)
  })

  test('https: a gzip body passes byte-identical with its Content-Encoding', async () => {
    const { bytes } = await tlsExchange(edge.httpsPort, 'gzip.test', 'GET / HTTP/1.1\r\nHost: gzip.test\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n')
    const [reply] = parseResponses(bytes)
    expect(reply!.status).toBe(200)
    expect(reply!.headers['content-encoding']).toBe('gzip')
    expect(Buffer.from(reply!.body).equals(Buffer.from(gzip.compressed))).toBe(true)
  })

  test('a client that did not ask for gzip still gets the backend\'s bytes: the proxy never re-encodes', async () => {
    const response = await via('http')(edge, 'gzip.test', '/', { headers: { 'accept-encoding': 'identity' }, decompress: false } as RequestInit)
    expect(response.headers.get('content-encoding')).toBe('gzip')
    expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(gzip.compressed))).toBe(true)
  })
})
