/**
 * Answers the instances give themselves: 421 for a connection reused for another host (RFC 9110
 * §15.5.20), the HTTPS redirect (RFC 9110 §15.4.9) and HSTS (RFC 6797), 502/504 when the backend fails
 * (JSON, or HTML for browsers, never a stack trace), and the built-in localhost proxy to the API.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startEchoBackend, startTaggedBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { inTurn, parseResponses, tlsExchange, via, viaHttp, type Scheme } from '../support/edge-clients.ts'

const SCHEMES: Scheme[] = ['http', 'https']
/** Anything that would betray internals in an error body. */
const LEAKS = /\bat \S+ \(|node_modules|\.ts:\d+|ECONNREFUSED|ETIMEDOUT|Error:|TypeError|127\.0\.0\.1/

let edge: TestEdge
let alpha: ReturnType<typeof startTaggedBackend>
let beta: ReturnType<typeof startTaggedBackend>
let echo: ReturnType<typeof startEchoBackend>
let deadPort: number

beforeAll(async () => {
  edge = await startTestEdge()
  alpha = startTaggedBackend('alpha')
  beta = startTaggedBackend('beta')
  echo = startEchoBackend()
  deadPort = await freePort()
  await edge.createProxy('alpha.test', `http://127.0.0.1:${alpha.port}`)
  await edge.createProxy('beta.test', `http://127.0.0.1:${beta.port}`)
  await edge.createProxy('redir.test', `http://127.0.0.1:${alpha.port}`, { redirect_http_to_https: true })
  await edge.createProxy('redir-nohttps.test', `http://127.0.0.1:${alpha.port}`, { redirect_http_to_https: true, enable_https: false })
  await edge.createProxy('hsts.test', `http://127.0.0.1:${alpha.port}`, { hsts_max_age: 31_536_000 })
  await edge.createProxy('down.test', `http://127.0.0.1:${deadPort}`)
  await edge.createProxy('sluggish.test', `http://127.0.0.1:${echo.port}`, { upstream_timeout: 1 })
})
afterAll(async () => {
  for (const backend of [alpha, beta, echo]) backend.stop(true)
  await edge.stop()
})

describe('RFC 9110 §15.5.20: a connection serves only the host it was routed for', () => {
  test('http: each request on a plain keep-alive connection is routed by its own Host (load balancers and pooling clients mix hosts)', async () => {
    const [first, second, third, ...rest] = await inTurn(edge.httpPort, [
      'GET /first HTTP/1.1\r\nHost: alpha.test\r\n\r\n',
      'GET /second HTTP/1.1\r\nHost: beta.test\r\n\r\n',
      'GET /third HTTP/1.1\r\nHost: alpha.test\r\nConnection: close\r\n\r\n',
    ])
    expect(rest).toHaveLength(0)
    expect([first!.status, first!.text]).toEqual([200, 'alpha'])
    expect([second!.status, second!.text]).toEqual([200, 'beta'])
    expect([third!.status, third!.text]).toEqual([200, 'alpha'])
  })

  test('https: a request with Host beta.test on a TLS connection whose SNI was alpha.test gets 421', async () => {
    const { certificate, bytes } = await tlsExchange(edge.httpsPort, 'alpha.test', 'GET / HTTP/1.1\r\nHost: beta.test\r\nConnection: close\r\n\r\n')
    expect(certificate.subjectaltname).toBe('DNS:alpha.test')
    const [reply] = parseResponses(bytes)
    expect(reply!.status).toBe(421)
    expect(JSON.parse(reply!.text).error).toBe('misdirected_request')
  })

  test('the same host in another case or with a port is still the same host (200, not 421)', async () => {
    const replies = await inTurn(edge.httpPort, [
      'GET /a HTTP/1.1\r\nHost: alpha.test\r\n\r\n',
      'GET /b HTTP/1.1\r\nHost: ALPHA.Test:8080\r\nConnection: close\r\n\r\n',
    ])
    expect(replies.map((reply) => `${reply.status} ${reply.text}`)).toEqual(['200 alpha', '200 alpha'])
  })
})

describe('HTTPS redirect and HSTS', () => {
  const paths = ['/', '/p/a?x=1&y=two', '/deep/path/?q=%20space&r', '/p;params?a=b']
  for (const path of paths) {
    test(`RFC 9110 §15.4.9: redirect_http_to_https answers ${path} with 308 to the https URL keeping path and query`, async () => {
      const response = await viaHttp(edge, 'redir.test', path, { redirect: 'manual' })
      expect(response.status).toBe(308)
      expect(response.headers.get('location')).toBe(`https://redir.test:${edge.httpsPort}${path}`)
    })
  }

  test('the redirect keeps the method (POST gets 308 too) and drops the port the client used for HTTP', async () => {
    const response = await viaHttp(edge, 'redir.test', '/form?x=1', { method: 'POST', body: 'a=b', redirect: 'manual', headers: { host: 'redir.test:8080' } })
    expect(response.status).toBe(308)
    expect(response.headers.get('location')).toBe(`https://redir.test:${edge.httpsPort}/form?x=1`)
  })

  test('over HTTPS the same proxy serves instead of redirecting', async () => {
    const response = await via('https')(edge, 'redir.test', '/p?q=1', { redirect: 'manual' })
    expect([response.status, await response.text()]).toEqual([200, 'alpha'])
  })

  test('with HTTPS disabled there is nowhere to redirect to: HTTP serves', async () => {
    const response = await viaHttp(edge, 'redir-nohttps.test', '/', { redirect: 'manual' })
    expect([response.status, await response.text()]).toEqual([200, 'alpha'])
  })

  test('RFC 6797 §7.1: hsts_max_age sends Strict-Transport-Security over HTTPS', async () => {
    const response = await via('https')(edge, 'hsts.test')
    expect(response.status).toBe(200)
    expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains')
  })

  test('RFC 6797 §7.2: no Strict-Transport-Security over plain HTTP, nor for proxies without hsts_max_age', async () => {
    const overHttp = await viaHttp(edge, 'hsts.test')
    expect([overHttp.status, overHttp.headers.get('strict-transport-security')]).toEqual([200, null])
    const unset = await via('https')(edge, 'alpha.test')
    expect([unset.status, unset.headers.get('strict-transport-security')]).toEqual([200, null])
  })
})

describe('backend failures', () => {
  for (const scheme of SCHEMES) {
    test(`${scheme}: a backend nobody listens on → 502 JSON by default, without internals`, async () => {
      const response = await via(scheme)(edge, 'down.test', '/some/path')
      const body = await response.text()
      expect(response.status).toBe(502)
      expect(response.headers.get('content-type')).toStartWith('application/json')
      expect(JSON.parse(body)).toEqual({ error: 'bad_gateway', error_description: 'the backend could not be reached' })
      expect(body).not.toMatch(LEAKS)
    })

    test(`${scheme}: a backend nobody listens on → 502 HTML for Accept: text/html, without internals`, async () => {
      const response = await via(scheme)(edge, 'down.test', '/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
      const body = await response.text()
      expect(response.status).toBe(502)
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(body).toContain('<h1>502 Bad Gateway</h1>')
      expect(body).not.toMatch(LEAKS)
    })
  }

  test.concurrent.each(SCHEMES)('%s: a backend slower than upstream_timeout (1 s) → 504 after about 1 s', async (scheme) => {
    const started = performance.now()
    const response = await via(scheme)(edge, 'sluggish.test', '/slow/3000')
    const elapsed = performance.now() - started
    const body = await response.text()
    expect(response.status).toBe(504)
    expect(JSON.parse(body)).toEqual({ error: 'gateway_timeout', error_description: 'the backend did not answer in time' })
    expect(body).not.toMatch(LEAKS)
    expect(elapsed).toBeGreaterThanOrEqual(950)
    expect(elapsed).toBeLessThan(2_900)
  })

  test('a backend within upstream_timeout is served', async () => {
    const response = await viaHttp(edge, 'sluggish.test', '/slow/50')
    expect(response.status).toBe(200)
  })
})

describe('the built-in localhost proxy', () => {
  test('Host: localhost over the HTTP dispatcher answers /health from the in-process API', async () => {
    const direct = await (await fetch(`${edge.server.apiUrl}/health`)).json()
    const viaEdge = await waitFor(async () => {
      const response = await viaHttp(edge, 'localhost', '/health')
      return response.status === 200 ? { body: await response.json(), cache: response.headers.get('cache-control') } : null
    }, { what: 'the localhost proxy' })
    expect(viaEdge.body).toEqual(direct)
    expect(viaEdge.body).toMatchObject({ status: 'ok', store: { status: 'ok' } })
    expect(viaEdge.cache).toBe('no-store')
  })
})
