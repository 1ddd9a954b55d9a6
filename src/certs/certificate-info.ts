/** @module What the API shows about an issued certificate, read from its leaf (RFC 5280). */
import { PemConverter, SubjectAlternativeNameExtension, X509Certificate } from '@peculiar/x509'

export interface CertificateInfo {
  readonly domains: string[]
  readonly issuer: string | null
  readonly serial: string
  readonly fingerprint_sha256: string
  readonly not_before: string
  readonly not_after: string
}

/** Reads the first certificate of a PEM chain (the leaf, RFC 8555 §7.4.2). Throws when there is none. */
export async function readCertificateInfo(chainPem: string): Promise<CertificateInfo> {
  const [leafDer] = PemConverter.decode(chainPem)
  if (!leafDer) throw new Error('the CA sent no certificate')
  const leaf = new X509Certificate(leafDer)
  const san = leaf.getExtension(SubjectAlternativeNameExtension)
  const fingerprint = new Uint8Array(await leaf.getThumbprint('SHA-256', crypto))
  return {
    domains: (san?.names.items ?? []).filter((name) => name.type === 'dns').map((name) => name.value.toLowerCase()),
    issuer: leaf.issuerName.getField('CN')[0] ?? (leaf.issuer || null),
    serial: leaf.serialNumber.toLowerCase(),
    fingerprint_sha256: Buffer.from(fingerprint).toString('hex'),
    not_before: leaf.notBefore.toISOString(),
    not_after: leaf.notAfter.toISOString(),
  }
}
