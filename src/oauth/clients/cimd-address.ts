/**
 * @module Which addresses a client ID metadata document may be fetched from: public unicast only.
 * Loopback, private (RFC 1918, RFC 4193 ULA), link-local, CGNAT, multicast, documentation, benchmarking
 * and reserved ranges are refused, so a client_id URL cannot make this server probe its own network
 * (SSRF). IPv4-mapped and NAT64 IPv6 forms are refused as a whole rather than unwrapped.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { cidrContains, parseCidr, type Cidr } from '../../lib/index.ts'

/** RFC 6890 special-purpose registries (IPv4 and IPv6), the parts that are not globally reachable. */
const BLOCKED = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24',
  '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
  '::/128', '::1/128', '::ffff:0:0/96', '64:ff9b::/96', '64:ff9b:1::/48', '100::/64', '2001::/23', '2001:db8::/32', '2002::/16',
  'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8',
].map((text) => parseCidr(text) as Cidr)

/** True for an address a metadata document must not come from. Unparseable counts as blocked. */
export function isBlockedAddress(address: string): boolean {
  const cidrs = BLOCKED.filter((cidr) => cidrContains(cidr, address))
  // cidrContains unwraps "::ffff:a.b.c.d" for IPv4 ranges, so a mapped private address is caught either way.
  return cidrs.length > 0 || parseCidr(address) === null
}

/** One name lookup: every address the name has (node:dns lookup with all: true). Injectable for tests. */
export type LookupAddresses = (hostname: string) => Promise<readonly { readonly address: string }[]>

export const systemLookup: LookupAddresses = (hostname) => lookup(hostname, { all: true, verbatim: true })

export type PinnedAddress =
  | { readonly ok: true; readonly address: string }
  | { readonly ok: false; readonly reason: 'unresolvable' | 'private_address'; readonly detail: string }

/**
 * The one address a metadata document is fetched from. The name is resolved once, here: every address
 * it has must be public (unless allowPrivate), and the fetch then connects to the first of them, never
 * resolving again. Resolving twice (once to check, once to connect) would let a name that answers a
 * public address first and a private one second (DNS rebinding) reach this server's own network.
 * An IP literal needs no lookup. `hostname` is a URL's hostname (an IPv6 literal in brackets).
 */
export async function pinAddress(hostname: string, options: { readonly lookup: LookupAddresses; readonly allowPrivate: boolean }): Promise<PinnedAddress> {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  let addresses: readonly { readonly address: string }[]
  if (isIP(host) !== 0) addresses = [{ address: host }]
  else {
    try {
      addresses = await options.lookup(host)
    } catch (error) {
      return { ok: false, reason: 'unresolvable', detail: `cannot resolve ${host}: ${(error as Error).message}` }
    }
  }
  const first = addresses[0]
  if (first === undefined) return { ok: false, reason: 'unresolvable', detail: `${host} has no address` }
  if (!options.allowPrivate) {
    // Every address, not only the one used: a name that has any private address is refused as a whole.
    const blocked = addresses.find(({ address }) => isBlockedAddress(address))
    if (blocked) return { ok: false, reason: 'private_address', detail: `${host} resolves to the non-public address ${blocked.address}` }
  }
  return { ok: true, address: first.address }
}
