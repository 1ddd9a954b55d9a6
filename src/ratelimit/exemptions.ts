/** @module RATE_LIMIT_EXEMPT: the addresses no rate limit applies to (the host itself by default; monitoring, a trusted office). */
import { cidrContains, parseCidr, type Cidr } from '../lib/index.ts'

/** Whether an address is in one of the CIDRs (given as text, already validated by config/). */
export function createExemptions(cidrs: readonly string[]): (address: string) => boolean {
  const parsed = cidrs.map(parseCidr).filter((cidr): cidr is Cidr => cidr !== null)
  if (parsed.length === 0) return () => false
  return (address) => parsed.some((cidr) => cidrContains(cidr, address))
}
