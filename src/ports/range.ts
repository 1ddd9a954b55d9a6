/**
 * @module Port ranges and the preferred port of a hostname. The preferred port is where probing for
 * a free port starts; it comes from a fixed hash so that every node, process and release computes the
 * same one, and a hostname usually lands on the same port even on a fresh store.
 */

export type PortKind = 'http' | 'https'

export const PORT_KINDS: readonly PortKind[] = ['http', 'https']

/** An inclusive range of TCP ports. */
export interface PortRange {
  readonly first: number
  readonly last: number
}

export type PortRanges = { readonly [K in PortKind]: PortRange }

export const DEFAULT_PORT_RANGES: PortRanges = Object.freeze({
  http: Object.freeze({ first: 12_000, last: 12_999 }),
  https: Object.freeze({ first: 13_000, last: 13_999 }),
})

export const rangeSize = (range: PortRange): number => range.last - range.first + 1

export const isInRange = (port: number, range: PortRange): boolean => Number.isInteger(port) && port >= range.first && port <= range.last

const FNV_OFFSET_BASIS_32 = 0x811c9dc5
const FNV_PRIME_32 = 0x01000193

/**
 * FNV-1a, 32-bit, over the UTF-8 octets of the lower-cased hostname.
 * @see https://datatracker.ietf.org/doc/html/draft-eastlake-fnv#section-2
 * Changing this moves every hostname's preferred port: treat it as part of the storage format.
 */
function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS_32
  for (const octet of new TextEncoder().encode(text)) hash = Math.imul(hash ^ octet, FNV_PRIME_32) >>> 0
  return hash
}

/** first + FNV-1a(lower-cased hostname) mod the range's size: the same in every process and version. */
export function preferredPort(hostname: string, range: PortRange): number {
  return range.first + (fnv1a32(hostname.toLowerCase()) % rangeSize(range))
}

/**
 * Rejects ranges that are not whole TCP ports, are empty, or overlap: the kinds share one loopback
 * address, so an http and an https port may never coincide.
 */
export function validateRanges(ranges: PortRanges): void {
  for (const kind of PORT_KINDS) {
    const { first, last } = ranges[kind]
    const isPort = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65_535
    if (!isPort(first) || !isPort(last) || first > last) throw new RangeError(`invalid ${kind} port range ${first}-${last}`)
  }
  const { http, https } = ranges
  if (http.first <= https.last && https.first <= http.last) {
    throw new RangeError(`http ports ${http.first}-${http.last} overlap https ports ${https.first}-${https.last}`)
  }
}
