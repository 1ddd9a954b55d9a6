/** @module Client addresses as the edge reports them (X-Forwarded-For, Forwarded, CIDR checks, logs). */

const IPV4_MAPPED = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i

/**
 * A dual-stack listener (`::`) reports IPv4 clients as IPv4-mapped IPv6 addresses (RFC 4291 §2.5.5.2,
 * `::ffff:192.0.2.1`); they are IPv4 clients and are written as such. Everything else is unchanged.
 */
export function normalizeClientAddress(address: string): string {
  const mapped = IPV4_MAPPED.exec(address)
  return mapped ? mapped[1]! : address
}
