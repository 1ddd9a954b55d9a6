import { describe, expect, test } from 'bun:test'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { connect as tlsConnect } from 'node:tls'
import { X509Certificate as PeculiarCertificate, SubjectAlternativeNameExtension } from '@peculiar/x509'
import { createSelfSignedCertificate, type PemPair } from '../../src/certs/self-signed.ts'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/** Serves `pair` over TLS on 127.0.0.1:0 for the duration of `use`. */
async function withTlsServer<T>(pair: PemPair, use: (port: number) => Promise<T>): Promise<T> {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, tls: { cert: pair.certPem, key: pair.keyPem }, fetch: () => new Response('ok') })
  try {
    return await use(server.port!)
  } finally {
    await server.stop(true)
  }
}

interface TlsOutcome {
  readonly authorized: boolean
  readonly error: string | null
}

/** Connects with node:tls trusting only `ca`; reports chain + hostname verification. */
function connectTrusting(port: number, ca: string, servername: string): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: [ca], servername }, () => {
      resolve({ authorized: socket.authorized, error: null })
      socket.destroy()
    })
    socket.on('error', (error) => resolve({ authorized: false, error: error.message }))
  })
}

describe('createSelfSignedCertificate', () => {
  test('fields: CN, SAN, validity, serial, extensions, and a matching key', async () => {
    const nowMs = Date.UTC(2026, 4, 1, 12, 30, 15, 123)
    const pair = await createSelfSignedCertificate(['A.Test', 'www.a.test', '*.example.com'], { nowMs, validDays: 30 })
    expect(pair.certPem).toStartWith('-----BEGIN CERTIFICATE-----\n')
    expect(pair.keyPem).toStartWith('-----BEGIN PRIVATE KEY-----\n')
    const cert = new X509Certificate(pair.certPem)
    expect(cert.subject).toBe('CN=a.test')
    expect(cert.issuer).toBe('CN=a.test')
    expect(cert.subjectAltName).toBe('DNS:a.test, DNS:www.a.test, DNS:*.example.com')
    expect(Date.parse(cert.validFrom)).toBe(Date.UTC(2026, 4, 1, 11, 30, 15))
    expect(Date.parse(cert.validTo)).toBe(Date.UTC(2026, 4, 31, 12, 30, 15))
    expect(pair.notAfterMs).toBe(Date.parse(cert.validTo))
    expect(cert.ca).toBe(false)
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']) // node reports the extended key usage here: serverAuth
    expect(cert.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/) // 16 octets, positive
    expect(cert.publicKey.asymmetricKeyType).toBe('ec')
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(cert.verify(cert.publicKey)).toBe(true) // self-signature checks out with its own key
    expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true)
    const text = cert.toLegacyObject()
    expect(text.ext_key_usage).toEqual(['1.3.6.1.5.5.7.3.1'])
  })

  test('defaults: 90 days from now, back-dated one hour', async () => {
    const before = Date.now()
    const pair = await createSelfSignedCertificate(['d.test'])
    const cert = new X509Certificate(pair.certPem)
    expect(Date.parse(cert.validFrom)).toBeGreaterThanOrEqual(Math.floor((before - HOUR_MS) / 1000) * 1000)
    expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(Date.now() - HOUR_MS)
    expect(pair.notAfterMs - Date.parse(cert.validFrom)).toBeGreaterThanOrEqual(90 * DAY_MS + HOUR_MS - 1000)
    expect(pair.notAfterMs - Date.parse(cert.validFrom)).toBeLessThanOrEqual(90 * DAY_MS + HOUR_MS + 1000)
  })

  test('checkHost: exact names, and a wildcard covers one label only (RFC 6125 §6.4.3)', async () => {
    const pair = await createSelfSignedCertificate(['a.test', '*.example.com'])
    const cert = new X509Certificate(pair.certPem)
    expect(cert.checkHost('a.test')).toBe('a.test')
    expect(cert.checkHost('x.example.com')).toBe('*.example.com') // the matching certificate name
    expect(cert.checkHost('example.com')).toBeUndefined()
    expect(cert.checkHost('a.b.example.com')).toBeUndefined()
    expect(cert.checkHost('b.test')).toBeUndefined()
  })

  test('serials and keys are fresh on every call', async () => {
    const [one, two] = await Promise.all([createSelfSignedCertificate(['s.test']), createSelfSignedCertificate(['s.test'])])
    expect(new X509Certificate(one.certPem).serialNumber).not.toBe(new X509Certificate(two.certPem).serialNumber)
    expect(one.keyPem).not.toBe(two.keyPem)
  })

  test('IP literals go into iPAddress; a first name over 64 chars leaves CN out and marks the SAN critical', async () => {
    const ip = new X509Certificate((await createSelfSignedCertificate(['ip.test', '127.0.0.1', '::1'])).certPem)
    expect(ip.subjectAltName).toBe('DNS:ip.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
    expect(ip.checkIP('127.0.0.1')).toBe('127.0.0.1')
    const long = `${'l'.repeat(60)}.example.com`
    const noCn = new X509Certificate((await createSelfSignedCertificate([long])).certPem)
    expect(noCn.subject ?? '').toBe('')
    const san = new PeculiarCertificate(noCn.raw).getExtension(SubjectAlternativeNameExtension)
    expect(san?.critical).toBe(true)
    expect(noCn.checkHost(long)).toBe(long)
  })

  test('bad input is refused with a TypeError', async () => {
    for (const hostnames of [[], [''], ['bad host.test'], ['a..test'], ['-a.test'], ['a.*.test'], ['*'], ['x'.repeat(64) + '.test'], ['a.test', 'under_score.test']]) {
      await expect(createSelfSignedCertificate(hostnames)).rejects.toBeInstanceOf(TypeError)
    }
    for (const validDays of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 100_000]) {
      await expect(createSelfSignedCertificate(['a.test'], { validDays })).rejects.toBeInstanceOf(TypeError)
    }
  })
})

