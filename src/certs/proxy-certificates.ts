/**
 * @module The certificate a proxy gets by itself (original-behaviour §6): named after the proxy
 * (cert_name, else its hostname), for its hostname alone, from the directory the proxy names, else the
 * one its staging flag names, else the server's choice for proxies (staging unless ACME_DIRECTORY_URL is set).
 */
import { isIP } from 'node:net'
import type { CertificateRequestInput } from './certificate-request.ts'

/** The proxy fields that matter here (a ProxyTarget has them); null and absent both mean "the server's choice". */
export interface ProxyCertificateInput {
  proxy_hostname: string
  cert_name: string | null
  enable_https: boolean
  cert_email?: string | null
  acme_directory_url?: string | null
  staging?: boolean | null
}

export function proxyCertificateRequest(
  proxy: ProxyCertificateInput,
  config: { readonly proxyDirectory?: 'production' | 'staging' },
): CertificateRequestInput {
  const hostname = proxy.proxy_hostname.toLowerCase()
  return {
    cert_name: proxy.cert_name ?? hostname,
    domains: [hostname],
    email: proxy.cert_email ?? null,
    acme_directory_url: proxy.acme_directory_url ?? null,
    staging: proxy.staging ?? (config.proxyDirectory ?? 'staging') === 'staging',
  }
}

/**
 * Names no public CA can validate, so they are never ordered on their own: IP literals and, by RFC 6761 §6.3,
 * `localhost` and `*.localhost` (always loopback). They keep their self-signed certificate.
 */
export function isLocalOnlyName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  return isIP(name.replace(/^\[|\]$/g, '')) !== 0 || name === 'localhost' || name.endsWith('.localhost')
}
