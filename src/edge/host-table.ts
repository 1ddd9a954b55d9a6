/**
 * @module The dispatcher's routing table: hostname → loopback ports of its instance. Exact names first,
 * then the "*.parent" wildcard (one label, RFC 6125 §6.4.3). Read on every new connection, so it is a
 * plain Map lookup.
 */
import { wildcardParent } from '../targets/index.ts'

export interface InstancePorts {
  http?: number
  https?: number
}

export interface HostTable {
  lookup(hostname: string, kind: 'http' | 'https'): number | undefined
  set(hostname: string, kind: 'http' | 'https', port: number | undefined): void
  delete(hostname: string): void
  size(): number
}

export function createHostTable(): HostTable {
  const entries = new Map<string, InstancePorts>()
  return {
    lookup(hostname, kind) {
      const exact = entries.get(hostname)?.[kind]
      if (exact !== undefined) return exact
      const wildcard = wildcardParent(hostname)
      return wildcard ? entries.get(wildcard)?.[kind] : undefined
    },
    set(hostname, kind, port) {
      const entry = entries.get(hostname) ?? {}
      entry[kind] = port
      if (entry.http === undefined && entry.https === undefined) entries.delete(hostname)
      else entries.set(hostname, entry)
    },
    delete: (hostname) => void entries.delete(hostname),
    size: () => entries.size,
  }
}
