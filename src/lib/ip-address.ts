/** @module IP address text: the 128-bit value of an address, and IPv4-mapped IPv6 back to plain IPv4. */
import { isIP } from 'node:net'

/**
 * An IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2, `::ffff:a.b.c.d` in any spelling and case) becomes
 * `a.b.c.d`; anything else, including text that is no address, comes back unchanged. A dual-stack listener
 * reports its IPv4 clients in the mapped form, and logs, X-Forwarded-For, Forwarded and CIDR checks must
 * see the address the client really has.
 */
export function normalizeClientAddress(address: string): string {
  // Called per connection: IPv4, and IPv6 without an ffff group, cannot be mapped and cost one scan.
  if (!address.includes(':') || !/ffff/i.test(address)) return address
  // The spelling sockets and PROXY headers use.
  if (/^::ffff:/i.test(address) && isIP(address.slice(7)) === 4) return address.slice(7)
  // A zone index (fe80::1%eth0) belongs to link-local addresses, never to a mapped one.
  if (isIP(address) !== 6 || address.includes('%')) return address
  const bits = addressBits(address, 6)
  // The top 80 bits zero, then 16 ones, then the IPv4 address.
  if (bits >> 32n !== 0xffffn) return address
  return [24n, 16n, 8n, 0n].map((shift) => (bits >> shift) & 0xffn).join('.')
}

/** The address as a number (32 or 128 bits). `address` must already be valid for `family` (isIP). */
export function addressBits(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n)
  const [head = '', tail] = address.split('::')
  let groups = head ? head.split(':') : []
  let tailGroups = tail ? tail.split(':') : []
  const expand = (list: string[]) =>
    list.flatMap((group) => {
      if (!group.includes('.')) return [group]
      const v4 = addressBits(group, 4)
      return [(v4 >> 16n).toString(16), (v4 & 0xffffn).toString(16)]
    })
  groups = expand(groups)
  tailGroups = expand(tailGroups)
  const all = tail === undefined ? groups : [...groups, ...Array(8 - groups.length - tailGroups.length).fill('0'), ...tailGroups]
  return all.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group || '0', 16)), 0n)
}
