/** Client ID metadata documents (issue #4 "CIMD"): fetched over https from a loopback server with a self-signed certificate. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { createSelfSignedCertificate } from '../../src/certs/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { cacheLifetimeMs, createCimdResolver, createClientFinder, isBlockedAddress, type CimdResolver } from '../../src/oauth/index.ts'
import { createEmbeddedStore } from '../../src/store/index.ts'
import { createClientRegistry, parseClientMetadata } from '../../src/oauth/index.ts'

let server: Server<undefined>
let base: string
let ca: string
const hits = new Map<string, number>()
const clock = createManualClock(Date.UTC(2026, 10, 27, 12))

const documentFor = (url: string, extra: Record<string, unknown> = {}) =>
  ({ client_id: url, client_name: 'Example MCP client', redirect_uris: ['http://127.0.0.1:33418/callback'], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', ...extra })

beforeAll(async () => {
  const pair = await createSelfSignedCertificate(['127.0.0.1'])
  ca = pair.certPem
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    tls: { cert: pair.certPem, key: pair.keyPem },
    async fetch(request) {
      const url = new URL(request.url)
      const self = `${base}${url.pathname}`
      hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1)
      switch (url.pathname) {
        case '/good/client.json': return Response.json(documentFor(self), { headers: { 'cache-control': 'public, max-age=60' } })
        case '/nostore/client.json': return Response.json(documentFor(self), { headers: { 'cache-control': 'no-store' } })
        case '/plain/client.json': return Response.json(documentFor(self))
        case '/mismatch/client.json': return Response.json(documentFor(`${base}/other/client.json`))
        case '/big/client.json': return Response.json(documentFor(self, { client_uri: undefined, padding: 'x'.repeat(6000) }))
        case '/redirect/client.json': return new Response(null, { status: 302, headers: { location: '/good/client.json' } })
        case '/missing/client.json': return new Response('no', { status: 404 })
        case '/secret/client.json': return Response.json(documentFor(self, { token_endpoint_auth_method: 'client_secret_basic' }))
        case '/javascript/client.json': return Response.json(documentFor(self, { redirect_uris: ['javascript:alert(1)'] }))
        case '/slow/client.json': await Bun.sleep(1500); return Response.json(documentFor(self))
        default: return new Response('not found', { status: 404 })
      }
    },
  })
  base = `https://127.0.0.1:${server.port}`
})
afterAll(() => server.stop(true))

/** Trusts the test certificate; everything else is the resolver's real fetch path. */
const trustingFetch = ((input: string | URL | Request, init?: RequestInit) => fetch(input, { ...init, tls: { ca } } as RequestInit)) as typeof fetch

function resolver(options: { allowPrivateAddresses?: boolean; timeoutMs?: number } = {}): CimdResolver {
  return createCimdResolver({ fetch: trustingFetch, clock, allowPrivateAddresses: options.allowPrivateAddresses ?? true, logger: createLogger('silent'), timeoutMs: options.timeoutMs ?? 5000 })
}

