/**
 * The issuer through the real edge (issue #4, "Issuer"): a proxy whose target is the API serves the
 * AS metadata for https://<its hostname> on both dispatchers; a proxy to another backend never does
 * (the backend answers); a request straight to the API with a foreign Host gets 404; repointing a
 * proxy away from the API ends its issuer at once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startEchoBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { via, viaHttp, type Scheme } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'

const WELL_KNOWN = '/.well-known/oauth-authorization-server'

let edge: TestEdge
let backend: ReturnType<typeof startEchoBackend>

beforeAll(async () => {
  edge = await startTestEdge()
  backend = startEchoBackend()
  await edge.createProxy('auth.test', edge.server.apiUrl)
  await edge.createProxy('other.test', `http://127.0.0.1:${backend.port}`)
  await edge.createProxy('moving.test', edge.server.apiUrl)
})
afterAll(async () => {
  backend.stop(true)
  await edge.stop()
})

const direct = (host: string, path = WELL_KNOWN) => fetch(`${edge.server.apiUrl}${path}`, { headers: { host } })

describe('a proxy whose target is the API is an issuer', () => {
  for (const scheme of ['https', 'http'] as Scheme[]) {
    test(`${scheme} dispatcher: auth.test serves metadata with issuer https://auth.test`, async () => {
      const response = await via(scheme)(edge, 'auth.test', WELL_KNOWN)
      expect(response.status).toBe(200)
      expect(response.headers.get('access-control-allow-origin')).toBe('*')
      const body = (await response.json()) as Record<string, string>
      expect(body.issuer).toBe('https://auth.test')
      expect(body.token_endpoint).toBe('https://auth.test/token')
      expect(body.jwks_uri).toBe('https://auth.test/jwks')
    })
  }

  test('the jwks_uri it names answers on the same host with the server\'s keys', async () => {
    const response = await via('https')(edge, 'auth.test', '/jwks')
    expect(response.status).toBe(200)
    const { keys } = (await response.json()) as { keys: { kid: string }[] }
    expect(keys.length).toBeGreaterThan(0)
  })

  test('the built-in localhost proxy: issuer http://localhost:<HTTP port>, the URL a browser on the host uses', async () => {
    const host = `localhost:${edge.httpPort}`
    const response = await waitFor(async () => {
      const reply = await viaHttp(edge, host, WELL_KNOWN)
      return reply.status === 200 ? reply : null
    }, { what: 'the localhost proxy' })
    expect(((await response.json()) as { issuer: string }).issuer).toBe(`http://localhost:${edge.httpPort}`)
  })
})

describe('everything else has no issuer', () => {
  for (const scheme of ['https', 'http'] as Scheme[]) {
    test(`${scheme} dispatcher: a proxy to another backend passes the well-known path to that backend`, async () => {
      const response = await via(scheme)(edge, 'other.test', WELL_KNOWN)
      expect(response.headers.get('x-backend')).toBe('echo')
      expect(await response.json()).not.toHaveProperty('issuer')
    })
  }

  test('straight to the API with Host: evil.com (or a look-alike, or another proxy\'s name): 404', async () => {
    for (const host of ['evil.com', 'localhost.evil.com', 'other.test', 'auth.test.evil.com']) {
      const response = await direct(host)
      expect(response.status).toBe(404)
      expect(await response.json()).toMatchObject({ error: 'not_found' })
    }
  })

  test('X-Forwarded-Host through the edge cannot borrow an issuer', async () => {
    const response = await via('https')(edge, 'other.test', WELL_KNOWN, { headers: { 'x-forwarded-host': 'auth.test' } })
    expect(response.headers.get('x-backend')).toBe('echo')
    expect((await direct('evil.com', WELL_KNOWN)).status).toBe(404)
  })

  test('straight to the API on its own loopback address: the API origin is the issuer', async () => {
    const response = await direct(new URL(edge.server.apiUrl).host)
    expect(response.status).toBe(200)
    expect(((await response.json()) as { issuer: string }).issuer).toBe(edge.server.apiUrl)
  })
})

test('repointing a proxy away from the API ends its issuer with the change', async () => {
  expect((await direct('moving.test')).status).toBe(200)
  const changed = await edge.api('PUT', '/proxy/targets/moving.test', { target_url: `http://127.0.0.1:${backend.port}` })
  expect(changed.status).toBe(200)
  expect((await direct('moving.test')).status).toBe(404)
  const viaEdge = await waitFor(async () => {
    const reply = await via('https')(edge, 'moving.test', WELL_KNOWN)
    return reply.headers.get('x-backend') === 'echo' ? reply : null
  }, { what: 'moving.test to reach the backend' })
  expect(await viaEdge.json()).not.toHaveProperty('issuer')
})
