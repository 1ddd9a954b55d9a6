/**
 * /certificates against a real server process: production orders go to Pebble (real HTTP-01 against the
 * server's own HTTP listener), staging orders to a CA that refuses them in its own words. Admin writes,
 * user reads, every bad input named, and the private key only ever in /private-key, admin only, audited.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { startCertificateServer, REFUSAL_DETAIL, type CertificateServer } from '../support/certificate-server.ts'
import { cleanupSpawned } from '../support/serve.ts'

let edge: CertificateServer
/** Every body any answer had: the private key may appear only in /private-key answers. */
const answers: { path: string; text: string }[] = []

beforeAll(async () => {
  edge = await startCertificateServer()
}, 60_000)
afterAll(async () => {
  await edge?.stop()
  await cleanupSpawned()
})

async function call(method: string, path: string, options: { body?: unknown; token?: string | null } = {}) {
  const response = await edge.api(method, path, options)
  const text = await response.text()
  answers.push({ path, text })
  return { status: response.status, headers: response.headers, text, json: <T = Record<string, unknown>>() => JSON.parse(text) as T }
}
type Answer = Awaited<ReturnType<typeof call>>
const errorOf = (answer: Answer) => answer.json<{ error: string; error_description: string }>()

/** Waits (long-poll, at most 30 s per call) until the order settles. */
async function settled(name: string): Promise<{ status: string; error: string | null; not_after: string | null }> {
  for (let round = 0; round < 4; round++) {
    const answer = await call('GET', `/certificates/${name}/status?wait=30`)
    const status = answer.json<{ status: string; error: string | null; not_after: string | null }>()
    if (status.status === 'issued' || status.status === 'failed') return status
  }
  throw new Error(`${name} did not settle`)
}

describe('authentication and scopes', () => {
  const reads = ['/certificates', '/certificates/x.test', '/certificates/x.test/status']
  const writes: [string, string, unknown?][] = [
    ['POST', '/certificates', { domains: ['w.test'] }],
    ['POST', '/certificates/multi-domain', { cert_name: 'w', domains: ['w.test'] }],
    ['POST', '/certificates/x.test/renew'],
    ['POST', '/certificates/x.test/convert-to-production'],
    ['DELETE', '/certificates/x.test'],
  ]

  test('RFC 6750 §3: no token → 401 with a bare Bearer challenge, on every endpoint', async () => {
    for (const [method, path, body] of [...reads.map((path) => ['GET', path] as const), ...writes, ['GET', '/certificates/x.test/private-key'] as const]) {
      const answer = await call(method, path, { body, token: null })
      expect(answer.status).toBe(401)
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="oauth-https-proxy"')
    }
  })

  test('RFC 6750 §3.1: a user token on a write, or on the private key → 403 insufficient_scope naming admin; nothing is ordered', async () => {
    for (const [method, path, body] of [...writes, ['GET', '/certificates/x.test/private-key'] as const]) {
      const answer = await call(method, path, { body, token: edge.userToken })
      expect(answer.status).toBe(403)
      expect(errorOf(answer)).toEqual({ error: 'insufficient_scope', error_description: 'this endpoint requires the admin scope' })
    }
    expect((await call('GET', '/certificates', { token: edge.userToken })).json<unknown[]>()).toEqual([])
  })
})

