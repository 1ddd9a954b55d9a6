/**
 * Header captures as the data plane sees them (captureFor, capture) and as the API drives them
 * (begin, read, end): nothing captured without a capture, headers masked (RFC 9110 §11.6.2 and
 * §11.7.2 credentials, RFC 6265 cookies, an OAuth redirect's code and state, RFC 6749 §4.2.2 fragment
 * tokens), bounded by max_requests and time, bodies only up to body_bytes, and on every node of a
 * Redis deployment.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createMemoryBus, createRedisBus, type EventBus } from '../../src/events/index.ts'
import { createLogger, createManualClock, randomToken, type Clock } from '../../src/lib/index.ts'
import { CaptureConflictError, createCaptureService, MASK, maskUrlValue, type CaptureService } from '../../src/logs/index.ts'
import { createEmbeddedStore, createRedisStore, type Store } from '../../src/store/index.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'

const logger = createLogger('silent')
const START = Date.UTC(2026, 11, 1, 12)
const request = { host: 'app.test', durationSec: 300, maxRequests: 3, bodyBytes: 0, createdBy: 'alice' }

async function node(store: Store, bus: EventBus, clock: Clock, nodeId = 'node-a'): Promise<CaptureService> {
  const service = createCaptureService({ store, bus, clock, logger, nodeId, retentionMs: 86_400_000 })
  await service.start()
  return service
}

async function single() {
  const clock = createManualClock(START)
  const store = createEmbeddedStore({ dataDir: ':memory:', clock })
  const bus = createMemoryBus(logger)
  return { clock, store, service: await node(store, bus, clock) }
}

const REQUEST_HEADERS: [string, string][] = [
  ['Host', 'app.test'],
  ['Authorization', 'Bearer at-SECRET-1'],
  ['Cookie', 'session=SECRET-2'],
  ['Proxy-Authorization', 'Basic SECRET-3'],
  ['X-Api-Key', 'SECRET-4'],
  ['Referer', 'https://app.test/cb?code=SECRET-5&state=SECRET-6&keep=1'],
  ['Accept', 'text/html'],
]
const RESPONSE_HEADERS = new Headers([
  ['content-type', 'text/html'],
  ['location', 'https://client.test/cb?code=SECRET-7&state=SECRET-8#access_token=SECRET-9&token_type=bearer'],
])
RESPONSE_HEADERS.append('set-cookie', 'a=SECRET-10; Path=/')
RESPONSE_HEADERS.append('set-cookie', 'b=SECRET-11; Path=/')

describe('one node', () => {
  test('no capture: captureFor is null and capture keeps nothing', async () => {
    const { service } = await single()
    expect(service.captureFor('app.test')).toBeNull()
    service.capture('app.test', REQUEST_HEADERS, 200, RESPONSE_HEADERS)
    expect(await service.list()).toEqual([])
  })

  test('a capture catches one host only, masks every credential, cookie and secret URL parameter, and keeps no body by default', async () => {
    const { service } = await single()
    const capture = await service.begin(request)
    expect(capture).toMatchObject({ host: 'app.test', active: true, max_requests: 3, body_bytes: 0, created_by: 'alice', stopped_at: null })
    expect(service.captureFor('APP.test')).toEqual({ bodyBytes: 0 })
    expect(service.captureFor('other.test')).toBeNull()
    service.capture('other.test', REQUEST_HEADERS, 200, RESPONSE_HEADERS)
    service.capture('app.test', REQUEST_HEADERS, 302, RESPONSE_HEADERS, { method: 'GET', target: '/cb?code=SECRET-12&state=SECRET-13&page=2', requestBody: new TextEncoder().encode('SECRET-14') })

    const read = (await service.read(capture.id))!
    expect(read.exchanges).toHaveLength(1)
    const [exchange] = read.exchanges
    expect(exchange).toMatchObject({ node: 'node-a', method: 'GET', target: '/cb?code=***&state=***&page=2', status: 302 })
    expect(exchange!.request_headers).toEqual([
      ['host', 'app.test'],
      ['authorization', MASK],
      ['cookie', MASK],
      ['proxy-authorization', MASK],
      ['x-api-key', MASK],
      ['referer', 'https://app.test/cb?code=***&state=***&keep=1'],
      ['accept', 'text/html'],
    ])
    expect(exchange!.response_headers).toContainEqual(['location', 'https://client.test/cb?code=***&state=***#access_token=***&token_type=bearer'])
    expect(exchange!.response_headers.filter(([name]) => name === 'set-cookie')).toEqual([['set-cookie', MASK], ['set-cookie', MASK]])
    expect(exchange).not.toHaveProperty('request_body')
    expect(JSON.stringify(read)).not.toContain('SECRET')
  })

  test('at most max_requests exchanges; then captureFor is null again', async () => {
    const { service } = await single()
    const capture = await service.begin(request)
    for (let i = 0; i < 5; i++) service.capture('app.test', [['x-n', String(i)]], 200, [])
    expect(service.captureFor('app.test')).toBeNull()
    const read = (await service.read(capture.id))!
    expect(read.exchanges.map((exchange) => exchange.request_headers[0]![1])).toEqual(['0', '1', '2'])
  })

  test('a capture ends at its duration', async () => {
    const { service, clock } = await single()
    const capture = await service.begin({ ...request, durationSec: 60 })
    service.capture('app.test', [], 200, [])
    clock.advanceMs(60_000)
    expect(service.captureFor('app.test')).toBeNull()
    service.capture('app.test', [], 200, [])
    const read = (await service.read(capture.id))!
    expect(read.capture.active).toBe(false)
    expect(read.exchanges).toHaveLength(1)
  })

  test('body_bytes keeps that many bytes of each body, and says when it cut', async () => {
    const { service } = await single()
    const capture = await service.begin({ ...request, bodyBytes: 4 })
    expect(service.captureFor('app.test')).toEqual({ bodyBytes: 4 })
    service.capture('app.test', [], 200, [], { requestBody: new TextEncoder().encode('abcdefgh'), responseBody: new TextEncoder().encode('xyz') })
    const [exchange] = (await service.read(capture.id))!.exchanges
    expect(exchange).toMatchObject({ request_body: 'abcd', request_body_truncated: true, response_body: 'xyz', response_body_truncated: false })
  })

  test('end() stops it at once; a second capture for a running host is a conflict; an ended one frees the host', async () => {
    const { service } = await single()
    const capture = await service.begin(request)
    await expect(service.begin(request)).rejects.toBeInstanceOf(CaptureConflictError)
    const ended = (await service.end(capture.id))!
    expect(ended).toMatchObject({ active: false, stopped_at: expect.any(String) })
    expect(service.captureFor('app.test')).toBeNull()
    service.capture('app.test', [], 200, [])
    expect((await service.read(capture.id))!.exchanges).toEqual([])
    await service.begin(request)
    expect(await service.end('AAAAAAAAAAAAAAAAAAAAAA')).toBeNull()
    expect(await service.read('../etc/passwd')).toBeNull()
  })

  test('retention drops exchanges once their capture is past LOG_RETENTION; the capture itself expires with the store TTL', async () => {
    const { service, clock } = await single()
    const capture = await service.begin({ ...request, durationSec: 60 })
    service.capture('app.test', [], 200, [])
    await service.read(capture.id)
    clock.advanceMs(86_400_000)
    expect(await service.enforceRetention()).toBe(0)
    // A capture may run 15 minutes: exchanges go once the longest capture that could hold them is past retention.
    clock.advanceMs(900_001)
    expect(await service.enforceRetention()).toBe(1)
    expect(await service.read(capture.id)).toBeNull()
  })

  test('a capture started before this node started is picked up at start', async () => {
    const { store, service, clock } = await single()
    const capture = await service.begin(request)
    await service.stop()
    const restarted = await node(store, createMemoryBus(logger), clock)
    expect(restarted.captureFor('app.test')).toEqual({ bodyBytes: 0 })
    restarted.capture('app.test', [], 204, [])
    expect((await restarted.read(capture.id))!.exchanges).toHaveLength(1)
  })
})

test('maskUrlValue leaves a URL without secrets alone and masks fragment tokens', () => {
  expect(maskUrlValue('https://a.test/x?page=2#top')).toBe('https://a.test/x?page=2#top')
  expect(maskUrlValue('/x#id_token=abc&state=def')).toBe('/x#id_token=***&state=***')
})

describe('two nodes on Redis', () => {
  let redis: TestRedis
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(() => redis?.dispose())

  test('a capture started on one node captures on the other, and either node reads both; ending it stops both', async () => {
    const namespace = `capture-${randomToken(6)}:`
    const clock = createManualClock(Date.now())
    const nodes: { store: Store; bus: EventBus; service: CaptureService }[] = []
    for (const nodeId of ['node-a', 'node-b']) {
      const store = createRedisStore({ url: redis.url, namespace })
      const bus = createRedisBus({ url: redis.url, nodeId, namespace, logger, blockMs: 100 })
      await bus.start()
      nodes.push({ store, bus, service: await node(store, bus, clock, nodeId) })
    }
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]]
    try {
      const capture = await a.service.begin(request)
      await waitFor(() => b.service.captureFor('app.test') !== null, { what: 'node-b hearing of the capture' })
      a.service.capture('app.test', [['x-node', 'a']], 200, [])
      b.service.capture('app.test', [['x-node', 'b']], 200, [])
      // A read writes its own node's queue first: after one read on each node, both exchanges are stored.
      await a.service.read(capture.id)
      await b.service.read(capture.id)
      for (const reader of [a, b]) {
        const read = (await reader.service.read(capture.id))!
        expect(read.exchanges.map((exchange) => exchange.node).sort()).toEqual(['node-a', 'node-b'])
      }
      await b.service.end(capture.id)
      await waitFor(() => a.service.captureFor('app.test') === null, { what: 'node-a hearing the capture ended' })
    } finally {
      for (const { service, bus, store } of nodes) {
        await service.stop()
        await bus.stop()
        await store.close()
      }
    }
  }, 20_000)
})
