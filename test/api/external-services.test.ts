/** /services/external: admin writes, user reads, every bad input named, deletes refused while something points at the service. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { externalServiceRoutes } from '../../src/api/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createExternalServices } from '../../src/services/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'
import { bearer, createTestApi } from '../support/api.ts'

const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const store = createEmbeddedStore({ dataDir: ':memory:', clock })
const services = createExternalServices(store, createMemoryBus(createLogger('silent')), clock)
/** What points at each service; the server computes it from the proxies and routes, here the test sets it. */
let pointing: Record<string, { proxies: string[]; routes: string[] }> = {}
const routes = externalServiceRoutes(services, { dependentsOfService: async (name) => pointing[name] ?? { proxies: [], routes: [] } })

let api: Awaited<ReturnType<typeof createTestApi>>
let admin: string
let user: string
beforeAll(async () => {
  api = await createTestApi({ extraRoutes: routes })
  admin = await api.issue(['admin'])
  user = await api.issue(['user'])
})
afterAll(() => api.close())
beforeEach(async () => {
  for (const service of await services.list()) await services.remove(service.service_name)
  pointing = {}
})

const call = (method: string, path: string, options: { body?: unknown; token?: string | null } = {}) => {
  const token = options.token === undefined ? admin : options.token
  const headers: Record<string, string> = { ...(token ? bearer(token) : {}), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) }
  return api.app.request(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) })
}
const errorOf = async (response: Response) => (await response.json()) as { error: string; error_description: string }
const create = (body: unknown) => call('POST', '/services/external', { body })
const stored = async () => JSON.stringify(await services.list())

describe('POST /services/external', () => {
  test('creates with the defaults, http:// assumed, stamped with its creator', async () => {
    const response = await create({ service_name: 'billing', target_url: '10.0.0.5:8080' })
    expect(response.status).toBe(201)
    expect(response.headers.get('location')).toBe('/services/external/billing')
    expect(await response.json()).toEqual({
      service_name: 'billing',
      target_url: 'http://10.0.0.5:8080',
      description: '',
      created_by: 'alice',
      created_at: '2026-11-27T12:00:00.000Z',
      updated_at: '2026-11-27T12:00:00.000Z',
    })
  })

  test('a taken name → 409, and the stored service is unchanged', async () => {
    await create({ service_name: 'dup', target_url: 'http://a.test' })
    const before = await stored()
    const response = await create({ service_name: 'dup', target_url: 'http://b.test' })
    expect(response.status).toBe(409)
    expect(await errorOf(response)).toMatchObject({ error: 'conflict' })
    expect(await stored()).toBe(before)
  })

  test('bad bodies → 400 naming the field; nothing is stored', async () => {
    const cases: [unknown, string][] = [
      [{ target_url: 'http://a.test' }, 'field service_name: is required'],
      [{ service_name: 'Bad', target_url: 'http://a.test' }, 'field service_name:'],
      [{ service_name: 'ports', target_url: 'http://a.test' }, 'field service_name: is reserved'],
      [{ service_name: 'a', target_url: 'ftp://a.test' }, 'field target_url:'],
      [{ service_name: 'a', target_url: 'http://u:p@a.test' }, 'field target_url:'],
      [{ service_name: 'a' }, 'field target_url: is required'],
      [{ service_name: 'a', target_url: 'http://a.test', description: 'x'.repeat(501) }, 'field description:'],
      [{ service_name: 'a', target_url: 'http://a.test', surprise: 1 }, 'field surprise:'],
    ]
    for (const [body, prefix] of cases) {
      const response = await create(body)
      expect(response.status).toBe(400)
      expect((await errorOf(response)).error_description).toStartWith(prefix)
    }
    expect(await services.list()).toEqual([])
  })
})

describe('GET /services/external[/{name}]', () => {
  test('lists by name and reads one', async () => {
    await create({ service_name: 'b', target_url: 'http://b.test' })
    await create({ service_name: 'a', target_url: 'http://a.test', description: 'first' })
    const list = (await (await call('GET', '/services/external', { token: user })).json()) as { service_name: string }[]
    expect(list.map((service) => service.service_name)).toEqual(['a', 'b'])
    const one = await call('GET', '/services/external/a', { token: user })
    expect(one.status).toBe(200)
    expect(await one.json()).toMatchObject({ service_name: 'a', target_url: 'http://a.test', description: 'first' })
  })

  test('unknown → 404; a bad name in the path → 400 naming the path parameter', async () => {
    const missing = await call('GET', '/services/external/missing')
    expect(missing.status).toBe(404)
    expect(await errorOf(missing)).toEqual({ error: 'not_found', error_description: 'no service named missing' })
    for (const path of ['/services/external/Bad', '/services/external/-a', '/services/external/cleanup', `/services/external/${'x'.repeat(64)}`]) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await call(method, path, method === 'PUT' ? { body: { description: 'x' } } : {})
        expect(response.status).toBe(400)
        expect((await errorOf(response)).error_description).toStartWith('path parameter name:')
      }
    }
  })
})

