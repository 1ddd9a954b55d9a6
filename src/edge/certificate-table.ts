/**
 * @module Which certificate the TLS terminator serves for each HTTPS proxy: the issued ACME certificate
 * of its name (cert_name, or its hostname) when there is one that covers the hostname, else the
 * self-signed one. Kept current by proxy events and by certificate_ready / certificate_deleted, and
 * checked again by the reconcile; a certificate is installed only when it changed, in place, so the
 * next handshake gets it and open connections keep theirs.
 */
import type { Logger } from '../lib/index.ts'
import type { ProxyTarget } from '../targets/index.ts'
import type { CertificateSource } from './instances.ts'
import type { CertificatePem } from './instances.ts'

/** The ACME side, as the edge needs it (certs/ CertificateManager). */
export interface AcmeCertificates {
  servedFor(name: string, hostname: string): Promise<(CertificatePem & { readonly version: string }) | null>
  ensureForProxy(proxy: ProxyTarget): Promise<void>
}

export interface TlsTable {
  setCertificate(serverName: string, certificate: CertificatePem): void
  removeCertificate(serverName: string): void
}

export interface CertificateTable {
  /** Installs the right certificate for an HTTPS proxy (and asks for an order if it has none); removes it otherwise. */
  sync(target: ProxyTarget | null, hostname: string): Promise<void>
  /**
   * Syncs several proxies at once (the names of one certificate): every one is resolved first, then all
   * are installed in the same tick, so that no handshake between two installs gets the new certificate
   * for one name and the old one for the next.
   */
  syncTogether(proxies: ReadonlyArray<{ target: ProxyTarget | null; hostname: string }>): Promise<void>
  /** The proxies that serve this certificate name (for certificate events). */
  hostnamesUsing(certName: string): string[]
}

export function createCertificateTable(deps: { tls: TlsTable; selfSigned: CertificateSource; acme: AcmeCertificates | null; logger: Logger }): CertificateTable {
  /** hostname → the name it serves and the version installed. */
  const installed = new Map<string, { name: string; version: string }>()

  /** Resolves what to serve for a proxy; the function it gives installs that, synchronously. */
  const plan = async (target: ProxyTarget | null, hostname: string) => {
    if (!target || !target.enable_https) {
      return () => {
        if (installed.delete(hostname)) deps.tls.removeCertificate(hostname)
      }
    }
    const name = target.cert_name ?? hostname
    if (deps.acme) {
      // Ordering is the manager's business (one node per name, backoff); it must never hold up serving.
      deps.acme.ensureForProxy(target).catch((error) => deps.logger.warn('certificate order not started', { name, error: String(error) }))
    }
    const issued = deps.acme ? await deps.acme.servedFor(name, hostname) : null
    const certificate = issued ?? (await deps.selfSigned(target))
    const version = `${issued ? 'acme' : 'self'}:${certificate.version}`
    return () => {
      if (installed.get(hostname)?.version === version) return
      deps.tls.setCertificate(hostname, certificate)
      installed.set(hostname, { name, version })
    }
  }

  return {
    async sync(target, hostname) {
      ;(await plan(target, hostname))()
    },
    async syncTogether(proxies) {
      const installs = await Promise.all(proxies.map(({ target, hostname }) => plan(target, hostname)))
      for (const install of installs) install()
    },
    hostnamesUsing(certName) {
      return [...installed].filter(([, entry]) => entry.name === certName).map(([hostname]) => hostname)
    },
  }
}