describe('bad input → 400 naming the field; nothing is stored', () => {
  test('bodies', async () => {
    const cases: [string, unknown, string][] = [
      ['/certificates', { domains: ['*.example.test'] }, 'field domains: *.example.test is a wildcard name: wildcards need the DNS-01 challenge'],
      ['/certificates', { domain: '*.example.test' }, 'field domains: *.example.test is a wildcard name'],
      ['/certificates/multi-domain', { cert_name: 'wild', domains: ['a.test', '*.a.test'] }, 'field domains: *.a.test is a wildcard name'],
      ['/certificates', { domains: Array.from({ length: 101 }, (_, i) => `n${i}.test`) }, 'field domains: at most 100 domain names per certificate'],
      ['/certificates', { domains: [] }, 'field domains: domains must list at least one DNS name'],
      ['/certificates', { domains: ['a b.test'] }, 'field domains: "a b.test" is not a DNS name'],
      ['/certificates', { domains: ['127.0.0.1'] }, 'field domains: 127.0.0.1 is an IP address'],
      ['/certificates', { domains: 'a.test' }, 'field domains: expected a list of domain names'],
      ['/certificates', {}, 'field domains: is required'],
      ['/certificates', { domain: 'a.test', domains: ['a.test'] }, 'field domain: give domain or domains, not both'],
      ['/certificates', { domains: ['a.test'], cert_name: 'bad/name' }, 'field cert_name: cert_name must be 1-253 letters'],
      ['/certificates', { domains: ['a.test'], cert_name: '-dash' }, 'field cert_name:'],
      ['/certificates/multi-domain', { domains: ['a.test'] }, 'field cert_name: is required'],
      ['/certificates', { domains: ['a.test'], email: 'not-an-email' }, 'field email: email must be an email address'],
      ['/certificates', { domains: ['a.test'], email: 7 }, 'field email: expected an email address'],
      ['/certificates', { domains: ['a.test'], acme_directory_url: 'http://127.0.0.1:1/dir' }, 'field acme_directory_url: acme_directory_url must be the https:// URL'],
      ['/certificates', { domains: ['a.test'], staging: 'yes' }, 'field staging: expected true or false'],
      ['/certificates', { domains: ['a.test'], surprise: 1 }, 'field surprise: unknown field'],
      ['/certificates/multi-domain', { cert_name: 'a', domains: ['a.test'], domain: 'a.test' }, 'field domain: unknown field'],
    ]
    for (const [path, body, prefix] of cases) {
      const answer = await call('POST', path, { body })
      expect({ body, status: answer.status, error: errorOf(answer).error }).toEqual({ body, status: 400, error: 'invalid_request' })
      expect(errorOf(answer).error_description).toStartWith(prefix)
    }
    expect((await call('GET', '/certificates')).json<unknown[]>()).toEqual([])
  })

  test('path and query parameters', async () => {
    for (const path of ['/certificates/bad%2Fname', '/certificates/a%20b', `/certificates/${'x'.repeat(254)}`]) {
      for (const [method, suffix] of [['GET', ''], ['GET', '/status'], ['GET', '/private-key'], ['POST', '/renew'], ['POST', '/convert-to-production'], ['DELETE', '']] as const) {
        const answer = await call(method, path + suffix)
        expect(answer.status).toBe(400)
        expect(errorOf(answer).error_description).toStartWith('path parameter cert_name: expected 1-253 letters')
      }
    }
    for (const wait of ['61', '-1', 'soon', '1.5']) {
      const answer = await call('GET', `/certificates/x.test/status?wait=${wait}`)
      expect(answer.status).toBe(400)
      expect(errorOf(answer).error_description).toStartWith('query parameter wait: expected 0 to 60 seconds')
    }
    expect(errorOf(await call('GET', '/certificates/x.test/status?since=1')).error_description).toBe('query parameter since: unknown query parameter')
  })

  test('unknown names → 404 on every endpoint', async () => {
    for (const [method, suffix] of [['GET', ''], ['GET', '/status'], ['GET', '/status?wait=1'], ['GET', '/private-key'], ['POST', '/renew'], ['POST', '/convert-to-production'], ['DELETE', '']] as const) {
      const answer = await call(method, `/certificates/missing.test${suffix}`)
      expect(answer.status).toBe(404)
      expect(errorOf(answer)).toEqual({ error: 'not_found', error_description: 'no certificate named missing.test' })
    }
  })
})

