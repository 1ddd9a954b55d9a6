/** GET /system/version: public, in the original's shape, with only what is true of this build. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { VERSION } from '../../src/version.ts'
import { createTestApi } from '../support/api.ts'

let api: Awaited<ReturnType<typeof createTestApi>>
beforeAll(async () => {
  api = await createTestApi()
})
afterAll(() => api.close())

test('GET /system/version needs no token and answers {version, api_version, components}', async () => {
  const response = await api.app.request('/system/version')
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('application/json')
  const body = await response.json()
  expect(body).toEqual({
    version: VERSION,
    api_version: `v${VERSION.split('.')[0]}`,
    components: { runtime: `bun ${Bun.version}`, oauth: '2.1' },
  })
  // No build date is recorded at build time, so none is invented.
  expect('build_date' in body).toBe(false)
})

test('the OpenAPI document lists /system/version without a security requirement', async () => {
  const document = await (await api.app.request('/openapi.json')).json()
  const operation = document.paths['/system/version'].get
  expect(operation).toBeDefined()
  expect(operation.security).toEqual([])
})
