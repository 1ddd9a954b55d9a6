/**
 * @module The certificate each HTTPS instance serves. Until ACME issuance lands, that is a self-signed
 * certificate per certificate name (the proxy's cert_name, or its hostname), kept in the store so it
 * survives restarts and every node serves the same one. A new cert_name means a new certificate, which
 * is how a proxy's certificate is changed at run time today.
 */
import * as v from 'valibot'
import type { Clock } from '../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'
import { createSelfSignedCertificate } from './self-signed.ts'

const StoredCertificateSchema = v.object({
  hostnames: v.array(v.string()),
  certPem: v.string(),
  /** Secret: never returned by any API. */
  keyPem: v.string(),
  notAfterMs: v.number(),
  createdAtMs: v.number(),
})

export interface ServedCertificate {
  readonly certPem: string
  readonly keyPem: string
  /** Changes whenever the certificate does; instances restart their TLS server on a change. */
  readonly version: string
}

/** Renew a self-signed certificate this long before it expires. */
const RENEW_BEFORE_MS = 7 * 86_400_000

export function createCertificateSource(store: Store, clock: Clock) {
  const collection = createCollection(store, COLLECTIONS.selfSignedCertificates, StoredCertificateSchema)
  return async function certificateFor(target: { proxy_hostname: string; cert_name: string | null }): Promise<ServedCertificate> {
    const name = target.cert_name ?? target.proxy_hostname
    const existing = await collection.get(name)
    const isUsable = existing && existing.value.hostnames.includes(target.proxy_hostname) && existing.value.notAfterMs - RENEW_BEFORE_MS > clock.nowMs()
    if (isUsable) return { certPem: existing.value.certPem, keyPem: existing.value.keyPem, version: `${name}@${existing.version}` }
    const pair = await createSelfSignedCertificate([target.proxy_hostname], { nowMs: clock.nowMs() })
    const fresh = { hostnames: [target.proxy_hostname], certPem: pair.certPem, keyPem: pair.keyPem, notAfterMs: pair.notAfterMs, createdAtMs: clock.nowMs() }
    // Two nodes may race here; whichever write lands first is the one both serve.
    const written = existing ? await collection.put(name, fresh, { ifVersion: existing.version }) : await collection.put(name, fresh, { ifAbsent: true })
    const winner = written === null ? await collection.get(name) : { value: fresh, version: written }
    if (!winner) throw new Error(`certificate ${name} vanished while being created`)
    return { certPem: winner.value.certPem, keyPem: winner.value.keyPem, version: `${name}@${winner.version}` }
  }
}
