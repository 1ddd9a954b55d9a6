/**
 * ACME issuance against a real CA: Debian's Pebble at its default settings (it rejects 5 % of nonces and
 * reuses half of the valid authorizations), real HTTP-01 validation answered from the ChallengeStore, and
 * the manager in its own process (it must trust Pebble's TLS certificate from start-up).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createChallengeStore, type CertificateView } from '../../src/certs/index.ts'
import { createMemoryBus } from '../../src/events/index.ts'
import { createLogger } from '../../src/lib/index.ts'
import { createEmbeddedStore, type Store } from '../../src/store/index.ts'
import { FAST_TIMING, startCertNode, type CertNode } from '../support/cert-node.ts'
import { startChallengeResponder, type ChallengeResponder } from '../support/challenge-responder.ts'
import { startPebble, verifyChain, type TestPebble } from '../support/pebble.ts'
import { waitFor } from '../support/ports.ts'

const ORDER_TIMEOUT_MS = 20_000

let dataDir: string
let store: Store
let responder: ChallengeResponder
let pebble: TestPebble
let node: CertNode
let rootPem: string
/** Every view any test saw: none may hold key material. */
const seenViews: unknown[] = []

async function startNode(dir: string): Promise<CertNode> {
  return startCertNode({
    caCertPath: pebble.caCertPath,
    config: {
      nodeId: 'node-a',
      store: { kind: 'embedded', dataDir: dir },
      timing: FAST_TIMING,
      manager: {
        productionDirectoryUrl: pebble.directoryUrl,
        stagingDirectoryUrl: pebble.altDirectoryUrl,
        defaultEmail: 'certs@example.com',
        renewCheckIntervalMs: 3_600_000,
        renewalThresholdDays: 30,
      },
    },
  })
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ohp-acme-'))
  store = createEmbeddedStore({ dataDir })
  responder = startChallengeResponder(createChallengeStore(store, createMemoryBus(createLogger('silent'))))
  pebble = await startPebble({ httpPort: responder.port })
  rootPem = await pebble.issuingRootPem()
  node = await startNode(dataDir)
})

