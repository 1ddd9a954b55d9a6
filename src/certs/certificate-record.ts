/**
 * @module The stored ACME certificate (one document per cert_name) and the view of it that leaves this
 * module. The document holds the certificate's private key; the view never does.
 */
import * as v from 'valibot'

export const CERTIFICATE_STATUSES = ['pending', 'validating', 'issued', 'failed'] as const
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number]

/** What the CA issued last: served for its own domains until it expires, even while a new order runs. */
const IssuedSchema = v.object({
  /** PEM, leaf first, then the chain the CA sent. */
  chain_pem: v.string(),
  /** Secret: PKCS #8 PEM. Returned only by privateKeyPem() and servedFor(). */
  key_pem: v.string(),
  /** The dNSName SANs of the issued leaf (which may differ from the requested domains while a re-order runs). */
  domains: v.array(v.string()),
  issuer: v.nullable(v.string()),
  /** Hex, as in the certificate. */
  serial: v.string(),
  /** SHA-256 of the leaf's DER, lower-case hex. */
  fingerprint_sha256: v.string(),
  not_before: v.string(),
  not_after: v.string(),
})
export type IssuedCertificate = v.InferOutput<typeof IssuedSchema>

export const CertificateRecordSchema = v.object({
  cert_name: v.string(),
  /** Requested domains, lower-cased, in request order; the first is the subject CN. */
  domains: v.pipe(v.array(v.string()), v.minLength(1)),
  email: v.nullable(v.string()),
  directory_url: v.string(),
  status: v.picklist(CERTIFICATE_STATUSES),
  /** The CA's words for the last failure; never key material. */
  error: v.nullable(v.string()),
  /** Failed orders since the last issuance (or since the domains were last changed). */
  attempts: v.number(),
  /** When a failed order is tried again (ISO); null otherwise. */
  next_attempt_at: v.nullable(v.string()),
  /** Changes whenever a new order is asked for; an order whose generation is stale throws its result away. */
  generation: v.string(),
  created_at: v.string(),
  updated_at: v.string(),
  created_by: v.nullable(v.string()),
  issued: v.nullable(IssuedSchema),
})
export type CertificateRecord = v.InferOutput<typeof CertificateRecordSchema>

/** A certificate as the API shows it: never any key material. */
export interface CertificateView {
  cert_name: string
  domains: string[]
  status: CertificateStatus
  directory_url: string
  staging: boolean
  email: string | null
  issuer: string | null
  serial: string | null
  fingerprint_sha256: string | null
  /** ISO */
  not_before: string | null
  /** ISO */
  not_after: string | null
  /** The CA's text for a failed order. */
  error: string | null
  attempts: number
  next_attempt_at: string | null
  created_at: string
  updated_at: string
  created_by: string | null
}

/** Field by field, so nothing added to the record later can leak into the view by accident. */
export function toView(record: CertificateRecord, stagingDirectoryUrl: string): CertificateView {
  const issued = record.issued
  return {
    cert_name: record.cert_name,
    domains: [...record.domains],
    status: record.status,
    directory_url: record.directory_url,
    staging: record.directory_url === stagingDirectoryUrl,
    email: record.email,
    issuer: issued?.issuer ?? null,
    serial: issued?.serial ?? null,
    fingerprint_sha256: issued?.fingerprint_sha256 ?? null,
    not_before: issued?.not_before ?? null,
    not_after: issued?.not_after ?? null,
    error: record.error,
    attempts: record.attempts,
    next_attempt_at: record.next_attempt_at,
    created_at: record.created_at,
    updated_at: record.updated_at,
    created_by: record.created_by,
  }
}
