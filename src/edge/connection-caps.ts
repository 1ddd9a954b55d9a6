/**
 * @module How many client connections the public listeners hold open: at most `maxConnections` in all,
 * and at most `maxConnectionsPerAddress` from one client address. A connection over a cap is refused
 * when it arrives (the listener closes it at once) and counted by reason; connections already open are
 * never dropped to make room. Plain counters, O(1) per connection.
 *
 * An IPv6 client is counted by its /64: RFC 4291 §2.5.4 gives one subnet (and so, in practice, one host
 * or household) 64 bits of interface identifiers, which a single client can rotate through at will.
 */
import { ipv6Subscriber } from '../lib/index.ts'

export interface ConnectionLimits {
  readonly maxConnections: number
  readonly maxConnectionsPerAddress: number
}

/** Why a connection was refused: the whole listener is full, or its client's address is. */
export type RefusalReason = 'global' | 'per_address'
export const REFUSAL_REASONS: readonly RefusalReason[] = ['global', 'per_address']

export interface ConnectionCaps {
  /** Takes a place in the global count; false (and counted as refused) when it is full. */
  takeGlobal(): boolean
  releaseGlobal(): void
  /** Takes a place for this client's address; the key to release it with, or null (counted as refused) when it is full. */
  takeAddress(address: string): string | null
  releaseAddress(key: string): void
  /** Connections refused since start, by reason. */
  refused(): Readonly<Record<RefusalReason, number>>
  /** Places held: in all, and by the addresses holding any (for tests and leak checks). */
  held(): { readonly total: number; readonly addresses: number }
}

export function createConnectionCaps(limits: ConnectionLimits): ConnectionCaps {
  let total = 0
  const byAddress = new Map<string, number>()
  const refused: Record<RefusalReason, number> = { global: 0, per_address: 0 }
  return {
    takeGlobal() {
      if (total >= limits.maxConnections) {
        refused.global++
        return false
      }
      total++
      return true
    },
    releaseGlobal() {
      if (total > 0) total--
    },
    takeAddress(address) {
      const key = addressKey(address)
      const count = byAddress.get(key) ?? 0
      if (count >= limits.maxConnectionsPerAddress) {
        refused.per_address++
        return null
      }
      byAddress.set(key, count + 1)
      return key
    },
    releaseAddress(key) {
      const count = byAddress.get(key) ?? 0
      // Deleted at zero: the map holds only addresses with open connections, however many have come and gone.
      if (count <= 1) byAddress.delete(key)
      else byAddress.set(key, count - 1)
    },
    refused: () => ({ ...refused }),
    held: () => ({ total, addresses: byAddress.size }),
  }
}

/** What a client's connections are counted under: an IPv4 address itself, an IPv6 address's /64 prefix. */
export function addressKey(address: string): string {
  return ipv6Subscriber(address) ?? address
}
