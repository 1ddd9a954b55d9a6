/**
 * Scripts written for the original call collections with a trailing slash (`/proxy/targets/`); they get the
 * same answer as without. Paths the original served and this API replaced answer 404 naming the new form.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

let edge: TestEdge
beforeAll(async () => {
  edge = await startTestEdge()
})
afterAll(() => edge.stop())

const bodyOf = async (response: Response) => ({ status: response.status, body: await response.json() })

describe('one trailing slash is ignored', () => {
  test('GET of every collection answers exactly as without the slash', async () => {
    await edge.createProxy('listed.example.com', 'http://127.0.0.1:9')
    for (const path of ['/proxy/targets', '/routes', '/services/external', '/ports', '/health', '/system/version', '/proxy/targets/listed.example.com/auth']) {
      const plain = await bodyOf(await edge.api('GET', path))
      expect(plain.status).toBe(200)
      expect(await bodyOf(await edge.api('GET', `${path}/`))).toEqual(plain)
    }
  })

  test('POST /proxy/targets/, /routes/ and /services/external/ create, as without the slash', async () => {
    const proxy = await edge.api('POST', '/proxy/targets/', { proxy_hostname: 'slashed.example.com', target_url: 'http://127.0.0.1:9' })
    expect(proxy.status).toBe(201)
    expect(proxy.headers.get('location')).toBe('/proxy/targets/slashed.example.com')

    const route = await edge.api('POST', '/routes/', { path_pattern: '/slashed/', target_type: 'url', target_value: 'http://127.0.0.1:9' })
    expect(route.status).toBe(201)

    const service = await edge.api('POST', '/services/external/', { service_name: 'slashed', target_url: 'http://127.0.0.1:9' })
    expect(service.status).toBe(201)

    // A bad body gets the same answer either way.
    const bad = { proxy_hostname: 'x.example.com', target_url: 'ftp://nowhere' }
    expect(await bodyOf(await edge.api('POST', '/proxy/targets/', bad))).toEqual(await bodyOf(await edge.api('POST', '/proxy/targets', bad)))
  })

  test('only one slash: // is not a collection path', async () => {
    expect((await edge.api('GET', '/proxy/targets//')).status).toBe(404)
  })

  test('/docs/ and /openapi.json still serve; / is not touched', async () => {
    for (const path of ['/docs', '/docs/']) {
      const response = await fetch(`${edge.server.apiUrl}${path}`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toContain('text/html')
    }
    const openapi = await fetch(`${edge.server.apiUrl}/openapi.json`)
    expect(openapi.status).toBe(200)
    expect(((await openapi.json()) as { paths: Record<string, unknown> }).paths['/proxy/targets']).toBeDefined()
    // "/" keeps its slash: it is the web UI's front door (a redirect to /ui/), not a route with the slash taken off.
    const root = await fetch(`${edge.server.apiUrl}/`, { redirect: 'manual' })
    expect([root.status, root.headers.get('location')]).toEqual([302, '/ui/'])
  })

  test('RFC 8414 §3.1: under /.well-known/ a trailing slash is part of the issuer path, so it is kept', async () => {
    const plain = await fetch(`${edge.server.apiUrl}/.well-known/oauth-authorization-server`)
    expect(plain.status).toBe(200)
    const slashed = await fetch(`${edge.server.apiUrl}/.well-known/oauth-authorization-server/`)
    expect(slashed.status).toBe(404)
  })
})

describe("the original's paths that moved", () => {
  for (const [path, instead] of [
    ['/proxy/targets/formatted', 'GET /proxy/targets'],
    ['/routes/formatted', 'GET /routes'],
  ] as const) {
    test(`GET ${path} (and ?format=table, and with a slash) → 404 naming ${instead}`, async () => {
      for (const variant of [path, `${path}?format=table`, `${path}/`]) {
        const response = await edge.api('GET', variant)
        expect(response.status).toBe(404)
        const body = (await response.json()) as { error: string; error_description: string }
        expect(body.error).toBe('not_found')
        expect(body.error_description).toContain(instead)
        expect(body.error_description).toContain('JSON')
      }
    })
  }
})
