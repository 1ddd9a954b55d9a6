/**
 * Issue #13, CIMD and DNS rebinding: the metadata document's host name is resolved once, every address
 * it has is checked, and the fetch connects to the checked address, with the name in Host and in TLS
 * (SNI, and the name the certificate must carry). The resolver is injected: a test name answers one
 * address the first time and another the second, and we prove it is asked once and the connection goes
 * to the first answer. A real TLS server on loopback serves the name's certificate only to a client that
 * sends the name as SNI.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { createSelfSignedCertificate } from '../../src/certs/index.ts'
import { createLogger, createManualClock } from '../../src/lib/index.ts'
import { createCimdResolver } from '../../src/oauth/index.ts'

const NAME = 'cimd.test'
let server: Server<undefined>
let ca: string
let port: number
const seen: { host: string | null; path: string }[] = []
const clock = createManualClock(Date.UTC(2026, 10, 27, 12))
const documentFor = (clientId: string) => ({ client_id: clientId, client_name: 'Pinned client', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none' })

beforeAll(async () => {
  const named = await createSelfSignedCertificate([NAME])
  const fallback = await createSelfSignedCertificate(['fallback.test'])
  ca = named.certPem + fallback.certPem
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    // Without SNI (or with another name) the client gets fallback.test's certificate.
    tls: [{ cert: fallback.certPem, key: fallback.keyPem }, { serverName: NAME, cert: named.certPem, key: named.keyPem }],
    fetch(request) {
      const host = request.headers.get('host')
      const path = new URL(request.url).pathname
      seen.push({ host, path })
      return Response.json(documentFor(`https://${host}${path}`), { headers: { 'cache-control': 'no-store' } })
    },
  })
  port = server.port!
})
afterAll(() => server.stop(true))

/** A name that answers `answers[n]` to its n-th lookup (the last one from then on), counting the lookups. */
function rebindingLookup(...answers: string[][]) {
  const calls: string[] = []
  return {
    calls,
    lookup: async (hostname: string) => {
      calls.push(hostname)
      return (answers[Math.min(calls.length - 1, answers.length - 1)] ?? []).map((address) => ({ address }))
    },
  }
}

/** The real fetch, trusting the test CA; it keeps whatever TLS options the resolver sets (serverName). */
const trustingFetch = ((input: string | URL | Request, init?: RequestInit & { tls?: Record<string, unknown> }) => fetch(input, { ...init, tls: { ...init?.tls, ca } } as RequestInit)) as typeof fetch

describe('the metadata fetch is pinned to the checked address (DNS rebinding)', () => {
  test('one lookup; the connection goes to its answer, not to the second answer; Host and SNI carry the name', async () => {
    // 127.0.0.2 has no listener on this port: had the fetch resolved again, it would have failed.
    const dns = rebindingLookup(['127.0.0.1'], ['127.0.0.2'])
    const resolver = createCimdResolver({ fetch: trustingFetch, lookup: dns.lookup, clock, allowPrivateAddresses: true, logger: createLogger('silent') })
    const clientId = `https://${NAME}:${port}/pinned/client.json`
    const before = seen.length
    const result = await resolver.resolve(clientId)
    expect(result).toMatchObject({ ok: true, client: { client_id: clientId, client_name: 'Pinned client' } })
    expect(dns.calls).toEqual([NAME])
    expect(seen.slice(before)).toEqual([{ host: `${NAME}:${port}`, path: '/pinned/client.json' }])
  })

  test('the certificate is checked against the name, not the address: a name the server has no certificate for fails', async () => {
    const dns = rebindingLookup(['127.0.0.1'])
    const resolver = createCimdResolver({ fetch: trustingFetch, lookup: dns.lookup, clock, allowPrivateAddresses: true, logger: createLogger('silent') })
    const before = seen.length
    const result = await resolver.resolve(`https://other.test:${port}/client.json`)
    expect(result).toMatchObject({ ok: false, reason: 'fetch_failed' })
    expect(seen.length).toBe(before)
  })

  test('SSRF: an answer with any private address is refused after one lookup, and nothing is fetched', async () => {
    for (const answer of [['10.0.0.1'], ['93.184.216.34', '169.254.169.254'], ['::ffff:127.0.0.1']]) {
      const dns = rebindingLookup(answer, ['93.184.216.34'])
      const fetched: string[] = []
      const recording = (async (input: string | URL | Request) => (fetched.push(String(input)), Response.error())) as typeof fetch
      const resolver = createCimdResolver({ fetch: recording, lookup: dns.lookup, clock, allowPrivateAddresses: false, logger: createLogger('silent') })
      expect(await resolver.resolve('https://rebind.example/client.json')).toMatchObject({ ok: false, reason: 'private_address' })
      expect([dns.calls, fetched]).toEqual([['rebind.example'], []])
    }
  })

  test('a public first answer, a private second: the fetch is given the checked public address, with the name for Host and TLS', async () => {
    const dns = rebindingLookup(['93.184.216.34'], ['127.0.0.1'])
    const given: { url: string; host: string | null; serverName: unknown }[] = []
    // Stands in for the network (nothing leaves this machine): it records where the connection would go.
    const recording = (async (input: string | URL | Request, init?: RequestInit & { tls?: { serverName?: string } }) => {
      given.push({ url: String(input), host: new Headers(init?.headers).get('host'), serverName: init?.tls?.serverName })
      return Response.json(documentFor('https://rebind.example/client.json'))
    }) as typeof fetch
    const resolver = createCimdResolver({ fetch: recording, lookup: dns.lookup, clock, allowPrivateAddresses: false, logger: createLogger('silent') })
    expect(await resolver.resolve('https://rebind.example/client.json')).toMatchObject({ ok: true })
    expect(dns.calls).toEqual(['rebind.example'])
    expect(given).toEqual([{ url: 'https://93.184.216.34/client.json', host: 'rebind.example', serverName: 'rebind.example' }])
  })

  test('an IPv6 answer is written in brackets; an IP-literal client_id needs no lookup and sends no SNI', async () => {
    const given: { url: string; serverName: unknown }[] = []
    const recording = (async (input: string | URL | Request, init?: RequestInit & { tls?: { serverName?: string } }) => {
      given.push({ url: String(input), serverName: init?.tls?.serverName })
      return Response.json({})
    }) as typeof fetch
    const v6 = rebindingLookup(['2606:4700::1111'])
    await createCimdResolver({ fetch: recording, lookup: v6.lookup, clock, allowPrivateAddresses: false, logger: createLogger('silent') }).resolve('https://v6.example:8443/c.json?x=1')
    const literal = rebindingLookup(['127.0.0.2'])
    await createCimdResolver({ fetch: recording, lookup: literal.lookup, clock, allowPrivateAddresses: false, logger: createLogger('silent') }).resolve('https://93.184.216.34/c.json')
    expect(given).toEqual([
      { url: 'https://[2606:4700::1111]:8443/c.json?x=1', serverName: 'v6.example' },
      { url: 'https://93.184.216.34/c.json', serverName: undefined },
    ])
    expect(literal.calls).toEqual([])
  })

  test('a name with no address, or one the resolver cannot resolve, is fetch_failed', async () => {
    const empty = rebindingLookup([])
    const failing = async () => Promise.reject(new Error('ENOTFOUND'))
    for (const lookup of [empty.lookup, failing]) {
      const resolver = createCimdResolver({ fetch: trustingFetch, lookup, clock, allowPrivateAddresses: false, logger: createLogger('silent') })
      expect(await resolver.resolve('https://nowhere.example/client.json')).toMatchObject({ ok: false, reason: 'fetch_failed' })
    }
  })
})
