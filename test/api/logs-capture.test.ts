/**
 * POST/GET/DELETE /logs/capture: admin only, every bad field a 400 naming it, 404 for a host no proxy
 * serves or an unknown capture, 409 while the host has one running. The data plane does not call the
 * capture service yet (the lead wires captureFor/capture into the relay and the hand-over server), so
 * the exchanges here are fed to the service the way the data plane will: through captureFor and capture.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { logCaptureRoutes } from '../../src/api/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger } from '../../src/lib/index.ts'
import { createCaptureService, type CaptureService } from '../../src/logs/index.ts'
import { bearer, createTestApi } from '../support/api.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

describe('the routes', () => {
  let api: Awaited<ReturnType<typeof createTestApi>>
  let captures: CaptureService
  let admin: string

  beforeAll(async () => {
    api = await createTestApi({
      extraRoutes: logCaptureRoutes({
        captures: { begin: (r) => captures.begin(r), read: (id) => captures.read(id), end: (id) => captures.end(id), list: () => captures.list() },
        hostServed: async (host) => host === 'app.test' || host === 'other.test',
      }),
    })
    captures = createCaptureService({ store: api.store, bus: createMemoryBus(createLogger('silent')), clock: api.clock, logger: createLogger('silent'), nodeId: 'node-a', retentionMs: 86_400_000 })
    await captures.start()
    admin = await api.issue(['admin'])
  })
  afterAll(async () => {
    await captures.stop()
    await api.close()
  })

  const send = (method: string, path: string, body?: unknown, token: string | null = admin) =>
    api.app.request(path, { method, headers: { ...(token === null ? {} : bearer(token)), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })

  test('POST starts a capture (201, Location); GET shows the masked exchanges; DELETE ends it; the list shows it', async () => {
    const started = await send('POST', '/logs/capture', { host: 'App.Test', duration: '5m', max_requests: 2 })
    expect(started.status).toBe(201)
    const capture = (await started.json()) as { id: string; host: string; active: boolean; max_requests: number; body_bytes: number; created_by: string; expires_at: string; started_at: string }
    expect(started.headers.get('location')).toBe(`/logs/capture/${capture.id}`)
    expect(capture).toMatchObject({ host: 'app.test', active: true, max_requests: 2, body_bytes: 0, created_by: 'alice' })
    expect(Date.parse(capture.expires_at) - Date.parse(capture.started_at)).toBe(300_000)

    // What the data plane does for each request to the host.
    expect(captures.captureFor('app.test')).toEqual({ bodyBytes: 0 })
    captures.capture('app.test', [['authorization', 'Bearer SECRET'], ['accept', '*/*']], 200, [['set-cookie', 'sid=SECRET']], { method: 'GET', target: '/?access_token=SECRET' })

    const read = await send('GET', `/logs/capture/${capture.id}`)
    expect(read.status).toBe(200)
    expect(read.headers.get('cache-control')).toBe('no-store')
    const text = await read.text()
    expect(text).not.toContain('SECRET')
    expect(JSON.parse(text)).toMatchObject({
      id: capture.id,
      count: 1,
      exchanges: [{ method: 'GET', target: '/?access_token=***', status: 200, request_headers: [['authorization', '***'], ['accept', '*/*']], response_headers: [['set-cookie', '***']] }],
    })

    const listed = (await (await send('GET', '/logs/capture')).json()) as { captures: { id: string }[] }
    expect(listed.captures.map((item) => item.id)).toContain(capture.id)

    const ended = await send('DELETE', `/logs/capture/${capture.id}`)
    expect(ended.status).toBe(200)
    expect(await ended.json()).toMatchObject({ id: capture.id, active: false, stopped_at: expect.any(String) })
    expect(captures.captureFor('app.test')).toBeNull()
  })

  test('409 while the host has a capture running; another host may have its own', async () => {
    const first = await send('POST', '/logs/capture', { host: 'other.test', duration: 60 })
    expect(first.status).toBe(201)
    const again = await send('POST', '/logs/capture', { host: 'other.test', duration: 60 })
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({ error: 'conflict' })
    const second = await send('POST', '/logs/capture', { host: 'app.test', duration: 60, body_bytes: 1024 })
    expect(second.status).toBe(201)
    expect(captures.captureFor('app.test')).toEqual({ bodyBytes: 1024 })
    for (const response of [first, second]) await send('DELETE', `/logs/capture/${((await response.json()) as { id: string }).id}`)
  })

  const bad: [unknown, string][] = [
    [{ duration: 60 }, 'field host'],
    [{ host: '*.app.test', duration: 60 }, 'field host'],
    [{ host: 'bad host', duration: 60 }, 'field host'],
    [{ host: 'app.test' }, 'field duration'],
    [{ host: 'app.test', duration: 901 }, 'field duration'],
    [{ host: 'app.test', duration: '16m' }, 'field duration'],
    [{ host: 'app.test', duration: 0 }, 'field duration'],
    [{ host: 'app.test', duration: 'soon' }, 'field duration'],
    [{ host: 'app.test', duration: 60, max_requests: 0 }, 'field max_requests'],
    [{ host: 'app.test', duration: 60, max_requests: 1001 }, 'field max_requests'],
    [{ host: 'app.test', duration: 60, max_requests: 1.5 }, 'field max_requests'],
    [{ host: 'app.test', duration: 60, body_bytes: -1 }, 'field body_bytes'],
    [{ host: 'app.test', duration: 60, body_bytes: 65_537 }, 'field body_bytes'],
  ]
  for (const [body, field] of bad) {
    test(`400 for ${JSON.stringify(body)}, naming ${field}`, async () => {
      const response = await send('POST', '/logs/capture', body)
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error_description: string }).error_description).toStartWith(`${field}:`)
    })
  }

  test('404 for a host no proxy serves, and for an unknown capture; 400 for what is not a capture id', async () => {
    const unserved = await send('POST', '/logs/capture', { host: 'nowhere.test', duration: 60 })
    expect(unserved.status).toBe(404)
    expect(((await unserved.json()) as { error_description: string }).error_description).toContain('nowhere.test')
    for (const method of ['GET', 'DELETE']) {
      expect((await send(method, '/logs/capture/AAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404)
      const malformed = await send(method, '/logs/capture/..%2Fetc')
      expect(malformed.status).toBe(400)
      expect(((await malformed.json()) as { error_description: string }).error_description).toStartWith('path parameter id:')
    }
  })

  test('RFC 6750 §3.1: 401 without a token, 403 without the admin scope; nothing starts', async () => {
    const user = await api.issue(['user'])
    for (const [method, path, body] of [
      ['POST', '/logs/capture', { host: 'app.test', duration: 60 }],
      ['GET', '/logs/capture', undefined],
      ['GET', '/logs/capture/AAAAAAAAAAAAAAAAAAAAAA', undefined],
      ['DELETE', '/logs/capture/AAAAAAAAAAAAAAAAAAAAAA', undefined],
    ] as const) {
      expect((await send(method, path, body, null)).status).toBe(401)
      expect((await send(method, path, body, user)).status).toBe(403)
    }
    expect(captures.captureFor('app.test')).toBeNull()
  })
})

describe('a whole server', () => {
  let edge: TestEdge
  beforeAll(async () => {
    edge = await startTestEdge()
    await edge.createProxy('*.wild.test', 'http://127.0.0.1:9')
  })
  afterAll(() => edge.stop())

  test('a host served through a wildcard proxy can be captured; the running server feeds and reads the same service', async () => {
    const response = await edge.api('POST', '/logs/capture', { host: 'a.wild.test', duration: 60, max_requests: 1 })
    expect(response.status).toBe(201)
    const { id } = (await response.json()) as { id: string }
    expect((await edge.api('POST', '/logs/capture', { host: 'wild.test', duration: 60 })).status).toBe(404)
    expect(edge.server.captures.captureFor('a.wild.test')).toEqual({ bodyBytes: 0 })
    edge.server.captures.capture('a.wild.test', [['cookie', 'c=SECRET']], 502, [])
    const read = (await (await edge.api('GET', `/logs/capture/${id}`)).json()) as { count: number; exchanges: { status: number; request_headers: string[][] }[] }
    expect(read).toMatchObject({ count: 1, exchanges: [{ status: 502, request_headers: [['cookie', '***']] }] })
    expect(edge.server.captures.captureFor('a.wild.test')).toBeNull()
  })
})
