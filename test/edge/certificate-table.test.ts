/**
 * The certificate table: which certificate each HTTPS proxy's name is served. A renewed certificate
 * that several proxies share must reach all of their names at once: with the names installed one after
 * another, a client of two of them could get the new certificate from one and then the old one from the
 * next (seen once in the ACME end-to-end test's renewal under load).
 *
 * The ACME side is a stand-in whose answers the test releases one by one; the TLS side records what is
 * installed, and when.
 */
import { describe, expect, test } from 'bun:test'
import { createCertificateTable, type AcmeCertificates } from '../../src/edge/certificate-table.ts'
import { createLogger } from '../../src/lib/index.ts'
import type { ProxyTarget } from '../../src/targets/index.ts'

const proxy = (hostname: string, certName: string | null = 'shared') =>
  ({ proxy_hostname: hostname, cert_name: certName, enable_https: true }) as ProxyTarget

/** An ACME side whose servedFor answers wait until the test releases them, one name at a time. */
function heldAcme() {
  let serial = 1
  const waiting = new Map<string, () => void>()
  const acme: AcmeCertificates = {
    servedFor: (name, hostname) =>
      new Promise((resolve) => {
        waiting.set(hostname, () => resolve({ certPem: `cert ${name} #${serial}`, keyPem: 'key', version: `${name}@${serial}` }))
      }),
    ensureForProxy: async () => {},
  }
  return {
    acme,
    renew: () => serial++,
    release: async (hostname: string) => {
      await Bun.sleep(0)
      waiting.get(hostname)!()
      waiting.delete(hostname)
      await Bun.sleep(0)
    },
    waitingFor: () => [...waiting.keys()].sort(),
  }
}

function recordingTls() {
  const served = new Map<string, string>()
  const installs: string[] = []
  return {
    served,
    installs,
    tls: {
      setCertificate: (serverName: string, certificate: { certPem: string }) => {
        served.set(serverName, certificate.certPem)
        installs.push(serverName)
      },
      removeCertificate: (serverName: string) => {
        served.delete(serverName)
        installs.push(`-${serverName}`)
      },
    },
  }
}

const selfSigned = async (target: ProxyTarget) => ({ certPem: `self ${target.proxy_hostname}`, keyPem: 'key', version: 'self' })

describe('createCertificateTable', () => {
  test('syncTogether: the names of one renewed certificate are installed in the same tick, none before every one is resolved', async () => {
    const held = heldAcme()
    const { tls, served, installs } = recordingTls()
    const table = createCertificateTable({ tls, selfSigned, acme: held.acme, logger: createLogger('silent') })
    const names = ['a.test', 'b.test', 'c.test']

    const first = Promise.all(names.map((name) => table.sync(proxy(name), name)))
    for (const name of names) await held.release(name)
    await first
    expect([...served.values()]).toEqual(['cert shared #1', 'cert shared #1', 'cert shared #1'])
    expect(table.hostnamesUsing('shared').sort()).toEqual(names)

    held.renew()
    installs.length = 0
    const renewal = table.syncTogether(names.map((hostname) => ({ target: proxy(hostname), hostname })))
    await Bun.sleep(0)
    expect(held.waitingFor()).toEqual(names)
    // Two of three names resolved: nothing is installed yet, every name still gets the old certificate.
    await held.release('a.test')
    await held.release('b.test')
    expect(installs).toEqual([])
    expect([...served.values()]).toEqual(['cert shared #1', 'cert shared #1', 'cert shared #1'])
    await held.release('c.test')
    await renewal
    expect(installs.sort()).toEqual(names)
    expect([...served.values()]).toEqual(['cert shared #2', 'cert shared #2', 'cert shared #2'])
  })

  test('syncTogether: a proxy gone or no longer HTTPS loses its certificate in the same tick; an unchanged one is not installed again', async () => {
    const held = heldAcme()
    const { tls, served, installs } = recordingTls()
    const table = createCertificateTable({ tls, selfSigned, acme: held.acme, logger: createLogger('silent') })
    const first = Promise.all(['a.test', 'b.test'].map((name) => table.sync(proxy(name), name)))
    await held.release('a.test')
    await held.release('b.test')
    await first

    installs.length = 0
    const together = table.syncTogether([
      { target: proxy('a.test'), hostname: 'a.test' },
      { target: null, hostname: 'b.test' },
    ])
    await held.release('a.test')
    await together
    expect(installs).toEqual(['-b.test'])
    expect([...served.keys()]).toEqual(['a.test'])
  })

  test('sync: a proxy without an issued certificate is served the self-signed one', async () => {
    const { tls, served } = recordingTls()
    const table = createCertificateTable({ tls, selfSigned, acme: null, logger: createLogger('silent') })
    await table.sync(proxy('plain.test', null), 'plain.test')
    expect(served.get('plain.test')).toBe('self plain.test')
  })
})
