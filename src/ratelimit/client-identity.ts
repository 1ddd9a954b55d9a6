/**
 * @module Whom a per-address limit counts: an IPv4 client by its address, an IPv6 client by its /64.
 * One IPv6 subscriber (a home, a VM) routinely holds a whole /64 (RFC 4291 §2.5.4: interface ids are
 * 64 bits, and SLAAC privacy addresses rotate within the prefix, RFC 8981), so counting single IPv6
 * addresses would give one client 2^64 buckets.
 */
import { isIP } from 'node:net'

/**
 * The identity a per-address limit keys on: the address as given for IPv4 (a mapped ::ffff:a.b.c.d
 * must already be normalised by the caller), `xxxx:xxxx:xxxx:xxxx::/64` for IPv6, and the text
 * unchanged when it is no address at all (the caller's own identities, tests).
 */
export function addressIdentity(address: string): string {
  if (!address.includes(':')) return address
  const zoneAt = address.indexOf('%')
  const bare = zoneAt === -1 ? address : address.slice(0, zoneAt)
  if (isIP(bare) !== 6) return address
  const groups = expandedGroups(bare)
  return `${groups.slice(0, 4).join(':')}::/64`
}

/** The eight groups of a valid IPv6 address, lower-case without leading zeros; an embedded IPv4 tail becomes two groups. */
function expandedGroups(address: string): string[] {
  const [head = '', tail] = address.split('::')
  const split = (part: string) => (part === '' ? [] : part.split(':').flatMap(groupsOf))
  const headGroups = split(head)
  const tailGroups = tail === undefined ? [] : split(tail)
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0')
  return [...headGroups, ...zeros, ...tailGroups]
}

function groupsOf(group: string): string[] {
  if (!group.includes('.')) return [Number.parseInt(group, 16).toString(16)]
  const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number)
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
}