describe('PUT /services/external/{name}', () => {
  test('applies the fields given and keeps the others', async () => {
    await create({ service_name: 'api', target_url: 'http://a.test', description: 'kept' })
    clock.advanceMs(1000)
    const response = await call('PUT', '/services/external/api', { body: { target_url: 'https://b.test/v2' } })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ target_url: 'https://b.test/v2', description: 'kept', updated_at: '2026-11-27T12:00:01.000Z' })
  })

  test('bad bodies → 400 naming the field and change nothing; unknown → 404', async () => {
    await create({ service_name: 'api', target_url: 'http://a.test' })
    const before = await stored()
    for (const [body, prefix] of [
      [{ target_url: 'ftp://x' }, 'field target_url:'],
      [{ service_name: 'other' }, 'field service_name:'],
      [{ description: 5 }, 'field description:'],
    ] as const) {
      const response = await call('PUT', '/services/external/api', { body })
      expect(response.status).toBe(400)
      expect((await errorOf(response)).error_description).toStartWith(prefix)
    }
    expect(await stored()).toBe(before)
    expect((await call('PUT', '/services/external/missing', { body: { description: 'x' } })).status).toBe(404)
  })
})

describe('DELETE /services/external/{name}', () => {
  test('deletes → 204; unknown → 404', async () => {
    await create({ service_name: 'gone', target_url: 'http://a.test' })
    expect((await call('DELETE', '/services/external/gone')).status).toBe(204)
    expect((await call('GET', '/services/external/gone')).status).toBe(404)
    expect((await call('DELETE', '/services/external/gone')).status).toBe(404)
  })

  test('while proxies or routes point at it → 409 naming them, and the service stays', async () => {
    await create({ service_name: 'used', target_url: 'http://a.test' })
    pointing.used = { proxies: ['a.example.com', 'b.example.com'], routes: ['api-1f2e3d4c'] }
    const response = await call('DELETE', '/services/external/used')
    expect(response.status).toBe(409)
    const { error, error_description } = await errorOf(response)
    expect(error).toBe('conflict')
    expect(error_description).toStartWith('service used is used by proxies a.example.com, b.example.com and routes api-1f2e3d4c;')
    expect(error_description).toContain('?force=true')
    expect(await services.get('used')).not.toBeNull()

    pointing.used = { proxies: [], routes: ['only-route'] }
    expect((await errorOf(await call('DELETE', '/services/external/used'))).error_description).toStartWith('service used is used by routes only-route;')
    expect((await call('DELETE', '/services/external/used?force=false')).status).toBe(409)
  })

  test('?force=true deletes anyway; a bad force value → 400 naming it', async () => {
    await create({ service_name: 'used', target_url: 'http://a.test' })
    pointing.used = { proxies: ['a.example.com'], routes: [] }
    const bad = await call('DELETE', '/services/external/used?force=yes')
    expect(bad.status).toBe(400)
    expect((await errorOf(bad)).error_description).toStartWith('query parameter force:')
    expect((await call('DELETE', '/services/external/used?force=true')).status).toBe(204)
    expect(await services.get('used')).toBeNull()
  })
})

describe('authorization', () => {
  test('no token → 401 everywhere; a user token reads but every write → 403 and changes nothing', async () => {
    await create({ service_name: 'svc', target_url: 'http://a.test' })
    const before = await stored()
    const writes: [string, string, unknown][] = [
      ['POST', '/services/external', { service_name: 'new', target_url: 'http://a.test' }],
      ['PUT', '/services/external/svc', { description: 'x' }],
      ['DELETE', '/services/external/svc', undefined],
    ]
    for (const [method, path, body] of writes) {
      expect((await call(method, path, { body, token: null })).status).toBe(401)
      expect((await call(method, path, { body, token: user })).status).toBe(403)
    }
    for (const path of ['/services/external', '/services/external/svc']) {
      expect((await call('GET', path, { token: null })).status).toBe(401)
      expect((await call('GET', path, { token: user })).status).toBe(200)
    }
    expect(await stored()).toBe(before)
  })
})

test('the OpenAPI document describes the path parameter with its schema and the force query', async () => {
  const document = (await (await api.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: Record<string, unknown> }[] }>> }
  const remove = document.paths['/services/external/{name}']!.delete!
  expect(remove.parameters).toContainEqual(expect.objectContaining({ name: 'name', in: 'path', schema: expect.objectContaining({ type: 'string', pattern: expect.any(String) }) }))
  expect(remove.parameters).toContainEqual(expect.objectContaining({ name: 'force', in: 'query' }))
})
