/** Domain errors thrown by handlers become the same answer for every resource, and path parameters are validated first. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { defineRoute } from '../../src/api/index.ts'
import { RouteError } from '../../src/routes/index.ts'
import { ServiceError } from '../../src/services/index.ts'
import { TargetError } from '../../src/targets/index.ts'
import { bearer, createTestApi } from '../support/api.ts'

const errors: Record<string, Error> = {
  'target-missing': new TargetError('not_found', 'no proxy for a.example.com'),
  'target-taken': new TargetError('conflict', 'a proxy for a.example.com already exists'),
  'target-invalid': new TargetError('invalid', 'is "none"', 'route_mode'),
  'service-missing': new ServiceError('not_found', 'no service named s'),
  'service-taken': new ServiceError('conflict', 'a service named s already exists'),
  'service-invalid': new ServiceError('invalid', 'not like that'),
  'route-missing': new RouteError('not_found', 'no route r-1'),
  'route-taken': new RouteError('conflict', 'route r-1 already has this path'),
  'route-invalid': new RouteError('invalid', 'no service s', 'target_value'),
}

const routes = [
  defineRoute({
    method: 'get',
    path: '/test/fail/:which/:count',
    scope: 'public',
    tag: 'test',
    summary: 'throws the named domain error',
    params: v.object({ which: v.picklist(Object.keys(errors), 'expected a known error'), count: v.pipe(v.string(), v.regex(/^\d+$/, 'expected digits'), v.transform(Number)) }),
    responses: { 200: { description: 'never' } },
    handler: (c, { params }) => {
      if (params.count > 0) throw errors[params.which]!
      return c.json(params)
    },
  }),
]

let api: Awaited<ReturnType<typeof createTestApi>>
beforeAll(async () => {
  api = await createTestApi({ extraRoutes: routes })
})
afterAll(() => api.close())

const get = (path: string) => api.app.request(path, { headers: bearer('unused') })

describe('one translation for every domain error', () => {
  test('not_found → 404, conflict → 409, invalid → 400 naming the field when there is one', async () => {
    const expected: Record<string, [number, string, string]> = {
      'target-missing': [404, 'not_found', 'no proxy for a.example.com'],
      'target-taken': [409, 'conflict', 'a proxy for a.example.com already exists'],
      'target-invalid': [400, 'invalid_request', 'field route_mode: is "none"'],
      'service-missing': [404, 'not_found', 'no service named s'],
      'service-taken': [409, 'conflict', 'a service named s already exists'],
      'service-invalid': [400, 'invalid_request', 'not like that'],
      'route-missing': [404, 'not_found', 'no route r-1'],
      'route-taken': [409, 'conflict', 'route r-1 already has this path'],
      'route-invalid': [400, 'invalid_request', 'field target_value: no service s'],
    }
    for (const [which, [status, error, description]] of Object.entries(expected)) {
      const response = await get(`/test/fail/${which}/1`)
      expect(response.status).toBe(status)
      expect(response.headers.get('cache-control')).toBe('no-store')
      expect(await response.json()).toEqual({ error, error_description: description })
    }
  })
})

describe('path parameters', () => {
  test('are validated and transformed by their schema, and reach the handler typed', async () => {
    expect(await (await get('/test/fail/route-taken/0')).json()).toEqual({ which: 'route-taken', count: 0 })
  })

  test('a bad one → 400 naming it', async () => {
    const response = await get('/test/fail/other/1')
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'path parameter which: expected a known error' })
    expect(((await (await get('/test/fail/route-taken/x')).json()) as { error_description: string }).error_description).toBe('path parameter count: expected digits')
  })

  test('appear in the OpenAPI document with their schema', async () => {
    const document = (await (await api.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { parameters: unknown[] }>> }
    expect(document.paths['/test/fail/{which}/{count}']!.get!.parameters).toEqual([
      { name: 'which', in: 'path', required: true, schema: { type: 'string', enum: Object.keys(errors) } },
      { name: 'count', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d+$' } },
    ])
  })
})
