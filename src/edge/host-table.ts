/**
 * @module The listeners' routing table: hostname → the proxy serving it and its instance's loopback
 * ports. Exact names first, then the "*.parent" wildcard (one label, RFC 6125 §6.4.3). Read on every
 * new connection, so it is a plain Map lookup.
 */
import { wildcardParent } from '../targets/index.ts'

/** Where a connection for a hostname goes: the proxy (its own name, or the wildcard's) and its instance's port. */
export interface Route {
  readonly proxyHostname: string
  readonly port: number
}

interface Entry {
  http?: Route
  https?: Route
}

export interface HostTable {
  lookup(hostname: string, kind: 'http' | 'https'): Route | undefined
  set(hostname: string, kind: 'http' | 'https', port: number | undefined): void
  delete(hostname: string): void
  size(): number
}

export function createHostTable(): HostTable {
  const entries = new Map<string, Entry>()
  return {
    lookup(hostname, kind) {
      const exact = entries.get(hostname)?.[kind]
      if (exact !== undefined) return exact
      const wildcard = wildcardParent(hostname)
      return wildcard ? entries.get(wildcard)?.[kind] : undefined
    },
    set(hostname, kind, port) {
      const entry = entries.get(hostname) ?? {}
      entry[kind] = port === undefined ? undefined : { proxyHostname: hostname, port }
      if (entry.http === undefined && entry.https === undefined) entries.delete(hostname)
      else entries.set(hostname, entry)
    },
    delete: (hostname) => void entries.delete(hostname),
    size: () => entries.size,
  }
}
