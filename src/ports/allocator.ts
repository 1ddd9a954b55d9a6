/**
 * @module Persistent, atomic loopback port allocation for the per-hostname proxy instances. Each
 * hostname gets one http and one https port that stay the same across calls, restarts and nodes.
 *
 * Two documents per port: the claim (claims.ts) makes a port exclusive across every node; the
 * hostname's assignment `ports/host/<hostname>` records which claims are its own and is changed only
 * by compare-and-set. Claims are always written before the assignment that points at them and freed
 * after it, so a crash can leak a claim (adopted when the hostname returns) but can never leave an
 * assignment pointing at a port another hostname may take.
 */
import * as v from 'valibot'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'
import { claimPort, freeClaim, freeClaimOf, tryClaim, type Claim } from './claims.ts'
import { isInRange, PORT_KINDS, validateRanges, type PortKind, type PortRange, type PortRanges } from './range.ts'

const PortSchema = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65_535))
const AssignmentSchema = v.strictObject({ http: v.optional(PortSchema), https: v.optional(PortSchema) })

export interface PortAssignment {
  readonly hostname: string
  readonly http?: number
  readonly https?: number
}

/**
 * Hostnames are case-insensitive (RFC 4343), so every method lower-cases them first. Safe for
 * concurrent use from any number of allocators sharing a backing store. release must not race
 * portFor for the same hostname (it runs after the hostname's proxy is deleted); if it does, the port
 * portFor returned may already be free, and the hostname's next portFor repairs its assignment.
 */
export interface PortAllocator {
  /** The hostname's port of this kind: the same one on every call and after restarts; allocates on first use. Throws PortsExhaustedError when the range is full. */
  portFor(hostname: string, kind: PortKind): Promise<number>
  /** Frees both of the hostname's ports (after its proxy is deleted). */
  release(hostname: string): Promise<void>
  /** The current assignments, for the /ports API. */
  list(): Promise<PortAssignment[]>
}

/** Every port of the kind's range is held by another hostname. */
export class PortsExhaustedError extends Error {
  constructor(
    readonly kind: PortKind,
    readonly range: PortRange,
  ) {
    super(`no free ${kind} port in ${range.first}-${range.last}`)
    this.name = 'PortsExhaustedError'
  }
}

/**
 * Each compare-and-set conflict means another writer changed this hostname's assignment and made
 * progress; only a storm of writers for one hostname could use these up.
 */
const MAX_CONFLICTS = 100

export function createPortAllocator(store: Store, ranges: PortRanges): PortAllocator {
  validateRanges(ranges)
  const assignments = createCollection(store, COLLECTIONS.portAssignments, AssignmentSchema)
  const gaveUp = (host: string) => new Error(`the port assignment of ${host} kept changing under concurrent writers`)

  async function portFor(hostname: string, kind: PortKind): Promise<number> {
    const host = hostname.toLowerCase()
    const range = ranges[kind]
    let claim: Claim | null = null
    // One exit: a port is returned only after its claim was seen naming this hostname, and the
    // assignment already records it.
    for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
      const current = await assignments.get(host)
      const assigned = current?.value[kind]
      // A port outside the range is left from an older configuration; it is replaced below.
      if (assigned !== undefined && isInRange(assigned, range)) {
        if (await tryClaim(store, host, kind, assigned)) {
          // A concurrent call for this hostname assigned its port first: ours is surplus.
          if (claim && claim.port !== assigned) await freeClaim(store, kind, claim)
          return assigned
        }
        // Another hostname holds it (only after release raced portFor): allocate afresh.
        if (claim?.port === assigned) claim = null
      }
      claim ??= await claimPort(store, host, kind, range)
      if (!claim) throw new PortsExhaustedError(kind, range)
      const next = { ...current?.value, [kind]: claim.port }
      const written = current
        ? await assignments.put(host, next, { ifVersion: current.version })
        : await assignments.put(host, next, { ifAbsent: true })
      // Freed only once the new assignment no longer points at it.
      if (written !== null && assigned !== undefined && assigned !== claim.port) await freeClaimOf(store, host, kind, assigned)
    }
    throw gaveUp(host)
  }

  async function release(hostname: string): Promise<void> {
    const host = hostname.toLowerCase()
    for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
      const current = await assignments.get(host)
      if (!current) return
      // The assignment goes first, so no moment exists where it points at a port already free.
      if (!(await assignments.del(host, { ifVersion: current.version }))) continue
      for (const kind of PORT_KINDS) {
        const port = current.value[kind]
        if (port !== undefined) await freeClaimOf(store, host, kind, port)
      }
      return
    }
    throw gaveUp(host)
  }

  async function list(): Promise<PortAssignment[]> {
    return (await assignments.list()).map(({ id, value }) => ({ hostname: id, ...value }))
  }

  return { portFor, release, list }
}