describe('an order through Pebble', () => {
  let ordered: Record<string, unknown>

  test('POST {domains} → 202 pending with Location; the name defaults to the first domain, lower-cased', async () => {
    const answer = await call('POST', '/certificates', { body: { domains: ['Shop.Test', 'www.shop.test', 'shop.test'] } })
    expect(answer.status).toBe(202)
    expect(answer.headers.get('location')).toBe('/certificates/shop.test')
    ordered = answer.json()
    expect(ordered).toMatchObject({ cert_name: 'shop.test', domains: ['shop.test', 'www.shop.test'], status: 'pending', directory_url: edge.pebble.directoryUrl, staging: false, email: 'certs@example.com', serial: null, not_after: null, created_by: 'cert-admin' })
  })

  test('/status?wait= holds the answer until the order is issued', async () => {
    const status = await settled('shop.test')
    expect(status.status).toBe('issued')
    expect(status.error).toBeNull()
    expect(Date.parse(status.not_after!)).toBeGreaterThan(Date.now())
  })

  test('a second order of the same name → 409, the original\'s rule; the first is unchanged', async () => {
    const before = (await call('GET', '/certificates/shop.test')).json()
    for (const [path, body] of [['/certificates', { domains: ['other.test'], cert_name: 'shop.test' }], ['/certificates', { domain: 'shop.test' }], ['/certificates/multi-domain', { cert_name: 'shop.test', domains: ['shop.test'] }]] as const) {
      const answer = await call('POST', path, { body })
      expect(answer.status).toBe(409)
      expect(errorOf(answer)).toEqual({ error: 'conflict', error_description: 'a certificate named shop.test exists; renew it, or delete it first' })
    }
    expect((await call('GET', '/certificates/shop.test')).json()).toEqual(before)
  })

  test('GET one: the view, the chain (leaf first) and used_by; GET the list: views with used_by, no PEM', async () => {
    await edge.api('POST', '/proxy/targets', { body: { proxy_hostname: 'www.shop.test', target_url: 'http://127.0.0.1:9', cert_name: 'shop.test' } })
    await edge.api('POST', '/proxy/targets', { body: { proxy_hostname: 'shop.test', target_url: 'http://127.0.0.1:9' } })
    await edge.api('POST', '/proxy/targets', { body: { proxy_hostname: 'elsewhere.test', target_url: 'http://127.0.0.1:9', cert_name: 'other', enable_https: false } })
    const one = await call('GET', '/certificates/shop.test', { token: edge.userToken })
    expect(one.status).toBe(200)
    const detail = one.json<Record<string, unknown> & { certificate_pem: string }>()
    expect(detail).toMatchObject({ cert_name: 'shop.test', status: 'issued', used_by: ['shop.test', 'www.shop.test'] })
    expect(detail.certificate_pem.match(/-----BEGIN CERTIFICATE-----/g)!.length).toBeGreaterThanOrEqual(2)
    const list = (await call('GET', '/certificates', { token: edge.userToken })).json<Record<string, unknown>[]>()
    const { certificate_pem: _pem, ...withoutPem } = detail
    expect(list).toEqual([withoutPem])
    expect(JSON.stringify(list)).not.toContain('BEGIN')
  })

  test('the private key: admin only, PKCS #8 for the leaf, no-store, and each read logged with who read it (never the key)', async () => {
    const answer = await call('GET', '/certificates/shop.test/private-key')
    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    const { cert_name, private_key_pem } = answer.json<{ cert_name: string; private_key_pem: string }>()
    expect(cert_name).toBe('shop.test')
    expect(private_key_pem).toStartWith('-----BEGIN PRIVATE KEY-----')
    const chain = (await call('GET', '/certificates/shop.test')).json<{ certificate_pem: string }>().certificate_pem
    expect(new X509Certificate(chain).checkPrivateKey(createPrivateKey(private_key_pem))).toBe(true)
    const reads = edge.logs().filter((line) => line.msg === 'private key read')
    expect(reads).toEqual([expect.objectContaining({ level: 'warn', cert_name: 'shop.test', by: 'cert-admin' })])
    expect(edge.server.stderrText()).not.toContain('PRIVATE KEY')
  })

  test('renew → 202 pending; the old certificate stays readable until the new one is issued', async () => {
    const before = (await call('GET', '/certificates/shop.test')).json()
    // The original's ?force=true is accepted: a renew always orders again.
    const answer = await call('POST', '/certificates/shop.test/renew?force=true')
    expect(answer.status).toBe(202)
    expect(answer.json()).toMatchObject({ cert_name: 'shop.test', status: 'pending', serial: before.serial })
    expect(await settled('shop.test')).toMatchObject({ status: 'issued' })
    expect((await call('GET', '/certificates/shop.test')).json().serial).not.toBe(before.serial)
  })
})

