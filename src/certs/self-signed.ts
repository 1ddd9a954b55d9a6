/** @module Self-signed ECDSA P-256 server certificates, served until an ACME certificate exists. */
import { isIP } from 'node:net'
import {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  PemConverter,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
  type JsonGeneralName,
} from '@peculiar/x509'
import { systemClock } from '../lib/index.ts'

export interface PemPair {
  /** PEM "CERTIFICATE". */
  readonly certPem: string
  /** PEM "PRIVATE KEY" (PKCS #8, RFC 5208), unencrypted. */
  readonly keyPem: string
  /** The certificate's notAfter, in whole seconds as encoded (RFC 5280 §4.1.2.5), as epoch milliseconds. */
  readonly notAfterMs: number
}

const DEFAULT_VALID_DAYS = 90
const MAX_VALID_DAYS = 3650
const DAY_MS = 86_400_000
/** Back-dated so clients with a slightly slow clock accept the certificate at once. */
const CLOCK_SKEW_MS = 3_600_000
/** RFC 5280 Appendix A.1: ub-common-name INTEGER ::= 64. */
const MAX_COMMON_NAME_CHARS = 64
const SERIAL_BYTES = 16
const KEY_ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' }
const SIGNING_ALGORITHM: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' }
/** A DNS name of 1..63-byte LDH labels, optionally with one leading "*." wildcard label (RFC 6125 §6.4.3). */
const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/

/**
 * Creates a fresh key pair and a self-signed end-entity certificate for `hostnames`.
 *
 * Subject CN is the first hostname (omitted when longer than 64 characters, with the SAN then marked critical
 * per RFC 5280 §4.2.1.6); every hostname goes into subjectAltName, DNS names as dNSName (wildcards allowed)
 * and IP literals as iPAddress. Throws a TypeError for an empty list, an invalid hostname or bad validDays.
 */
export async function createSelfSignedCertificate(
  hostnames: readonly string[],
  options: { validDays?: number; nowMs?: number } = {},
): Promise<PemPair> {
  const names = hostnames.map(normalizeHostname)
  const commonName = names[0]
  if (commonName === undefined) throw new TypeError('createSelfSignedCertificate needs at least one hostname')
  const validDays = options.validDays ?? DEFAULT_VALID_DAYS
  if (!Number.isFinite(validDays) || validDays <= 0 || validDays > MAX_VALID_DAYS) {
    throw new TypeError(`validDays must be in (0, ${MAX_VALID_DAYS}], got ${validDays}`)
  }
  const nowMs = options.nowMs ?? systemClock.nowMs()
  // X.509 times carry whole seconds; round here so notAfterMs equals what a parser reads back.
  const notBeforeMs = Math.floor((nowMs - CLOCK_SKEW_MS) / 1000) * 1000
  const notAfterMs = Math.floor((nowMs + validDays * DAY_MS) / 1000) * 1000

  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])
  const hasCommonName = commonName.length <= MAX_COMMON_NAME_CHARS
  const certificate = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialHex(),
      name: hasCommonName ? [{ CN: [commonName] }] : [],
      notBefore: new Date(notBeforeMs),
      notAfter: new Date(notAfterMs),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        // RFC 5280 §4.2.1.9: an end-entity certificate; cA FALSE, marked critical.
        new BasicConstraintsExtension(false, undefined, true),
        // RFC 5280 §4.2.1.3: ECDSA server keys only sign (the TLS handshake); no keyEncipherment.
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        // RFC 5280 §4.2.1.12: id-kp-serverAuth.
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth], false),
        // RFC 5280 §4.2.1.6: critical when the subject is empty.
        new SubjectAlternativeNameExtension(names.map(toGeneralName), !hasCommonName),
        // RFC 5280 §4.2.1.2: SHOULD be present; lets clients tell regenerated certificates apart.
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  )
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey)
  return {
    certPem: `${certificate.toString('pem')}\n`,
    keyPem: `${PemConverter.encode(pkcs8, 'PRIVATE KEY')}\n`,
    notAfterMs,
  }
}

/** Lower-cases and validates one hostname; DNS names may have one trailing dot, which is dropped. */
function normalizeHostname(hostname: string): string {
  const trimmed = hostname.trim()
  if (isIP(trimmed) !== 0) return trimmed.toLowerCase()
  const name = trimmed.toLowerCase().replace(/\.$/, '')
  // RFC 1035 §2.3.4: at most 253 characters in text form.
  if (name.length > 253 || !HOSTNAME.test(name)) throw new TypeError(`not a valid certificate hostname: ${JSON.stringify(hostname)}`)
  return name
}

function toGeneralName(name: string): JsonGeneralName {
  return isIP(name) !== 0 ? { type: 'ip', value: name } : { type: 'dns', value: name }
}

/** RFC 5280 §4.1.2.2: a positive serial of at most 20 octets; 16 random bytes with the top bit cleared. */
function randomSerialHex(): string {
  const serial = crypto.getRandomValues(new Uint8Array(SERIAL_BYTES))
  // Top bit clear keeps the INTEGER positive; second bit set keeps it exactly 16 octets long.
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40
  return Array.from(serial, (byte) => byte.toString(16).padStart(2, '0')).join('')
}
