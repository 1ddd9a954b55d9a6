/** POST /register (RFC 7591), GET/PUT/DELETE /register/{id} (RFC 7592), GET /oauth/clients, over the in-process API. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { registerRoutes } from '../../src/api/index.ts'
import { createManualClock } from '../../src/lib/index.ts'
import { createClientRegistry } from '../../src/oauth/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'
import { bearer, createTestApi } from '../support/api.ts'

const ORIGIN = 'https://auth.example.com'
const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const clientStore = createEmbeddedStore({ dataDir: ':memory:', clock })
let api: Awaited<ReturnType<typeof createTestApi>>
beforeAll(async () => {
  api = await createTestApi({ extraRoutes: registerRoutes(createClientRegistry(clientStore, clock)) })
})
afterAll(async () => {
  await api.close()
  await clientStore.close()
})

type Json = Record<string, unknown>
const JSON_HEADERS = { 'Content-Type': 'application/json' }
const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  api.app.request(`${ORIGIN}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : JSON_HEADERS), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
const register = (body: unknown) => send('POST', '/register', body)
const MCP_CLIENT = { client_name: 'MCP Inspector', redirect_uris: ['http://localhost:6274/oauth/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }
const CONFIDENTIAL = { client_name: 'Web', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_basic' }

async function registered(body: Json = MCP_CLIENT) {
  const response = await register(body)
  expect(response.status).toBe(201)
  return (await response.json()) as Json & { client_id: string; registration_access_token: string; registration_client_uri: string; client_secret?: string }
}

async function expectError(response: Response, status: number, error: string) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toStartWith('application/json')
  const body = (await response.json()) as Json
  expect(body.error).toBe(error)
  expect(body.error_description).toBeString()
  return body
}

describe('POST /register (RFC 7591 §3.1)', () => {
  test('AS-07: a public client with a loopback redirect → 201, client_id, no secret, metadata echoed, registration_client_uri', async () => {
    const response = await register(MCP_CLIENT)
    expect(response.status).toBe(201)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    const body = (await response.json()) as Json & { client_id: string }
    expect(body).toEqual({
      ...MCP_CLIENT,
      client_id: body.client_id,
      client_id_issued_at: Math.floor(clock.nowMs() / 1000),
      registration_access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      registration_client_uri: `${ORIGIN}/register/${body.client_id}`,
    })
    expect(body).not.toHaveProperty('client_secret')
  })

  test('RFC 7591 §3.2.1: a confidential client gets client_secret once, with client_secret_expires_at 0', async () => {
    const body = await registered(CONFIDENTIAL)
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(body.client_secret_expires_at).toBe(0)
    expect(body.token_endpoint_auth_method).toBe('client_secret_basic')
    const read = (await (await send('GET', `/register/${body.client_id}`, undefined, bearer(body.registration_access_token))).json()) as Json
    expect(read).not.toHaveProperty('client_secret')
    expect(read.client_secret_expires_at).toBe(0)
  })

  test('RFC 7591 §2: defaults when omitted (client_secret_basic, authorization_code, code)', async () => {
    const body = await registered({ redirect_uris: ['https://app.example/cb'] })
    expect(body).toMatchObject({ token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], response_types: ['code'] })
    expect(body.client_secret).toBeString()
  })

  test('original §12.1 item 4: a client-chosen client_id (and secret) is ignored', async () => {
    const body = await registered({ ...CONFIDENTIAL, client_id: 'admin', client_secret: 'my-own-secret' })
    expect(body.client_id).not.toBe('admin')
    expect(body.client_secret).not.toBe('my-own-secret')
    expect((await send('GET', '/register/admin', undefined, bearer(body.registration_access_token))).status).toBe(401)
  })

  test('the registration_client_uri follows the origin the request came in on', async () => {
    const response = await api.app.request('http://127.0.0.1:9000/register', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(MCP_CLIENT) })
    const body = (await response.json()) as Json
    expect(body.registration_client_uri).toBe(`http://127.0.0.1:9000/register/${body.client_id}`)
  })

  test('RFC 7591 §3.2.2: javascript: redirect_uri → 400 invalid_redirect_uri', async () => {
    const body = await expectError(await register({ redirect_uris: ['javascript:alert(1)'] }), 400, 'invalid_redirect_uri')
    expect(body.error_description).toBe('redirect_uris[0]: the javascript: scheme is not allowed')
  })

  test('RFC 7591 §3.2.2: data:, file:, fragments, userinfo, wildcards, non-loopback http, look-alike loopback → 400 invalid_redirect_uri', async () => {
    const bad = [
      'data:text/html,<script>alert(1)</script>',
      'file:///etc/passwd',
      'https://app.example/cb#frag',
      'https://user:pw@app.example/cb',
      'https://*.app.example/cb',
      'http://app.example/cb',
      'http://localhost.evil.com/cb',
      'http://127.0.0.1.evil.com/cb',
      'ftp://files.example/cb',
    ]
    for (const uri of bad) {
      const response = await register({ redirect_uris: ['https://fine.example/cb', uri] })
      expect(response.headers.get('access-control-allow-origin')).toBe('*')
      await expectError(response, 400, 'invalid_redirect_uri')
    }
  })

  test('RFC 7591 §3.2.2: other bad metadata → 400 invalid_client_metadata', async () => {
    const bad: Json[] = [
      { ...MCP_CLIENT, grant_types: ['implicit'] },
      { ...MCP_CLIENT, response_types: ['token'] },
      { ...MCP_CLIENT, token_endpoint_auth_method: 'private_key_jwt' },
      { ...MCP_CLIENT, client_uri: 'javascript:alert(1)' },
      { ...MCP_CLIENT, client_name: 42 },
    ]
    for (const body of bad) await expectError(await register(body), 400, 'invalid_client_metadata')
  })

  test('RFC 7591 §3.2.2: hostile bodies → 400 invalid_client_metadata, never a 500', async () => {
    for (const body of ['null', '[]', '[{}]', '"x"', '42', 'true', '{', '{"redirect_uris":', '\u0000', '{"a":1}{"b":2}']) {
      const response = await register(body)
      expect(response.status).toBe(400)
      expect(['invalid_client_metadata', 'invalid_redirect_uri']).toContain(((await response.json()) as Json).error as string)
    }
    const invalidUtf8 = new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])
    await expectError(await api.app.request(`${ORIGIN}/register`, { method: 'POST', headers: JSON_HEADERS, body: invalidUtf8 }), 400, 'invalid_client_metadata')
  })

  test('RFC 7591 §3.2.2: a body that is not JSON → 400 invalid_client_metadata', async () => {
    for (const contentType of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data']) {
      await expectError(await send('POST', '/register', 'redirect_uris=https://a.example/cb', { 'Content-Type': contentType }), 400, 'invalid_client_metadata')
    }
    await expectError(await api.app.request(`${ORIGIN}/register`, { method: 'POST' }), 400, 'invalid_client_metadata')
  })

  test('RFC 7591 §5: 11 redirect URIs → 400 invalid_redirect_uri; a 10,000-URI body → 413', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `https://app.example/cb${i}`)
    await expectError(await register({ redirect_uris: eleven }), 400, 'invalid_redirect_uri')
    const huge = Array.from({ length: 10_000 }, (_, i) => `https://app.example/cb${i}`)
    await expectError(await register({ redirect_uris: huge }), 413, 'invalid_client_metadata')
  })

  test('a body over 16 KiB is refused while streaming, whatever Content-Length claims', async () => {
    const big = JSON.stringify({ ...MCP_CLIENT, padding: 'x'.repeat(70_000) })
    await expectError(await send('POST', '/register', big), 413, 'invalid_client_metadata')
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big))
        controller.close()
      },
    })
    const response = await api.app.request(`${ORIGIN}/register`, { method: 'POST', headers: JSON_HEADERS, body: stream, duplex: 'half' } as RequestInit)
    expect((await expectError(response, 413, 'invalid_client_metadata')).error_description).toContain('16384 bytes')
  })

  test('CORS: OPTIONS /register answers the preflight; /authorize-style credentials are not involved', async () => {
    const response = await api.app.request(`${ORIGIN}/register`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:6274', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS')
    expect(response.headers.get('access-control-allow-headers')).toContain('Content-Type')
    expect(response.headers.get('access-control-allow-headers')).toContain('Authorization')
    expect(response.headers.get('access-control-allow-credentials')).toBeNull()
  })
})

describe('/register/{client_id} (RFC 7592 §2)', () => {
  test('RFC 7592 §2.1: GET with the registration access token returns the client information, not the secret', async () => {
    const created = await registered(CONFIDENTIAL)
    const response = await send('GET', `/register/${created.client_id}`, undefined, bearer(created.registration_access_token))
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    const { client_secret: _secret, ...withoutSecret } = created
    expect(await response.json()).toEqual(withoutSecret)
  })

  test('RFC 7592 §2.1 / RFC 6750 §3: a missing token → 401 invalid_token with a bare Bearer challenge', async () => {
    const created = await registered()
    const response = await send('GET', `/register/${created.client_id}`)
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
    expect(response.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate')
    await expectError(response, 401, 'invalid_token')
  })

  test('RFC 7592 §2.1 / RFC 6750 §3.1: a wrong, malformed or another client\'s token → 401 invalid_token', async () => {
    const a = await registered()
    const b = await registered()
    for (const authorization of [`Bearer ${b.registration_access_token}`, `Bearer ${a.registration_access_token}x`, 'Bearer', 'Bearer a b', `Basic ${btoa('a:b')}`, a.registration_access_token]) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await send(method, `/register/${a.client_id}`, method === 'PUT' ? { ...MCP_CLIENT, client_id: a.client_id } : undefined, { Authorization: authorization })
        expect(response.headers.get('www-authenticate')).toStartWith('Bearer')
        await expectError(response, 401, 'invalid_token')
      }
    }
    expect((await send('GET', `/register/${a.client_id}`, undefined, bearer(a.registration_access_token))).status).toBe(200)
  })

  test('RFC 7592 §2.1: an unknown client with a valid-looking token → 401, not 404', async () => {
    const a = await registered()
    for (const id of ['unknown', 'x'.repeat(300), 'a%2Fb', '%00', 'https%3A%2F%2Fclient.example%2Fmeta.json']) {
      await expectError(await send('GET', `/register/${id}`, undefined, bearer(a.registration_access_token)), 401, 'invalid_token')
    }
  })

  test('RFC 7592 §2.2: PUT replaces the metadata and keeps client_id, the secret and the token', async () => {
    const created = await registered(CONFIDENTIAL)
    const update = { client_id: created.client_id, redirect_uris: ['https://app.example/new'], token_endpoint_auth_method: 'client_secret_basic', client_secret: created.client_secret }
    const response = await send('PUT', `/register/${created.client_id}`, update, bearer(created.registration_access_token))
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const body = (await response.json()) as Json
    expect(body).toEqual({
      client_id: created.client_id,
      client_id_issued_at: created.client_id_issued_at,
      client_secret_expires_at: 0,
      redirect_uris: ['https://app.example/new'],
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      registration_access_token: created.registration_access_token,
      registration_client_uri: created.registration_client_uri,
    })
    expect(body).not.toHaveProperty('client_name')
  })

  test('RFC 7592 §2.2: PUT without the matching client_id → 400 invalid_client_metadata', async () => {
    const created = await registered()
    for (const client_id of [undefined, null, 'other', 42]) {
      await expectError(await send('PUT', `/register/${created.client_id}`, { ...MCP_CLIENT, client_id }, bearer(created.registration_access_token)), 400, 'invalid_client_metadata')
    }
  })

  test('RFC 7592 §2.2: a client cannot choose its own secret → 400 invalid_client_metadata', async () => {
    const confidential = await registered(CONFIDENTIAL)
    const chosen = { ...CONFIDENTIAL, client_id: confidential.client_id, client_secret: 'my-own-secret' }
    await expectError(await send('PUT', `/register/${confidential.client_id}`, chosen, bearer(confidential.registration_access_token)), 400, 'invalid_client_metadata')
    const publicClient = await registered()
    const withSecret = { ...MCP_CLIENT, client_id: publicClient.client_id, client_secret: 'x' }
    await expectError(await send('PUT', `/register/${publicClient.client_id}`, withSecret, bearer(publicClient.registration_access_token)), 400, 'invalid_client_metadata')
  })

  test('RFC 7591 §3.2.2 on update: a bad redirect URI → 400 invalid_redirect_uri, and nothing changes', async () => {
    const created = await registered()
    const bad = { ...MCP_CLIENT, client_id: created.client_id, redirect_uris: ['javascript:alert(1)'] }
    await expectError(await send('PUT', `/register/${created.client_id}`, bad, bearer(created.registration_access_token)), 400, 'invalid_redirect_uri')
    const read = (await (await send('GET', `/register/${created.client_id}`, undefined, bearer(created.registration_access_token))).json()) as Json
    expect(read.redirect_uris).toEqual(MCP_CLIENT.redirect_uris)
  })

  test('a public client that becomes confidential is issued a secret in the PUT response', async () => {
    const created = await registered()
    const update = { ...MCP_CLIENT, client_id: created.client_id, token_endpoint_auth_method: 'client_secret_post' }
    const body = (await (await send('PUT', `/register/${created.client_id}`, update, bearer(created.registration_access_token))).json()) as Json
    expect(body.client_secret).toBeString()
    expect(body.client_secret_expires_at).toBe(0)
  })

  test('RFC 7592 §2.3: DELETE → 204; afterwards the client cannot be read (401) and the token is dead', async () => {
    const created = await registered()
    const token = bearer(created.registration_access_token)
    const response = await send('DELETE', `/register/${created.client_id}`, undefined, token)
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    await expectError(await send('GET', `/register/${created.client_id}`, undefined, token), 401, 'invalid_token')
    await expectError(await send('DELETE', `/register/${created.client_id}`, undefined, token), 401, 'invalid_token')
    await expectError(await send('PUT', `/register/${created.client_id}`, { ...MCP_CLIENT, client_id: created.client_id }, token), 401, 'invalid_token')
  })

  test('CORS: OPTIONS /register/{id} answers the preflight for GET, PUT and DELETE', async () => {
    const response = await api.app.request(`${ORIGIN}/register/anything`, { method: 'OPTIONS', headers: { Origin: 'https://page.example', 'Access-Control-Request-Method': 'PUT' } })
    expect(response.status).toBe(204)
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, PUT, DELETE, OPTIONS')
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('GET /oauth/clients (admin)', () => {
  test('lists clients without secrets, tokens or hashes', async () => {
    const confidential = await registered(CONFIDENTIAL)
    const response = await send('GET', '/oauth/clients', undefined, bearer(await api.issue(['admin'])))
    expect(response.status).toBe(200)
    const text = await response.text()
    const clients = JSON.parse(text) as Json[]
    expect(clients.map((c) => c.client_id)).toContain(confidential.client_id)
    expect(text).not.toContain(confidential.client_secret!)
    expect(text).not.toContain(confidential.registration_access_token)
    expect(text).not.toContain('hash')
    expect(text).not.toContain('registration_access_token')
    expect(text).not.toMatch(/[0-9a-f]{64}/)
  })

  test('requires the admin scope: none → 401, user → 403', async () => {
    expect((await send('GET', '/oauth/clients')).status).toBe(401)
    expect((await send('GET', '/oauth/clients', undefined, bearer(await api.issue(['user'])))).status).toBe(403)
    expect((await send('GET', '/oauth/clients', undefined, bearer(await api.issue(['mcp'])))).status).toBe(403)
  })
})

describe('storage', () => {
  test('OA-13: the plaintext secret and registration access token appear nowhere in the store', async () => {
    const created = await registered(CONFIDENTIAL)
    const everything: string[] = []
    for (const key of await clientStore.list('')) everything.push(key, (await clientStore.get(key))?.value ?? '')
    const dump = everything.join('\n')
    expect(dump).toContain(created.client_id)
    expect(dump).not.toContain(created.client_secret!)
    expect(dump).not.toContain(created.registration_access_token)
  })
})

describe('OpenAPI', () => {
  test('the registration routes are documented', async () => {
    const document = (await (await api.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> }
    expect(Object.keys(document.paths['/register'] ?? {}).sort()).toEqual(['options', 'post'])
    expect(Object.keys(document.paths['/register/{client_id}'] ?? {}).sort()).toEqual(['delete', 'get', 'options', 'put'])
    expect(document.paths['/oauth/clients']?.get).toBeDefined()
  })
})