describe('served by Bun.serve', () => {
  test('node:tls trusting the cert authorizes a.test and refuses other names', async () => {
    const pair = await createSelfSignedCertificate(['a.test', '*.wild.test'])
    await withTlsServer(pair, async (port) => {
      expect(await connectTrusting(port, pair.certPem, 'a.test')).toEqual({ authorized: true, error: null })
      expect(await connectTrusting(port, pair.certPem, 'x.wild.test')).toEqual({ authorized: true, error: null })
      const mismatch = await connectTrusting(port, pair.certPem, 'wild.test')
      expect(mismatch.error).toContain('wild.test')
      const other = await createSelfSignedCertificate(['a.test'])
      const untrusted = await connectTrusting(port, other.certPem, 'a.test')
      expect(untrusted.authorized).toBe(false)
      expect(untrusted.error).not.toBeNull()
    })
  })

  test('fetch over HTTPS to an IP SAN with tls.ca', async () => {
    const pair = await createSelfSignedCertificate(['localhost', '127.0.0.1'])
    await withTlsServer(pair, async (port) => {
      const response = await fetch(`https://127.0.0.1:${port}/`, { tls: { ca: pair.certPem } })
      expect(await response.text()).toBe('ok')
      await expect(fetch(`https://127.0.0.1:${port}/`)).rejects.toThrow()
    })
  })

  test.skipIf(Bun.which('node') === null)('Node.js (OpenSSL) in a child process verifies it', async () => {
    const pair = await createSelfSignedCertificate(['n.test'])
    await withTlsServer(pair, async (port) => {
      const script = `const s=require('tls').connect({host:'127.0.0.1',port:${port},servername:'n.test',ca:[process.env.CA]},()=>{console.log(s.authorized);s.destroy()});s.on('error',e=>{console.log('error',e.code);})`
      const child = Bun.spawn(['node', '-e', script], { env: { ...Bun.env, CA: pair.certPem }, stdout: 'pipe', stderr: 'inherit' })
      expect((await new Response(child.stdout).text()).trim()).toBe('true')
      expect(await child.exited).toBe(0)
    })
  })
})
