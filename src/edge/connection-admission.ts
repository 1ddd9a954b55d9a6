/**
 * @module Which public connections are let in under the connection caps (connection-caps.ts): the
 * places a connection holds, taking and giving them back, and the log line for a refusal (at most one
 * a minute: a flood must not become a flood of log lines). Closing a refused socket is the caller's.
 */
import type { Logger } from '../lib/index.ts'
import { createConnectionCaps, type ConnectionLimits, type RefusalReason } from './connection-caps.ts'

/** The places one connection holds under the caps. */
export interface HeldPlaces {
  /** It holds a place under the global connection cap (a public connection that was admitted). */
  holdsGlobalPlace: boolean
  /** The key of the place it holds under its client address's cap, or null. */
  addressPlace: string | null
}

/** Refusals are logged at most this often. */
const REFUSAL_LOG_INTERVAL_MS = 60_000

export type ConnectionAdmission = ReturnType<typeof createConnectionAdmission>

export function createConnectionAdmission(limits: ConnectionLimits, logger: Logger) {
  const caps = createConnectionCaps(limits)
  let refusalLoggedAtMs = -Infinity

  const logRefusal = (reason: RefusalReason, address: string) => {
    const nowMs = Date.now()
    if (nowMs - refusalLoggedAtMs < REFUSAL_LOG_INTERVAL_MS) return
    refusalLoggedAtMs = nowMs
    logger.warn('connection refused: over a connection cap (logged once a minute; ohp_connections_refused_total counts them all)', { reason, address, refused_global: caps.refused().global, refused_per_address: caps.refused().per_address })
  }

  return {
    /** A place under the cap of this client's address, for a connection not yet holding one; false once refused. */
    admitAddress(places: HeldPlaces, address: string): boolean {
      const key = caps.takeAddress(address)
      if (key === null) {
        logRefusal('per_address', address)
        return false
      }
      places.addressPlace = key
      return true
    },
    /** A place under the global cap; false once refused. */
    admitGlobal(places: HeldPlaces, address: string): boolean {
      if (!caps.takeGlobal()) {
        logRefusal('global', address)
        return false
      }
      places.holdsGlobalPlace = true
      return true
    },
    /** Gives back the places a connection held; safe to call more than once. */
    release(places: HeldPlaces | undefined) {
      if (!places) return
      if (places.holdsGlobalPlace) caps.releaseGlobal()
      if (places.addressPlace !== null) caps.releaseAddress(places.addressPlace)
      places.holdsGlobalPlace = false
      places.addressPlace = null
    },
    /** Connections refused over a cap since start, by reason (ohp_connections_refused_total). */
    refused: () => caps.refused(),
    /** Places held under the caps (tests check that every one is given back). */
    held: () => caps.held(),
  }
}
