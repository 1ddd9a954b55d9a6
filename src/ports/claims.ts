/**
 * @module Port claims: the store document `ports/claim/<kind>/<port>` names the one hostname that
 * holds a port. It is created with ifAbsent, so of any number of nodes and processes racing for a
 * port exactly one hostname gets it; this is the only thing that makes ports exclusive.
 */
import { keys, type Store } from '../store/index.ts'
import { preferredPort, rangeSize, type PortKind, type PortRange } from './range.ts'

export interface Claim {
  readonly port: number
  /** The claim document's version, so freeing it cannot remove a later holder's claim. */
  readonly version: number
}

/**
 * Holds the port for hostname: claims it when free, or adopts a claim that already names hostname
 * (a concurrent call for the same hostname, or a crash between claiming and assigning). Returns null
 * when another hostname holds it.
 */
export async function tryClaim(store: Store, hostname: string, kind: PortKind, port: number): Promise<Claim | null> {
  const key = keys.portClaim(kind, port)
  // Read first: while probing a crowded range most ports are taken, and a read settles those in one call.
  // A claim can vanish between a failed write and the read (its holder freed it), hence the loop.
  for (;;) {
    const holder = await store.get(key)
    if (holder) return holder.value === hostname ? { port, version: holder.version } : null
    const version = await store.put(key, hostname, { ifAbsent: true })
    if (version !== null) return { port, version }
  }
}

/**
 * Linear probing from the hostname's preferred port, wrapping around the range. Returns null when
 * every port of the range is held by other hostnames.
 */
export async function claimPort(store: Store, hostname: string, kind: PortKind, range: PortRange): Promise<Claim | null> {
  const size = rangeSize(range)
  const offset = preferredPort(hostname, range) - range.first
  for (let step = 0; step < size; step++) {
    const claim = await tryClaim(store, hostname, kind, range.first + ((offset + step) % size))
    if (claim) return claim
  }
  return null
}

/** Frees a claim this caller holds; a claim that was freed and re-created since is left alone. */
export async function freeClaim(store: Store, kind: PortKind, claim: Claim): Promise<void> {
  await store.del(keys.portClaim(kind, claim.port), { ifVersion: claim.version })
}

/** Frees the port's claim if it still names hostname. */
export async function freeClaimOf(store: Store, hostname: string, kind: PortKind, port: number): Promise<void> {
  const key = keys.portClaim(kind, port)
  const holder = await store.get(key)
  if (holder?.value === hostname) await store.del(key, { ifVersion: holder.version })
}