describe('createCimdResolver', () => {
  test('a valid document becomes a public client whose client_id is the URL', async () => {
    const url = `${base}/plain/client.json`
    expect(await resolver().resolve(url)).toEqual({
      ok: true,
      client: expect.objectContaining({ client_id: url, client_name: 'Example MCP client', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:33418/callback'], response_types: ['code'] }),
    })
  })

  test('SSRF: loopback and private addresses are refused unless allowPrivateAddresses (a test setting)', async () => {
    const before = hits.get('/plain/client.json') ?? 0
    expect(await resolver({ allowPrivateAddresses: false }).resolve(`${base}/plain/client.json`)).toMatchObject({ ok: false, reason: 'private_address' })
    expect(hits.get('/plain/client.json') ?? 0).toBe(before)
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1']) {
      expect([address, isBlockedAddress(address)]).toEqual([address, true])
    }
    for (const address of ['93.184.216.34', '140.82.112.3', '2606:4700::1111']) expect([address, isBlockedAddress(address)]).toEqual([address, false])
  })

  test('the document\'s client_id must equal the URL', async () => {
    expect(await resolver().resolve(`${base}/mismatch/client.json`)).toMatchObject({ ok: false, reason: 'client_id_mismatch' })
  })

  test('at most 5 KiB', async () => {
    expect(await resolver().resolve(`${base}/big/client.json`)).toMatchObject({ ok: false, reason: 'too_large' })
  })

  test('redirects are not followed; a non-200 is refused', async () => {
    const before = hits.get('/good/client.json') ?? 0
    expect(await resolver().resolve(`${base}/redirect/client.json`)).toMatchObject({ ok: false, reason: 'redirect' })
    expect(hits.get('/good/client.json') ?? 0).toBe(before)
    expect(await resolver().resolve(`${base}/missing/client.json`)).toMatchObject({ ok: false, reason: 'bad_status' })
  })

  test('registration rules apply: only public clients, redirect URIs as for DCR', async () => {
    expect(await resolver().resolve(`${base}/secret/client.json`)).toMatchObject({ ok: false, reason: 'invalid_document' })
    expect(await resolver().resolve(`${base}/javascript/client.json`)).toMatchObject({ ok: false, reason: 'invalid_document', detail: expect.stringContaining('invalid_redirect_uri') })
  })

  test('the URL itself: https, a path, no fragment, credentials or dot segments', async () => {
    const r = resolver()
    for (const id of [`http://127.0.0.1:${server.port}/plain/client.json`, base, `${base}/`, `${base}/plain/client.json#x`, `https://u:p@127.0.0.1:${server.port}/plain/client.json`,
      `${base}/a/../plain/client.json`, `${base}/./plain/client.json`, 'not a url', 'client-123']) {
      expect([id, await r.resolve(id)]).toEqual([id, expect.objectContaining({ ok: false, reason: 'not_a_url' })])
    }
  })

  test('a slow server times out (the deadline is configurable)', async () => {
    const started = Date.now()
    expect(await resolver({ timeoutMs: 200 }).resolve(`${base}/slow/client.json`)).toMatchObject({ ok: false, reason: 'timeout' })
    expect(Date.now() - started).toBeLessThan(1200)
  })

  test('cached per Cache-Control max-age; no-store is fetched every time', async () => {
    const r = resolver()
    const good = `${base}/good/client.json`
    const before = hits.get('/good/client.json') ?? 0
    expect((await r.resolve(good)).ok).toBe(true)
    clock.advanceMs(59_000)
    expect((await r.resolve(good)).ok).toBe(true)
    expect(hits.get('/good/client.json')).toBe(before + 1)
    clock.advanceMs(2000)
    expect((await r.resolve(good)).ok).toBe(true)
    expect(hits.get('/good/client.json')).toBe(before + 2)

    const noStore = `${base}/nostore/client.json`
    await r.resolve(noStore)
    await r.resolve(noStore)
    expect(hits.get('/nostore/client.json')).toBe(2)
  })

  test('cacheLifetimeMs: default 5 min, capped at 24 h, no-store / no-cache → 0', () => {
    expect(cacheLifetimeMs(null)).toBe(300_000)
    expect(cacheLifetimeMs('public, max-age=120')).toBe(120_000)
    expect(cacheLifetimeMs('max-age=9999999')).toBe(86_400_000)
    expect(cacheLifetimeMs('no-store')).toBe(0)
    expect(cacheLifetimeMs('max-age=60, no-cache')).toBe(0)
  })
})

describe('createClientFinder', () => {
  test('https URLs go to CIMD, anything else to the registry; CIMD clients authenticate with client_id alone', async () => {
    const store = createEmbeddedStore({ dataDir: ':memory:', clock })
    try {
      const registry = createClientRegistry(store, clock)
      const parsed = parseClientMetadata({ redirect_uris: ['http://127.0.0.1:1/cb'], token_endpoint_auth_method: 'none' })
      if (!parsed.ok) throw new Error(parsed.description)
      const registered = (await registry.register(parsed.metadata)).client
      const noProxies = { isRedirectProxy: async () => false, proxyServing: async () => null }
      const finder = createClientFinder(registry, resolver(), noProxies)
      const url = `${base}/plain/client.json`
      expect((await finder.findClient(registered.client_id))?.client_id).toBe(registered.client_id)
      expect((await finder.findClient(url))?.client_id).toBe(url)
      expect(await finder.findClient(`${base}/mismatch/client.json`)).toBeNull()
      expect(await finder.findClient('unknown')).toBeNull()
      expect(await finder.authenticate(url, undefined, 'none')).toMatchObject({ ok: true, client: { client_id: url } })
      expect(await finder.authenticate(url, 'secret', 'client_secret_post')).toMatchObject({ ok: false, reason: 'unexpected_secret' })
      expect(await finder.authenticate(`${base}/missing/client.json`, undefined, 'none')).toMatchObject({ ok: false, reason: 'unknown_client' })
      expect(await finder.authenticate(registered.client_id, undefined, 'none')).toMatchObject({ ok: true })
    } finally {
      store.close()
    }
  })
})