describe('an order the CA refuses (staging)', () => {
  test('the original\'s {domain} body with staging → 202; /status?wait= answers as soon as it fails, with the CA\'s words', async () => {
    const release = edge.refusingCa.hold()
    const created = await call('POST', '/certificates', { body: { domain: 'stage.test', staging: true, email: 'ops@example.com' } })
    expect(created.status).toBe(202)
    expect(created.json()).toMatchObject({ cert_name: 'stage.test', domains: ['stage.test'], status: 'pending', staging: true, email: 'ops@example.com' })
    let answeredAtMs = 0
    const waiting = call('GET', '/certificates/stage.test/status?wait=20').then((answer) => ((answeredAtMs = Date.now()), answer))
    // The CA holds its answer: the long poll must still be open after a good while (measured, not a fixed wait for state).
    await Bun.sleep(1_000)
    expect(answeredAtMs).toBe(0)
    expect((await call('GET', '/certificates/stage.test/status')).json()).toMatchObject({ status: 'pending' })
    const releasedAtMs = Date.now()
    release()
    const answer = await waiting
    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.json()).toEqual({ status: 'failed', error: expect.stringContaining(REFUSAL_DETAIL), not_after: null })
    // Polled every 250 ms: it answers within a few polls of the change, far inside the 20 s asked for.
    expect(answeredAtMs - releasedAtMs).toBeLessThan(5_000)
  })

  test('a long poll outlives the API server\'s idle timeout: held 12 s (Bun\'s default is 10 s), it still gets its answer', async () => {
    const release = edge.refusingCa.hold()
    const created = await call('POST', '/certificates', { body: { domain: 'slow.test', staging: true, email: 'ops@example.com' } })
    expect(created.status).toBe(202)
    const startedAtMs = Date.now()
    const waiting = call('GET', '/certificates/slow.test/status?wait=30')
    await Bun.sleep(12_000)
    release()
    const answer = await waiting
    expect(answer.status).toBe(200)
    expect(Date.now() - startedAtMs).toBeGreaterThan(12_000)
    expect(answer.json()).toMatchObject({ status: 'failed' })
    expect((await call('DELETE', '/certificates/slow.test')).status).toBe(204)
  }, 40_000)

  test('wait=0 (and the original\'s wait=false) answers at once; the key of an unissued certificate → 409', async () => {
    expect((await call('GET', '/certificates/stage.test/status?wait=false')).json()).toMatchObject({ status: 'failed' })
    const key = await call('GET', '/certificates/stage.test/private-key')
    expect(key.status).toBe(409)
    expect(errorOf(key)).toEqual({ error: 'conflict', error_description: 'certificate stage.test has no private key yet (status failed)' })
    expect((await call('GET', '/certificates/stage.test')).json().certificate_pem).toBeNull()
  })

  test('convert-to-production re-orders from the production directory, which issues it', async () => {
    const answer = await call('POST', '/certificates/stage.test/convert-to-production')
    expect(answer.status).toBe(202)
    expect(answer.json()).toMatchObject({ status: 'pending', staging: false, directory_url: edge.pebble.directoryUrl })
    expect(await settled('stage.test')).toMatchObject({ status: 'issued', error: null })
  })
})

describe('multi-domain and delete', () => {
  test('POST /certificates/multi-domain (the original\'s spelling) orders under the given name', async () => {
    const answer = await call('POST', '/certificates/multi-domain', { body: { cert_name: 'pair', domains: ['one.pair.test', 'two.pair.test'] } })
    expect(answer.status).toBe(202)
    expect(answer.headers.get('location')).toBe('/certificates/pair')
    expect(answer.json()).toMatchObject({ cert_name: 'pair', domains: ['one.pair.test', 'two.pair.test'], status: 'pending' })
    expect(await settled('pair')).toMatchObject({ status: 'issued' })
  })

  test('DELETE (the original\'s ?force=true accepted) → 204; it is gone from every endpoint, the list at /certificates/ too; proxies that named it keep their cert_name', async () => {
    await edge.api('POST', '/proxy/targets', { body: { proxy_hostname: 'one.pair.test', target_url: 'http://127.0.0.1:9', cert_name: 'pair', enable_https: false } })
    const answer = await call('DELETE', '/certificates/pair?force=true')
    expect(answer.status).toBe(204)
    expect((await call('GET', '/certificates/pair')).status).toBe(404)
    expect((await call('GET', '/certificates/pair/status?wait=1')).status).toBe(404)
    expect((await call('GET', '/certificates/')).json<{ cert_name: string }[]>().map((certificate) => certificate.cert_name)).toEqual(['shop.test', 'stage.test'])
    expect(await (await edge.api('GET', '/proxy/targets/one.pair.test')).json()).toMatchObject({ cert_name: 'pair' })
  })
})

test('the private key appeared in no answer but /private-key', () => {
  const leaks = answers.filter((answer) => /PRIVATE KEY/.test(answer.text) && !answer.path.endsWith('/private-key'))
  expect(leaks.map((answer) => answer.path)).toEqual([])
  expect(answers.some((answer) => answer.path.endsWith('/private-key') && answer.text.includes('PRIVATE KEY'))).toBe(true)
})

test('the OpenAPI document lists every certificate endpoint with its scope', async () => {
  const document = (await (await fetch(`${edge.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { security: unknown[] }>> }
  expect(Object.keys(document.paths).filter((path) => path.startsWith('/certificates')).sort()).toEqual([
    '/certificates',
    '/certificates/multi-domain',
    '/certificates/{cert_name}',
    '/certificates/{cert_name}/convert-to-production',
    '/certificates/{cert_name}/private-key',
    '/certificates/{cert_name}/renew',
    '/certificates/{cert_name}/status',
  ])
  expect(document.paths['/certificates/{cert_name}/private-key']!.get!.security).toEqual([{ bearerAuth: ['admin'] }])
  expect(document.paths['/certificates']!.get!.security).toEqual([{ bearerAuth: ['user'] }])
})
