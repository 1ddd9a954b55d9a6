/**
 * @module Proxy hostnames: RFC 1123 host names, lower-cased, with an optional leftmost "*." wildcard
 * (RFC 6125 §6.4.3: the wildcard stands for exactly one label).
 */
import * as v from 'valibot'

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/

export function isValidHostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split('.')
  const [first, ...rest] = labels
  if (first === '*') return rest.length >= 2 && rest.every((label) => LABEL.test(label))
  return labels.every((label) => LABEL.test(label))
}

export const HostnameSchema = v.pipe(
  v.string('expected a host name'),
  v.trim(),
  v.toLowerCase(),
  v.check(isValidHostname, 'expected a host name (RFC 1123 labels; a wildcard only as a leftmost "*.")'),
)

/** The wildcard that would serve a name: "a.b.example.com" → "*.b.example.com"; null for a single label. */
export function wildcardParent(hostname: string): string | null {
  const dot = hostname.indexOf('.')
  return dot > 0 && hostname.indexOf('.', dot + 1) > 0 ? `*${hostname.slice(dot)}` : null
}