afterAll(async () => {
  await node?.stop()
  await pebble?.stop()
  responder?.stop()
  await store?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/** Waits until the certificate leaves pending/validating (and, if given, differs from `previous`). */
async function settled(on: CertNode, name: string, previousSerial?: string | null): Promise<CertificateView> {
  return waitFor(
    async () => {
      const view = await on.manager.get(name)
      seenViews.push(view)
      const isDone = view && (view.status === 'issued' || view.status === 'failed') && (previousSerial === undefined || view.serial !== previousSerial || view.status === 'failed')
      return isDone ? view : null
    },
    { what: `certificate ${name} to settle`, timeoutMs: ORDER_TIMEOUT_MS, intervalMs: 50 },
  )
}

/**
 * certificate_ready events for a name once at least `count` have come: the event is published after the
 * issued document is stored, so settled() can see the document first.
 */
async function readyEvents(on: CertNode, name: string, count: number) {
  const ofName = () => on.events().filter((event) => event.type === 'certificate_ready' && event.certName === name)
  await waitFor(() => ofName().length >= count, { what: `${count} certificate_ready for ${name}` })
  return ofName()
}
const ordersStarted = (on: CertNode, name: string) => on.logs().filter((line) => line.msg === 'certificate order started' && line.cert_name === name).length
const pebbleOrders = () => (pebble.log().match(/Added order "/g) ?? []).length
const sansOf = (chainPem: string) => (new X509Certificate(chainPem).subjectAltName ?? '').split(', ').map((entry) => entry.replace(/^DNS:/, '')).sort()

describe('ordering', () => {
  test('one name: pending → validating → issued, and the chain verifies against Pebble’s issuing root', async () => {
    const statusDuringValidation: string[] = []
    responder.onRequest(async () => void statusDuringValidation.push((await node.manager.get('one'))?.status ?? 'missing'))
    const created = await node.manager.request({ cert_name: 'one', domains: ['A.test.'] }, 'alice')
    seenViews.push(created)
    expect(created).toMatchObject({ cert_name: 'one', domains: ['a.test'], status: 'pending', directory_url: pebble.directoryUrl, staging: false, email: 'certs@example.com', serial: null, not_after: null, error: null, attempts: 0, created_by: 'alice' })

    const issued = await settled(node, 'one')
    responder.onRequest(null)
    expect(issued.status).toBe('issued')
    // Pebble asks from 3 perspectives; every one came while the manager said "validating".
    expect(statusDuringValidation.length).toBeGreaterThan(0)
    expect(new Set(statusDuringValidation)).toEqual(new Set(['validating']))

    const chain = (await node.manager.chainPem('one'))!
    await verifyChain(chain, rootPem, ['a.test'])
    const leaf = new X509Certificate(chain)
    expect(issued).toMatchObject({
      serial: leaf.serialNumber.toLowerCase(),
      fingerprint_sha256: leaf.fingerprint256.replaceAll(':', '').toLowerCase(),
      not_before: new Date(leaf.validFrom).toISOString(),
      not_after: new Date(leaf.validTo).toISOString(),
      error: null,
      attempts: 0,
      next_attempt_at: null,
    })
    expect(issued.issuer).toStartWith('Pebble Intermediate CA')
    expect(sansOf(chain)).toEqual(['a.test'])
    // The key is fresh ECDSA P-256 and belongs to the certificate.
    const key = createPrivateKey((await node.manager.privateKeyPem('one'))!)
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(leaf.checkPrivateKey(key)).toBe(true)

    expect(await readyEvents(node, 'one', 1)).toEqual([{ type: 'certificate_ready', certName: 'one', domains: ['a.test'] }])
    const served = await node.manager.servedFor('one', 'A.TEST')
    expect(served).toEqual({ certPem: chain, keyPem: (await node.manager.privateKeyPem('one'))!, version: `one@${issued.serial}` })
    expect(await node.manager.servedFor('one', 'b.test')).toBeNull()
    expect(await node.manager.servedFor('nothing', 'a.test')).toBeNull()
    expect(ordersStarted(node, 'one')).toBe(1)
    // Challenges are cleared once validated.
    expect(await createChallengeStore(store, createMemoryBus(createLogger('silent'))).list()).toEqual([])
  }, 30_000)

  test('three names in one order: every one is a SAN and verifies', async () => {
    const domains = ['multi-1.test', 'multi-2.test', 'multi-3.test']
    await node.manager.request({ cert_name: 'multi', domains }, 'alice')
    const issued = await settled(node, 'multi')
    expect(issued).toMatchObject({ status: 'issued', domains })
    const chain = (await node.manager.chainPem('multi'))!
    expect(sansOf(chain)).toEqual(domains)
    await verifyChain(chain, rootPem, domains)
    for (const hostname of domains) expect((await node.manager.servedFor('multi', hostname))?.version).toBe(`multi@${issued.serial}`)
  }, 30_000)

  test('renew orders again: a new serial, a new key, certificate_ready again', async () => {
    const before = (await node.manager.get('one'))!
    const keyBefore = await node.manager.privateKeyPem('one')
    const renewing = await node.manager.renew('one')
    expect(renewing.status).toBe('pending')
    // While the new order runs, the issued certificate is still served.
    expect((await node.manager.servedFor('one', 'a.test'))?.version).toBe(`one@${before.serial}`)
    const after = await settled(node, 'one', before.serial)
    expect(after.status).toBe('issued')
    expect(after.serial).not.toBe(before.serial)
    expect(after.fingerprint_sha256).not.toBe(before.fingerprint_sha256)
    expect(await node.manager.privateKeyPem('one')).not.toBe(keyBefore)
    await verifyChain((await node.manager.chainPem('one'))!, rootPem, ['a.test'])
    expect(await readyEvents(node, 'one', 2)).toHaveLength(2)
    expect(ordersStarted(node, 'one')).toBe(2)
  }, 30_000)

  test('an unreachable challenge ends failed with the CA’s reason; renew after fixing it issues', async () => {
    responder.setMode('404')
    try {
      const startedMs = Date.now()
      await node.manager.request({ cert_name: 'broken', domains: ['broken.test'] }, 'bob')
      const failed = await settled(node, 'broken')
      expect(failed).toMatchObject({ status: 'failed', attempts: 1, serial: null })
      expect(failed.error).toContain('broken.test')
      expect(failed.error).toContain('404')
      // The first retry comes a minute later (backoff), not at once.
      const retryInMs = Date.parse(failed.next_attempt_at!) - startedMs
      expect(retryInMs).toBeGreaterThanOrEqual(55_000)
      expect(retryInMs).toBeLessThan(90_000)
      // Published after the failure is stored, as certificate_ready is.
      await waitFor(() => node.events().some((event) => event.type === 'certificate_failed'), { what: 'certificate_failed' })
      expect(node.events()).toContainEqual({ type: 'certificate_failed', certName: 'broken', error: failed.error! })
      expect(await node.manager.servedFor('broken', 'broken.test')).toBeNull()
    } finally {
      responder.setMode('answer')
    }
    await node.manager.renew('broken')
    const fixed = await settled(node, 'broken', null)
    expect(fixed).toMatchObject({ status: 'issued', error: null, attempts: 0, next_attempt_at: null })
    await verifyChain((await node.manager.chainPem('broken'))!, rootPem, ['broken.test'])
  }, 40_000)

  test('a name that exists: the same request changes nothing; other domains re-order it', async () => {
    const before = (await node.manager.get('multi'))!
    const ordersBefore = pebbleOrders()
    const again = await node.manager.request({ cert_name: 'multi', domains: ['multi-3.test', 'MULTI-1.test', 'multi-2.test'] }, 'carol')
    expect(again).toEqual(before)

    const changed = await node.manager.request({ cert_name: 'multi', domains: ['multi-1.test', 'multi-4.test'] }, 'carol')
    expect(changed).toMatchObject({ status: 'pending', domains: ['multi-1.test', 'multi-4.test'], created_by: 'alice', serial: before.serial })
    // Until the new one is issued, the old one serves the names it covers, and nothing else.
    expect(await node.manager.servedFor('multi', 'multi-4.test')).toBeNull()
    const after = await settled(node, 'multi', before.serial)
    expect(after.status).toBe('issued')
    expect(sansOf((await node.manager.chainPem('multi'))!)).toEqual(['multi-1.test', 'multi-4.test'])
    expect(await node.manager.servedFor('multi', 'multi-2.test')).toBeNull()
    expect(await node.manager.servedFor('multi', 'multi-4.test')).not.toBeNull()
    expect(pebbleOrders()).toBe(ordersBefore + 1)
  }, 30_000)
})

describe('proxies', () => {
  test('ensureForProxy orders once per name, from staging unless the proxy says production', async () => {
    const proxy = { proxy_hostname: 'app.test', cert_name: null, enable_https: true }
    await Promise.all([node.manager.ensureForProxy(proxy), node.manager.ensureForProxy(proxy), node.manager.ensureForProxy(proxy)])
    const issued = await settled(node, 'app.test')
    expect(issued).toMatchObject({ status: 'issued', domains: ['app.test'], staging: true, directory_url: pebble.altDirectoryUrl, email: 'certs@example.com', created_by: null })
    await node.manager.ensureForProxy(proxy)
    await node.manager.ensureForProxy({ ...proxy, cert_name: 'app.test' })
    expect(ordersStarted(node, 'app.test')).toBe(1)
    expect(await readyEvents(node, 'app.test', 1)).toHaveLength(1)

    // A proxy that says production, under its own cert_name; and ones that get nothing.
    await node.manager.ensureForProxy({ proxy_hostname: 'prod.test', cert_name: 'prod-cert', enable_https: true, staging: false, cert_email: 'ops@example.com' })
    await node.manager.ensureForProxy({ proxy_hostname: 'plain.test', cert_name: null, enable_https: false })
    await node.manager.ensureForProxy({ proxy_hostname: 'dev.localhost', cert_name: null, enable_https: true })
    await node.manager.ensureForProxy({ proxy_hostname: '*.wild.test', cert_name: null, enable_https: true })
    expect(await settled(node, 'prod-cert')).toMatchObject({ status: 'issued', staging: false, directory_url: pebble.directoryUrl, email: 'ops@example.com' })
    for (const name of ['plain.test', 'dev.localhost', '*.wild.test']) expect(await node.manager.get(name)).toBeNull()
  }, 30_000)

  test('convertToProduction re-orders the same domains against the production directory', async () => {
    const staging = (await node.manager.get('app.test'))!
    const converting = await node.manager.convertToProduction('app.test')
    expect(converting).toMatchObject({ status: 'pending', staging: false, directory_url: pebble.directoryUrl, domains: ['app.test'] })
    const production = await settled(node, 'app.test', staging.serial)
    expect(production).toMatchObject({ status: 'issued', staging: false })
    expect(production.serial).not.toBe(staging.serial)
    // Already production: nothing to do.
    expect(await node.manager.convertToProduction('app.test')).toEqual(production)
  }, 30_000)
})

describe('errors and removal', () => {
  test('a wildcard is refused, naming DNS-01; so are IPs, > 100 names, bad names, email and directories', async () => {
    const refusal = async (input: Parameters<CertNode['manager']['request']>[0]) => {
      try {
        await node.manager.request(input, 'alice')
      } catch (error) {
        return error as Error & { kind?: string; field?: string }
      }
      throw new Error('expected a refusal')
    }
    const wildcard = await refusal({ cert_name: 'wild', domains: ['ok.test', '*.example.test'] })
    expect(wildcard).toMatchObject({ name: 'CertificateError', kind: 'invalid', field: 'domains' })
    expect(wildcard.message).toContain('DNS-01')
    expect(await refusal({ cert_name: 'ip', domains: ['127.0.0.1'] })).toMatchObject({ kind: 'invalid', field: 'domains' })
    const many = Array.from({ length: 101 }, (_, i) => `n${i}.test`)
    expect((await refusal({ cert_name: 'many', domains: many })).message).toContain('at most 100')
    expect(await refusal({ cert_name: 'none', domains: [] })).toMatchObject({ kind: 'invalid', field: 'domains' })
    expect(await refusal({ cert_name: '../x', domains: ['x.test'] })).toMatchObject({ kind: 'invalid', field: 'cert_name' })
    expect(await refusal({ cert_name: 'mail', domains: ['x.test'], email: 'not-an-email' })).toMatchObject({ kind: 'invalid', field: 'email' })
    expect(await refusal({ cert_name: 'dir', domains: ['x.test'], acme_directory_url: 'http://127.0.0.1/dir' })).toMatchObject({ kind: 'invalid', field: 'acme_directory_url' })
    for (const name of ['wild', 'ip', 'many', 'none', 'mail', 'dir']) expect(await node.manager.get(name)).toBeNull()
  })

  test('remove deletes the certificate and publishes certificate_deleted; unknown names are not_found', async () => {
    await node.manager.remove('broken')
    expect(await node.manager.get('broken')).toBeNull()
    expect(await node.manager.servedFor('broken', 'broken.test')).toBeNull()
    expect(node.events()).toContainEqual({ type: 'certificate_deleted', certName: 'broken' })
    for (const call of [() => node.manager.remove('broken'), () => node.manager.renew('broken'), () => node.manager.convertToProduction('broken')]) {
      await expect(call()).rejects.toMatchObject({ name: 'CertificateError', kind: 'not_found' })
    }
    expect(await node.manager.chainPem('broken')).toBeNull()
    expect(await node.manager.privateKeyPem('broken')).toBeNull()
  })
})

describe('renewal schedule', () => {
  test('start() renews what has a third of its lifetime left, and nothing before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ohp-acme-renew-'))
    const renewingStore = createEmbeddedStore({ dataDir: dir })
    responder.addStore(createChallengeStore(renewingStore, createMemoryBus(createLogger('silent'))))
    const renewing = await startNode(dir)
    try {
      await renewing.manager.request({ cert_name: 'aging', domains: ['aging.test'] }, null)
      const first = await settled(renewing, 'aging')
      const lifetimeMs = Date.parse(first.not_after!) - Date.parse(first.not_before!)
      await renewing.manager.stop()
      // Just over half the lifetime gone: more than a third (and more than 30 days) left, so no order;
      // a later order of another name, once issued, shows the check has long been done.
      await renewing.advanceClockMs(lifetimeMs * 0.6)
      await renewing.manager.start()
      await renewing.manager.request({ cert_name: 'control', domains: ['control.test'] }, null)
      expect(await settled(renewing, 'control')).toMatchObject({ status: 'issued' })
      expect(ordersStarted(renewing, 'aging')).toBe(1)
      await renewing.manager.stop()
      // Two thirds gone: due.
      await renewing.advanceClockMs(lifetimeMs * 0.1)
      await renewing.manager.start()
      const second = await settled(renewing, 'aging', first.serial)
      expect(second).toMatchObject({ status: 'issued', error: null })
      expect(second.serial).not.toBe(first.serial)
      expect(ordersStarted(renewing, 'aging')).toBe(2)
      seenViews.push(second, ...(await renewing.manager.list()))
      expect(renewing.output()).not.toContain('PRIVATE KEY')
    } finally {
      await renewing.stop()
      await renewingStore.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 40_000)
})

describe('secrets', () => {
  test('no private key in any view, event or log line', async () => {
    const keys = await Promise.all(['one', 'multi', 'app.test', 'prod-cert'].map((name) => node.manager.privateKeyPem(name)))
    const keyBodies = keys.map((pem) => pem!.replace(/-----[A-Z ]+-----|\s/g, ''))
    seenViews.push(...(await node.manager.list()))
    const surfaces = { views: JSON.stringify(seenViews), events: JSON.stringify(node.events()), output: node.output() }
    for (const [surface, text] of Object.entries(surfaces)) {
      expect({ surface, hasPem: text.includes('PRIVATE KEY') }).toEqual({ surface, hasPem: false })
      for (const body of keyBodies) expect({ surface, hasKey: text.includes(body.slice(40, 100)) }).toEqual({ surface, hasKey: false })
    }
  })
})
