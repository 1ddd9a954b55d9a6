/**
 * @module The one host normaliser (RFC 9110 §7.2, RFC 3986 §3.2.2): what a Host field, an SNI name or an
 * absolute-form authority names, as the proxy table is keyed. Every path that routes a request calls
 * this, so the relay, the hand-over server and the listeners can never disagree about a host.
 */

/**
 * Lower-cased, without the port, without one trailing dot ("example.com." is the same name, RFC 1034
 * §3.1); an IPv6 literal keeps its brackets. Validation is the parsers' job: this never throws.
 */
export function normalizeHost(host: string): string {
  let lower = host
  for (let i = 0; i < host.length; i++) {
    const code = host.charCodeAt(i)
    if (code >= 0x41 && code <= 0x5a) {
      lower = host.toLowerCase()
      break
    }
  }
  if (lower.charCodeAt(0) === 0x5b /* [ */) return lower.slice(0, lower.indexOf(']') + 1)
  const colon = lower.lastIndexOf(':')
  const name = colon === -1 ? lower : lower.slice(0, colon)
  return name.charCodeAt(name.length - 1) === 0x2e /* . */ ? name.slice(0, -1) : name
}
