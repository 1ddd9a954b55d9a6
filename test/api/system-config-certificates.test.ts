/**
 * Certificates in GET/POST /system/config, between two server processes that each have their own Pebble
 * (production) and refusing CA (staging), all on loopback: the export carries definitions only (no key, no
 * chain, with or without include_secrets); an import orders them anew from the importing server's own
 * directories; a second import changes nothing; a bad definition is named by its path and changes nothing;
 * dry_run lists; only prune deletes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import YAML from 'yaml'
import { startCertificateServer, type CertificateServer } from '../support/certificate-server.ts'
import { cleanupSpawned } from '../support/serve.ts'

let source: CertificateServer
let target: CertificateServer
let exported: Record<string, any>

type View = { cert_name: string; domains: string[]; status: string; directory_url: string; staging: boolean; email: string | null; attempts: number; updated_at: string }

async function json<T = Record<string, any>>(response: Promise<Response>, status = 200): Promise<T> {
  const answered = await response
  const text = await answered.text()
  if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status} ${text}`)
  return JSON.parse(text) as T
}

const exportOf = (edge: CertificateServer, query = '') => json(edge.api('GET', `/system/config${query}`))
const importInto = (edge: CertificateServer, document: unknown, query = '') => edge.api('POST', `/system/config${query}`, { body: document })
const certificatesOf = (edge: CertificateServer) => json<View[]>(edge.api('GET', '/certificates'))
const withoutTime = ({ exported_at: _time, ...rest }: Record<string, any>) => rest

/** Long-polls until the order is issued or failed (8 s a call: the API's connections do not outlive ~20 s of silence). */
async function settled(edge: CertificateServer, name: string): Promise<string> {
  for (let round = 0; round < 6; round++) {
    const { status } = await json<{ status: string }>(edge.api('GET', `/certificates/${name}/status?wait=8`))
    if (status === 'issued' || status === 'failed') return status
  }
  throw new Error(`${name} did not settle`)
}

beforeAll(async () => {
  ;[source, target] = await Promise.all([startCertificateServer(), startCertificateServer()])
  // Production (the server's Pebble) and staging (its refusing CA).
  await json(source.api('POST', '/certificates/multi-domain', { body: { cert_name: 'portable', domains: ['Portable.test', 'www.portable.test'] } }), 202)
  await json(source.api('POST', '/certificates', { body: { domains: ['trial.test'], staging: true } }), 202)
  expect(await settled(source, 'portable')).toBe('issued')
  exported = await exportOf(source)
}, 120_000)
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()])
  await cleanupSpawned()
}, 30_000)

const copy = () => structuredClone(exported)

describe('export', () => {
  test("definitions by name, the server's own directories as staging true/false with acme_directory_url null", () => {
    expect(exported.certificates).toEqual([
      { cert_name: 'portable', domains: ['portable.test', 'www.portable.test'], email: 'certs@example.com', acme_directory_url: null, staging: false },
      { cert_name: 'trial.test', domains: ['trial.test'], email: 'certs@example.com', acme_directory_url: null, staging: true },
    ])
  })

  test('any other directory by its URL; such a document imported where it came from changes nothing', async () => {
    const body = { cert_name: 'elsewhere', domains: ['elsewhere.test'], email: 'ops@example.com', acme_directory_url: source.pebble.altDirectoryUrl }
    await json(source.api('POST', '/certificates/multi-domain', { body }), 202)
    const document = await exportOf(source)
    expect(document.certificates[0]).toEqual({ ...body, staging: false })
    expect(document.certificates.slice(1)).toEqual(exported.certificates)
    const again = await json(importInto(source, document))
    expect(again).toMatchObject({ changed: false, plan: { certificates: { create: [], update: [], delete: [], unchanged: 3 } } })
  })

  test('never a key or a chain: not with include_secrets, not in YAML, though the server holds both', async () => {
    const key = await json<{ private_key_pem: string }>(source.api('GET', '/certificates/portable/private-key'))
    expect(key.private_key_pem).toContain('-----BEGIN PRIVATE KEY-----')
    for (const query of ['', '?include_secrets=true', '?format=yaml', '?format=yaml&include_secrets=true']) {
      const text = await (await source.api('GET', `/system/config${query}`)).text()
      expect(text).toContain('portable')
      expect(text).not.toContain('BEGIN')
      expect(text).not.toContain('PRIVATE')
      expect(text).not.toContain(key.private_key_pem.split('\n')[1]!)
    }
    expect(YAML.parse(await (await source.api('GET', '/system/config?format=yaml')).text()).certificates).toEqual((await exportOf(source)).certificates)
  })
})

