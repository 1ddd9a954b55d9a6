/**
 * @module Which addresses a client ID metadata document may be fetched from: public unicast only.
 * Loopback, private (RFC 1918, RFC 4193 ULA), link-local, CGNAT, multicast, documentation, benchmarking
 * and reserved ranges are refused, so a client_id URL cannot make this server probe its own network
 * (SSRF). IPv4-mapped and NAT64 IPv6 forms are refused as a whole rather than unwrapped.
 */
import { lookup } from 'node:dns/promises'
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

/** Every address the host resolves to; refused when any one is blocked (a name may resolve differently next time). */
export async function checkHost(hostname: string): Promise<{ ok: true } | { ok: false; detail: string }> {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  let addresses: { address: string }[]
  try {
    addresses = await lookup(host, { all: true, verbatim: true })
  } catch (error) {
    return { ok: false, detail: `cannot resolve ${host}: ${(error as Error).message}` }
  }
  if (addresses.length === 0) return { ok: false, detail: `${host} has no address` }
  const blocked = addresses.find(({ address }) => isBlockedAddress(address))
  return blocked ? { ok: false, detail: `${host} resolves to the non-public address ${blocked.address}` } : { ok: true }
}
