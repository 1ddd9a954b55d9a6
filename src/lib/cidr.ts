/** @module IPv4/IPv6 CIDR parsing and matching, for trusted-peer lists (PROXY protocol, load balancers). */
import { isIP } from 'node:net'
import { addressBits, normalizeClientAddress } from './ip-address.ts'

export interface Cidr {
  readonly family: 4 | 6
  readonly bits: bigint
  readonly prefixLength: number
}

/** Parses "10.0.0.0/8", "::1/128" or a bare address (a /32 or /128). Returns null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const parts = text.trim().split('/')
  if (parts.length > 2) return null
  const [address = '', prefix] = parts
  const family = isIP(address)
  if (family !== 4 && family !== 6) return null
  const width = family === 4 ? 32 : 128
  const prefixLength = prefix === undefined ? width : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN
  if (!(prefixLength >= 0 && prefixLength <= width)) return null
  return { family, bits: addressBits(address, family), prefixLength }
}

/**
 * Families are kept apart, with one exception: an IPv4-mapped address (`::ffff:10.0.0.1`, how a
 * dual-stack socket shows an IPv4 client) also matches IPv4 ranges, as the client's IPv4 address. The
 * reverse does not hold: a plain IPv4 address never matches an IPv6 range, `::ffff:0:0/96` and `::/0`
 * included, so IPv4 ranges must be written in IPv4 form (10.0.0.0/8, not ::ffff:10.0.0.0/104).
 */
export function cidrContains(cidr: Cidr, address: string): boolean {
  if (cidr.family === 4) address = normalizeClientAddress(address)
  const family = isIP(address)
  if (family !== cidr.family) return false
  const width = BigInt(family === 4 ? 32 : 128)
  const shift = width - BigInt(cidr.prefixLength)
  return addressBits(address, family) >> shift === cidr.bits >> shift
}

/**
 * Whom a per-address count counts: an IPv6 address as its /64 (`2001:db8:a:b::/64`), since one
 * subscriber (a home, a VM) holds a whole /64 and chooses the low 64 bits at will (RFC 4291 §2.5.4,
 * SLAAC privacy addresses rotate within it, RFC 8981); null for anything that is not an IPv6 address.
 * A zone (`%eth0`) is ignored.
 */
export function ipv6Subscriber(address: string): string | null {
  if (!address.includes(':')) return null
  const zoneAt = address.indexOf('%')
  const cidr = parseCidr(`${zoneAt === -1 ? address : address.slice(0, zoneAt)}/64`)
  if (cidr === null || cidr.family !== 6) return null
  const prefix = cidr.bits >> 64n
  return `${[48n, 32n, 16n, 0n].map((shift) => ((prefix >> shift) & 0xffffn).toString(16)).join(':')}::/64`
}
