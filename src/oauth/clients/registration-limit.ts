/**
 * @module Registrations per client address per hour (RFC 7591 §5: an open registration endpoint needs
 * abuse limits). One counter document per address and clock hour, counted by compare-and-set in the
 * store, so every node on one Redis (or every process on one SQLite file) shares the count. Every
 * request to POST /register counts, refused or not, and is counted before its body is read: what
 * is bounded is the work and the storage one address can cause, not only the clients it gets.
 *
 * An IPv6 client counts by its /64, which a single host can rotate through at will.
 */
import { isIP } from 'node:net'
import type { Clock } from '../../lib/index.ts'
import { ipv6Subscriber, normalizeClientAddress } from '../../lib/index.ts'
import { keys, type Store } from '../../store/index.ts'

const HOUR_MS = 3_600_000
/** The counter outlives its hour a little, so a node whose clock runs behind still finds it. */
const COUNTER_MARGIN_MS = 60_000
/** Racing registrations from one address retry their increment this often, then are refused (the address is the one racing). */
const MAX_INCREMENT_ATTEMPTS = 10
/** Callers whose address is unknown (an in-process call without one) share one counter. */
const UNKNOWN_ADDRESS = 'unknown'

export type RegistrationAdmission = { readonly ok: true } | { readonly ok: false; readonly limit: number; readonly retryAfterSec: number }

export interface RegistrationLimiter {
  /** Counts one registration request from this address; refused once the hour's count is over the limit. */
  admit(address: string | null): Promise<RegistrationAdmission>
}

/** The counter's name for an address: IPv4 as it is, IPv6 by its /64 prefix, anything else as "unknown". */
export function addressBucket(address: string | null): string {
  if (address === null) return UNKNOWN_ADDRESS
  const normalized = normalizeClientAddress(address)
  if (isIP(normalized) === 4) return normalized
  return ipv6Subscriber(normalized) ?? UNKNOWN_ADDRESS
}

/** perHour 0 turns the limit off. */
export function createRegistrationLimiter(store: Store, clock: Clock, perHour: number): RegistrationLimiter {
  return {
    async admit(address) {
      if (perHour === 0) return { ok: true }
      const nowMs = clock.nowMs()
      const hour = Math.floor(nowMs / HOUR_MS)
      const hourEndMs = (hour + 1) * HOUR_MS
      const retryAfterSec = Math.max(1, Math.ceil((hourEndMs - nowMs) / 1000))
      const key = keys.registrationCount(addressBucket(address), hour)
      const ttlMs = hourEndMs - nowMs + COUNTER_MARGIN_MS
      for (let attempt = 0; attempt < MAX_INCREMENT_ATTEMPTS; attempt++) {
        const current = await store.get(key)
        if (current === null) {
          if ((await store.put(key, '1', { ifAbsent: true, ttlMs })) !== null) return { ok: true }
          continue
        }
        const count = Number(current.value)
        // Over the limit nothing is written: a flood of refused requests costs one read each.
        if (!(count < perHour)) return { ok: false, limit: perHour, retryAfterSec }
        if ((await store.put(key, String(count + 1), { ifVersion: current.version, ttlMs })) !== null) return { ok: true }
      }
      return { ok: false, limit: perHour, retryAfterSec }
    },
  }
}
