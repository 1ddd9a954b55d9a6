/**
 * @module Whom a per-address limit counts: an IPv4 client by its address, an IPv6 client by its /64.
 * One IPv6 subscriber (a home, a VM) routinely holds a whole /64 (RFC 4291 §2.5.4: interface ids are
 * 64 bits, and SLAAC privacy addresses rotate within the prefix, RFC 8981), so counting single IPv6
 * addresses would give one client 2^64 buckets.
 */
import { ipv6Subscriber } from '../lib/index.ts'

/**
 * The identity a per-address limit keys on: the address as given for IPv4 (a mapped ::ffff:a.b.c.d
 * must already be normalised by the caller), `xxxx:xxxx:xxxx:xxxx::/64` for IPv6, and the text
 * unchanged when it is no address at all (the caller's own identities, tests).
 */
export function addressIdentity(address: string): string {
  return ipv6Subscriber(address) ?? address
}
