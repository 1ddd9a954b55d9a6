/**
 * @module What a certificate request must satisfy before anything is stored or ordered: a usable name,
 * 1 to 100 DNS names that HTTP-01 can prove, an email an ACME account can carry, an https directory.
 */
import { isIP } from 'node:net'
import * as v from 'valibot'
import { CERT_NAME_RULE, isCertName, isValidHostname } from '../lib/index.ts'
import { CertificateError } from './errors.ts'

export interface CertificateRequestInput {
  cert_name: string
  domains: string[]
  email?: string | null
  acme_directory_url?: string | null
  staging?: boolean
}

export interface DirectoryDefaults {
  readonly productionDirectoryUrl: string
  readonly stagingDirectoryUrl: string
  readonly defaultEmail: string | null
}

export interface NormalizedRequest {
  readonly certName: string
  readonly domains: string[]
  readonly email: string | null
  readonly directoryUrl: string
}

/** Let's Encrypt's limit, which the original kept too (original-behaviour §6 "up to 100 SANs"). */
export const MAX_DOMAINS = 100
const EmailSchema = v.pipe(v.string(), v.email())

export function normalizeRequest(input: CertificateRequestInput, defaults: DirectoryDefaults): NormalizedRequest {
  // The name is a store key: checked before anything reads it (lib/cert-name.ts).
  if (typeof input.cert_name !== 'string' || !isCertName(input.cert_name)) throw new CertificateError('invalid', `cert_name must be ${CERT_NAME_RULE}`, 'cert_name')
  return {
    certName: input.cert_name,
    domains: normalizeDomains(input.domains),
    email: normalizeEmail(input.email ?? defaults.defaultEmail),
    directoryUrl: normalizeDirectoryUrl(input.acme_directory_url) ?? (input.staging ? defaults.stagingDirectoryUrl : defaults.productionDirectoryUrl),
  }
}

/** Lower-cased, without a trailing dot, duplicates dropped, order kept (the first is the subject CN). */
export function normalizeDomains(domains: unknown): string[] {
  if (!Array.isArray(domains) || domains.length === 0) throw new CertificateError('invalid', 'domains must list at least one DNS name', 'domains')
  const names: string[] = []
  for (const raw of domains) {
    const name = normalizeDomain(raw)
    if (!names.includes(name)) names.push(name)
  }
  if (names.length > MAX_DOMAINS) throw new CertificateError('invalid', `a certificate holds at most ${MAX_DOMAINS} domains, got ${names.length}`, 'domains')
  return names
}

/**
 * One requested name, lower-cased and without a trailing dot. Throws CertificateError('invalid', 'domains')
 * when HTTP-01 cannot prove it; exported so a caller with many names can say which one (the import's paths).
 */
export function normalizeDomain(raw: unknown): string {
  if (typeof raw !== 'string') throw new CertificateError('invalid', 'domains must be DNS names', 'domains')
  const name = raw.trim().toLowerCase().replace(/\.$/, '')
  // RFC 8555 §7.1.3 and §8.3: a wildcard identifier can only be proven with DNS-01, never HTTP-01.
  if (name.startsWith('*.')) {
    throw new CertificateError('invalid', `${name} is a wildcard name: wildcards need the DNS-01 challenge, and this server proves names with HTTP-01 only`, 'domains')
  }
  if (isIP(name.replace(/^\[|\]$/g, '')) !== 0) throw new CertificateError('invalid', `${name} is an IP address: only DNS names can be ordered`, 'domains')
  if (!isValidHostname(name)) throw new CertificateError('invalid', `${JSON.stringify(raw)} is not a DNS name (RFC 1123 labels)`, 'domains')
  return name
}

/** What a certificate is, apart from its state and key material: what request() stores and compares. */
export interface CertificateDefinition {
  readonly cert_name: string
  readonly domains: readonly string[]
  readonly email: string | null
  readonly directory_url: string
}

/**
 * A certificate's definition as a request any server can repeat (the configuration export's entry): its
 * directory as `staging` with acme_directory_url null when it is one of the server's own two, so it follows
 * the configuration of the server that repeats it; otherwise the directory's URL itself.
 */
export interface PortableCertificateRequest {
  cert_name: string
  domains: string[]
  email: string | null
  acme_directory_url: string | null
  staging: boolean
}

export const toDefinition = (request: NormalizedRequest): CertificateDefinition => ({
  cert_name: request.certName,
  domains: request.domains,
  email: request.email,
  directory_url: request.directoryUrl,
})

/** The same order: the same names (in any order; the first only picks the CN), the same account email and directory. */
export function isSameDefinition(a: Omit<CertificateDefinition, 'cert_name'>, b: Omit<CertificateDefinition, 'cert_name'>): boolean {
  const sorted = (names: readonly string[]) => [...names].sort().join(',')
  return sorted(a.domains) === sorted(b.domains) && a.email === b.email && a.directory_url === b.directory_url
}

function normalizeEmail(email: string | null | undefined): string | null {
  if (email === null || email === undefined || email.trim() === '') return null
  const trimmed = email.trim()
  if (!v.is(EmailSchema, trimmed)) throw new CertificateError('invalid', 'email must be an email address (the ACME account contact, RFC 8555 §7.3)', 'email')
  return trimmed
}

function normalizeDirectoryUrl(url: string | null | undefined): string | null {
  if (url === null || url === undefined || url.trim() === '') return null
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    parsed = new URL('invalid:')
  }
  // RFC 8555 §6.1: ACME is spoken over HTTPS only.
  if (parsed.protocol !== 'https:' || parsed.username || parsed.password) {
    throw new CertificateError('invalid', 'acme_directory_url must be the https:// URL of an ACME directory (RFC 8555 §7.1.1)', 'acme_directory_url')
  }
  return url.trim()
}
