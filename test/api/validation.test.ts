/** Bad input gets a clear error naming the field and the right status; never a 500 or a stack trace. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { defineRoute } from '../../src/api/index.ts'
import { bearer, createTestApi } from '../support/api.ts'

const EchoBody = v.object({
  hostname: v.pipe(v.string('expected a string'), v.minLength(1, 'must not be empty')),
  port: v.optional(v.pipe(v.number('expected a number'), v.integer('expected an integer'))),
  headers: v.optional(v.record(v.string(), v.string('expected a string'))),
})

const routes = [
  defineRoute({
    method: 'post',
    path: '/test/echo',
    scope: 'admin',
    tag: 'test',
    summary: 'echo',
    body: EchoBody,
    query: v.object({ limit: v.optional(v.pipe(v.string(), v.regex(/^\d+$/, 'expected a whole number'))) }),
    responses: { 200: { description: 'echo' } },
    handler: (c, { body, query }) => c.json({ body, query }),
  }),
  defineRoute({
    method: 'get',
    path: '/test/boom',
    scope: 'public',
    tag: 'test',
    summary: 'a bug',
    responses: { 200: { description: 'never' } },
    handler: () => {
      throw new Error('secret internal detail at /srv/app.ts:12')
    },
  }),
]

let api: Awaited<ReturnType<typeof createTestApi>>
let admin: Record<string, string>
beforeAll(async () => {
  api = await createTestApi({ extraRoutes: routes })
  admin = bearer(await api.issue(['admin']))
})
afterAll(() => api.close())

const post = (body: string, contentType = 'application/json', path = '/test/echo') =>
  api.app.request(path, { method: 'POST', headers: { ...admin, 'Content-Type': contentType }, body })

describe('input validation', () => {
  test('valid JSON passes through typed', async () => {
    const response = await post(JSON.stringify({ hostname: 'a.example.com', port: 8080 }), 'application/json; charset=utf-8', '/test/echo?limit=5')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ body: { hostname: 'a.example.com', port: 8080 }, query: { limit: '5' } })
  })

  test('each bad field is named with what it expected → 400 invalid_request', async () => {
    const cases: [unknown, string][] = [
      [{}, 'field hostname: is required'],
      [{ hostname: 7 }, 'field hostname: expected a string'],
      [{ hostname: '' }, 'field hostname: must not be empty'],
      [{ hostname: 'a', port: 'x' }, 'field port: expected a number'],
      [{ hostname: 'a', port: 1.5 }, 'field port: expected an integer'],
      [{ hostname: 'a', headers: { 'X-A': 1 } }, 'field headers.X-A: expected a string'],
    ]
    for (const [body, description] of cases) {
      const response = await post(JSON.stringify(body))
      expect(response.status).toBe(400)
      expect(await response.json()).toEqual({ error: 'invalid_request', error_description: description })
    }
  })

  test('a bad query parameter is named', async () => {
    const response = await post(JSON.stringify({ hostname: 'a' }), 'application/json', '/test/echo?limit=ten')
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'query parameter limit: expected a whole number' })
  })

  test('malformed JSON → 400; a non-JSON body → 415', async () => {
    for (const text of ['{', '{"hostname":', 'nul', '\u0000']) {
      const response = await post(text)
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error_description: string }).error_description).toBe('the request body is not valid JSON')
    }
    const form = await post('hostname=a', 'application/x-www-form-urlencoded')
    expect(form.status).toBe(415)
    expect(await form.json()).toMatchObject({ error: 'unsupported_media_type' })
  })

  test('JSON that is not an object (array, string, null) → 400, never 500', async () => {
    for (const text of ['[]', '"x"', 'null', '42']) expect((await post(text)).status).toBe(400)
  })

  test('authentication comes before validation: no token, bad body → 401', async () => {
    const response = await api.app.request('/test/echo', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' })
    expect(response.status).toBe(401)
  })
})

describe('errors', () => {
  test('an unknown path → 404 JSON naming it', async () => {
    const response = await api.app.request('/nope/<script>')
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toStartWith('application/json')
    expect(await response.json()).toMatchObject({ error: 'not_found' })
  })

  test('an unexpected failure → generic 500 with a request id; no detail or stack leaks', async () => {
    const response = await api.app.request('/test/boom')
    expect(response.status).toBe(500)
    const text = await response.text()
    expect(text).not.toContain('secret internal detail')
    expect(text).not.toContain('.ts:')
    const requestId = response.headers.get('x-request-id')
    expect(requestId).toBeTruthy()
    expect(JSON.parse(text)).toEqual({ error: 'server_error', error_description: `internal error (request ${requestId})` })
  })

  test('a store outage → 503 store_unavailable with Retry-After, naming the store', async () => {
    const local = await createTestApi()
    const token = await local.issue(['admin'])
    // Verification needs the store (key lookup), so close it to make every store call fail.
    await local.store.close()
    const response = await local.app.request('/oauth/keys', { headers: bearer(token) })
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('5')
    expect(await response.json()).toEqual({ error: 'store_unavailable', error_description: 'the embedded store is unavailable; retry later' })
    const health = await local.app.request('/health')
    expect(health.status).toBe(503)
    expect(await health.json()).toMatchObject({ status: 'unavailable', store: { kind: 'embedded', status: 'unavailable' } })
  })
})
