/** @module A fresh certificate key and its CSR (RFC 2986) for one order: ECDSA P-256, every domain a SAN. */
import { PemConverter, Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from '@peculiar/x509'

const KEY_ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }
const SIGNING_ALGORITHM: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' }
/** RFC 5280 Appendix A.1: ub-common-name INTEGER ::= 64. */
const MAX_COMMON_NAME_CHARS = 64

export interface KeyAndCsr {
  /** Secret: PKCS #8 PEM. */
  readonly keyPem: string
  readonly csrPem: string
}

/** A new key for every order, so a renewed certificate never shares a key with the one it replaces. */
export async function createKeyAndCsr(domains: readonly string[]): Promise<KeyAndCsr> {
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])
  const commonName = domains[0]
  const csr = await Pkcs10CertificateRequestGenerator.create(
    {
      // CAs take the names from the SANs (RFC 8555 §7.4); the CN is only for old clients, and must fit.
      name: commonName && commonName.length <= MAX_COMMON_NAME_CHARS ? [{ CN: [commonName] }] : [],
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [new SubjectAlternativeNameExtension(domains.map((value) => ({ type: 'dns' as const, value })))],
    },
    crypto,
  )
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey)
  return { keyPem: `${PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`, csrPem: csr.toString('pem') }
}
