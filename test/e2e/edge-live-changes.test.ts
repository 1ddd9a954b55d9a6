/**
 * DESIGN §5: a proxy change made through the API applies to the very next request, without a
 * restart: the API answers only after this node's edge has applied it. Covers create, every field
 * the data plane reads, and delete (instances stop, ports freed).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startEchoBackend, startTaggedBackend, type EchoReport } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { waitFor } from '../support/ports.ts'
import { captureClientHello, httpsGet, isOnlyFatalAlert, openRaw, parseResponses, tcpExchange, tlsHandshakeError, via, viaHttp, type Scheme } from '../support/edge-clients.ts'

const SCHEMES: Scheme[] = ['http', 'https']

let edge: TestEdge
let one: ReturnType<typeof startTaggedBackend>
let two: ReturnType<typeof startTaggedBackend>
let echo: ReturnType<typeof startEchoBackend>

beforeAll(async () => {
  edge = await startTestEdge()
  one = startTaggedBackend('one')
  two = startTaggedBackend('two')
  echo = startEchoBackend()
})
afterAll(async () => {
  for (const backend of [one, two, echo]) backend.stop(true)
  await edge.stop()
})

async function put(hostname: string, changes: Record<string, unknown>) {
  const response = await edge.api('PUT', `/proxy/targets/${hostname}`, changes)
  expect(response.status).toBe(200)
}

async function answer(scheme: Scheme, host: string): Promise<string> {
  const response = await via(scheme)(edge, host, '/')
  return `${response.status} ${await response.text()}`
}

async function tlsRefused(host: string): Promise<boolean> {
  return isOnlyFatalAlert(await tcpExchange(edge.httpsPort, [await captureClientHello(host)]))
}

async function portsOf(hostname: string): Promise<unknown> {
  const response = await edge.api('GET', '/ports')
  expect(response.status).toBe(200)
  return ((await response.json()) as { hostname: string }[]).find((entry) => entry.hostname === hostname)
}

describe.serial('one proxy through its life', () => {
  test('before it exists: HTTP 404, TLS handshake refused', async () => {
    expect((await viaHttp(edge, 'live.test')).status).toBe(404)
    expect(await tlsRefused('live.test')).toBe(true)
  })

  test('created → the next request is served over HTTP and HTTPS', async () => {
    await edge.createProxy('live.test', `http://127.0.0.1:${one.port}`)
    for (const scheme of SCHEMES) expect(await answer(scheme, 'live.test')).toBe('200 one')
  })

  test('PUT target_url → the next request goes to the new backend', async () => {
    await put('live.test', { target_url: `http://127.0.0.1:${two.port}` })
    for (const scheme of SCHEMES) expect(await answer(scheme, 'live.test')).toBe('200 two')
    await put('live.test', { target_url: `http://127.0.0.1:${one.port}` })
    for (const scheme of SCHEMES) expect(await answer(scheme, 'live.test')).toBe('200 one')
  })

  test('PUT cert_name → the next TLS connection gets a new certificate for the same name', async () => {
    const before = await httpsGet(edge.httpsPort, 'live.test')
    await put('live.test', { cert_name: 'live-renamed' })
    const after = await httpsGet(edge.httpsPort, 'live.test')
    expect(after.certificate.fingerprint256).not.toBe(before.certificate.fingerprint256)
    expect(after.certificate.subjectaltname).toBe('DNS:live.test')
    expect(`${after.reply.status} ${after.reply.text}`).toBe('200 one')
    // Nothing changed for plain HTTP meanwhile.
    expect(await answer('http', 'live.test')).toBe('200 one')
  })

  test('PUT enable_https false → TLS for the name is refused while HTTP still serves; true → served again', async () => {
    const served = (await httpsGet(edge.httpsPort, 'live.test')).certificate.fingerprint256
    await put('live.test', { enable_https: false })
    expect(await tlsRefused('live.test')).toBe(true)
    const error = await tlsHandshakeError(edge.httpsPort, 'live.test')
    expect(`${(error as NodeJS.ErrnoException).code} ${error.message}`).toMatch(/alert/i)
    expect(await answer('http', 'live.test')).toBe('200 one')

    await put('live.test', { enable_https: true })
    const again = await httpsGet(edge.httpsPort, 'live.test')
    expect(`${again.reply.status} ${again.reply.text}`).toBe('200 one')
    // The stored certificate for cert_name is served again, not a new one.
    expect(again.certificate.fingerprint256).toBe(served)
  })

  test('PUT enable_http false → HTTP for the name gets 404 while HTTPS still serves; true → served again', async () => {
    await put('live.test', { enable_http: false })
    expect(await answer('http', 'live.test')).toBe('404 {"error":"not_found","error_description":"no proxy for live.test"}')
    expect(await answer('https', 'live.test')).toBe('200 one')
    await put('live.test', { enable_http: true })
    expect(await answer('http', 'live.test')).toBe('200 one')
  })

  test('PUT enabled false → both listeners answer 404; true → served again', async () => {
    await put('live.test', { enabled: false })
    for (const scheme of SCHEMES) expect((await via(scheme)(edge, 'live.test')).status).toBe(404)
    await put('live.test', { enabled: true })
    for (const scheme of SCHEMES) expect(await answer(scheme, 'live.test')).toBe('200 one')
  })

  test('DELETE → HTTP 404, TLS refused, and its ports are freed (GET /ports no longer lists it)', async () => {
    expect(await portsOf('live.test')).toEqual({ hostname: 'live.test', http: expect.any(Number), https: expect.any(Number) })
    const instancesBefore = edge.server.edge.stats().instances
    // A keep-alive connection opened before the delete: its next request must not reach the backend either.
    const open = await openRaw(edge.httpPort)
    open.write('GET /before HTTP/1.1\r\nHost: live.test\r\n\r\n')
    await waitFor(() => parseResponses(open.received()).length === 1, { what: 'the answer before the delete' })
    expect(parseResponses(open.received())[0]!.status).toBe(200)

    const response = await edge.api('DELETE', '/proxy/targets/live.test')
    expect(response.status).toBe(204)
    // Past the moment its instance server stops listening (1 s after the delete): the listener answers itself.
    await Bun.sleep(1_200)
    open.write('GET /after HTTP/1.1\r\nHost: live.test\r\nAccept: application/json\r\n\r\n')
    await open.closed
    const after = parseResponses(open.received())[1]!
    expect([after.status, JSON.parse(after.text).error]).toEqual([404, 'not_found'])
    const reply = await viaHttp(edge, 'live.test')
    expect([reply.status, await reply.json()]).toEqual([404, { error: 'not_found', error_description: 'no proxy for live.test' }])
    expect(await tlsRefused('live.test')).toBe(true)
    expect(await portsOf('live.test')).toBeUndefined()
    expect(edge.server.edge.stats().instances).toBe(instancesBefore - 1)
  })
})

describe.serial('headers configured on a proxy', () => {
  test('PUT custom_headers → the next request carries them to the backend, over both listeners', async () => {
    await edge.createProxy('headers.test', `http://127.0.0.1:${echo.port}`)
    const sent = async (scheme: Scheme) => ((await (await via(scheme)(edge, 'headers.test', '/', { headers: { 'x-team': 'client' } })).json()) as EchoReport).headers
    for (const scheme of SCHEMES) expect((await sent(scheme))['x-team']).toBe('client')

    await put('headers.test', { custom_headers: { 'X-Team': 'platform', 'X-Added': 'yes' } })
    for (const scheme of SCHEMES) {
      const headers = await sent(scheme)
      // The proxy's value replaces the client's.
      expect([headers['x-team'], headers['x-added']]).toEqual(['platform', 'yes'])
    }

    await put('headers.test', { custom_headers: {} })
    for (const scheme of SCHEMES) expect([(await sent(scheme))['x-added']]).toEqual([undefined])
  })

  test('PUT custom_response_headers → the next response carries them, over both listeners', async () => {
    const seen = async (scheme: Scheme) => {
      const response = await via(scheme)(edge, 'headers.test')
      await response.arrayBuffer()
      return [response.headers.get('x-frame-options'), response.headers.get('x-backend')]
    }
    for (const scheme of SCHEMES) expect(await seen(scheme)).toEqual([null, 'echo'])
    await put('headers.test', { custom_response_headers: { 'X-Frame-Options': 'DENY', 'X-Backend': 'overridden' } })
    for (const scheme of SCHEMES) expect(await seen(scheme)).toEqual(['DENY', 'overridden'])
    await put('headers.test', { custom_response_headers: {} })
    for (const scheme of SCHEMES) expect(await seen(scheme)).toEqual([null, 'echo'])
  })
})