describe('import into a fresh server', () => {
  test('dry_run lists the certificates it would order and orders nothing', async () => {
    const result = await json(importInto(target, exported, '?dry_run=true'))
    expect(result).toMatchObject({ dry_run: true, changed: true, warnings: [] })
    expect(result.plan.certificates).toEqual({ create: ['portable', 'trial.test'], update: [], delete: [], unchanged: 0 })
    expect(await certificatesOf(target)).toEqual([])
  })

  test.each([
    ['a wildcard domain', (d: any) => (d.certificates[0].domains[1] = '*.portable.test'), 'certificates[0].domains[1]: *.portable.test is a wildcard name: wildcards need the DNS-01 challenge'],
    ['an IP address', (d: any) => (d.certificates[1].domains = ['trial.test', '127.0.0.1']), 'certificates[1].domains[1]: 127.0.0.1 is an IP address'],
    ['no domains', (d: any) => (d.certificates[0].domains = []), 'certificates[0].domains: domains must list at least one DNS name'],
    ['101 domains', (d: any) => (d.certificates[0].domains = Array.from({ length: 101 }, (_, i) => `n${i}.test`)), 'certificates[0].domains: at most 100 domain names per certificate'],
    ['a bad email', (d: any) => (d.certificates[1].email = 'not-an-address'), 'certificates[1].email: email must be an email address'],
    ['a wildcard beside a bad email elsewhere: both named', (d: any) => ((d.certificates[0].domains[0] = '*.portable.test'), (d.certificates[1].email = 'x@')), ['certificates[0].domains[0]: *.portable.test is a wildcard name', 'certificates[1].email: email must be an email address']],
    ['a directory that is not https', (d: any) => (d.certificates[0].acme_directory_url = 'http://ca.example/dir'), 'certificates[0].acme_directory_url: acme_directory_url must be the https:// URL of an ACME directory'],
    ['a bad name', (d: any) => (d.certificates[0].cert_name = '../etc'), 'certificates[0].cert_name: cert_name must be 1-253 letters'],
    ['a repeated name', (d: any) => (d.certificates[1].cert_name = 'portable'), 'certificates[1].cert_name: portable is also certificates[0]'],
    ['a key smuggled in', (d: any) => (d.certificates[1].key_pem = '-----BEGIN PRIVATE KEY-----'), 'certificates[1].key_pem: unknown field'],
    ['not a list', (d: any) => (d.certificates = { portable: {} }), 'certificates: expected a list'],
  ] as [string, (d: any) => unknown, string | string[]][])('%s: 400 naming the path; nothing is ordered', async (_name, spoil, expected) => {
    const document = copy()
    spoil(document)
    const error = await json<{ error_description: string }>(importInto(target, document), 400)
    expect(error.error_description).toStartWith('the document was not imported (nothing changed): ')
    for (const line of [expected].flat()) expect(error.error_description).toContain(line)
    expect(await certificatesOf(target)).toEqual([])
  })

  test("orders each anew from the importing server's own directories; its export is the source's document", async () => {
    const result = await json(importInto(target, exported))
    expect(result).toMatchObject({ changed: true, warnings: [] })
    expect(result.plan.certificates).toEqual({ create: ['portable', 'trial.test'], update: [], delete: [], unchanged: 0 })
    const views = await certificatesOf(target)
    expect(views.map((view) => [view.cert_name, view.directory_url, view.staging])).toEqual([
      ['portable', target.pebble.directoryUrl, false],
      ['trial.test', target.refusingCa.directoryUrl, true],
    ])
    for (const view of views) expect(['pending', 'validating', 'issued', 'failed']).toContain(view.status)
    expect(views.find((view) => view.cert_name === 'portable')).toMatchObject({ domains: ['portable.test', 'www.portable.test'], email: 'certs@example.com', created_by: 'cert-admin' })
    // The target's Pebble validates HTTP-01 against the target's own listener: a certificate of its own.
    expect(await settled(target, 'portable')).toBe('issued')
    expect(withoutTime(await exportOf(target))).toEqual(withoutTime(exported))
  }, 60_000)

  test('a second import changes nothing: no re-order, the same views', async () => {
    // Settled, so nothing moves on its own while this looks (a failed order is retried after 60 s at the earliest).
    for (const name of ['portable', 'trial.test']) await settled(target, name)
    const before = await certificatesOf(target)
    const again = await json(importInto(target, exported))
    expect(again.changed).toBe(false)
    expect(again.plan.certificates).toEqual({ create: [], update: [], delete: [], unchanged: 2 })
    expect(await certificatesOf(target)).toEqual(before)
  }, 120_000)

  test('a changed definition is an update and is ordered again; only prune deletes what the document lacks', async () => {
    const document = copy()
    document.certificates[0].domains = ['portable.test']
    document.certificates.splice(1, 1)
    const kept = await json(importInto(target, document, '?dry_run=true'))
    expect(kept.plan.certificates).toEqual({ create: [], update: ['portable'], delete: [], unchanged: 0 })
    const pruned = await json(importInto(target, document, '?prune=true'))
    expect(pruned.plan.certificates).toEqual({ create: [], update: ['portable'], delete: ['trial.test'], unchanged: 0 })
    expect((await target.api('GET', '/certificates/trial.test')).status).toBe(404)
    expect(await json(target.api('GET', '/certificates/portable'))).toMatchObject({ domains: ['portable.test'], attempts: 0 })
    expect(await settled(target, 'portable')).toBe('issued')
  }, 60_000)
})
