/**
 * @module Where the public listeners bind: LISTEN_ADDRESS when set; otherwise dual-stack `::`, which
 * takes IPv4 and IPv6 clients on one socket, or 0.0.0.0 on a host without IPv6 (some containers).
 */
import type { Logger } from '../lib/index.ts'

export const DUAL_STACK_ADDRESS = '::'
export const IPV4_ANY_ADDRESS = '0.0.0.0'

/** True when a TCP socket can be bound on `::`; the probe socket is closed before returning. */
export function canBindIpv6(): boolean {
  try {
    Bun.listen({ hostname: DUAL_STACK_ADDRESS, port: 0, socket: { data() {} } }).stop(true)
    return true
  } catch {
    return false
  }
}

/**
 * An address the operator gave is returned as given: if it cannot be bound, start-up says so, rather than
 * quietly serving on another address. Only the default falls back, with one log line. `hasIpv6` is for
 * tests, which cannot take IPv6 away from their host.
 */
export function resolveListenAddress(configured: string | undefined, logger: Logger, hasIpv6: () => boolean = canBindIpv6): string {
  if (configured !== undefined) return configured
  if (hasIpv6()) return DUAL_STACK_ADDRESS
  logger.info('this host has no IPv6: the public listeners bind 0.0.0.0 (IPv4 only); set LISTEN_ADDRESS to choose', { listen_address: IPV4_ANY_ADDRESS })
  return IPV4_ANY_ADDRESS
}
