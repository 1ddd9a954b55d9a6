/**
 * @module The certificate documents in the store (`certs/acme/<cert_name>`), changed only by
 * compare-and-set so the API on one node and an order running on another never overwrite each other.
 */
import { isCertName } from '../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'
import { CertificateRecordSchema, type CertificateRecord } from './certificate-record.ts'
import { CertificateError } from './errors.ts'

/** A name no certificate can have (lib/cert-name.ts: "." and ".." among them) is never a store key: such a name reads as missing. */
export interface CertificateRecords {
  get(name: string): Promise<CertificateRecord | null>
  list(): Promise<CertificateRecord[]>
  /** False when the name exists already. */
  create(record: CertificateRecord): Promise<boolean>
  /**
   * Applies `change` to the current document and writes it back if nobody wrote in between, retrying
   * with the newer document otherwise. `change` returns null to leave the document alone. Resolves to
   * what was written, or null when the document is missing or `change` declined.
   */
  update(name: string, change: (current: CertificateRecord) => CertificateRecord | null): Promise<CertificateRecord | null>
  /** False when there was nothing to remove. */
  remove(name: string): Promise<boolean>
}

const MAX_UPDATE_ATTEMPTS = 8

export function createCertificateRecords(store: Store): CertificateRecords {
  const collection = createCollection(store, COLLECTIONS.acmeCertificates, CertificateRecordSchema)
  return {
    get: async (name) => (isCertName(name) ? ((await collection.get(name))?.value ?? null) : null),
    list: async () => (await collection.list()).map(({ value }) => value),
    create: async (record) => (await collection.put(record.cert_name, record, { ifAbsent: true })) !== null,
    async update(name, change) {
      if (!isCertName(name)) return null
      for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
        const current = await collection.get(name)
        if (!current) return null
        const next = change(current.value)
        if (!next) return null
        if ((await collection.put(name, next, { ifVersion: current.version })) !== null) return next
      }
      throw new CertificateError('conflict', `certificate ${name} kept changing while being updated; try again`)
    },
    remove: async (name) => isCertName(name) && (await collection.del(name)),
  }
}
