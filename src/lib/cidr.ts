/** @module IPv4/IPv6 CIDR parsing and matching, for trusted-peer lists (PROXY protocol, load balancers). */
import { isIP } from 'node:net'

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

export function cidrContains(cidr: Cidr, address: string): boolean {
  let family = isIP(address)
  // An IPv4 client seen on a dual-stack socket arrives as ::ffff:a.b.c.d.
  if (family === 6 && cidr.family === 4 && address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4) {
    address = address.slice(7)
    family = 4
  }
  if (family !== cidr.family) return false
  const width = BigInt(family === 4 ? 32 : 128)
  const shift = width - BigInt(cidr.prefixLength)
  return addressBits(address, family) >> shift === cidr.bits >> shift
}

function addressBits(address: string, family: 4 | 6): bigint {
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
