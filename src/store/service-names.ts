/**
 * @module One namespace for every kind of service (#14): the claim `services/name/<name>` names the kind
 * (external or docker) that holds a service name, so `service://<name>` can never mean two things.
 * Written with `ifAbsent`, so of any number of nodes creating the same name, of either kind, exactly one
 * gets it. It lives here, below both services/ and docker/, because both must go through the same claim.
 */
import * as v from 'valibot'
import { randomToken, type Clock } from '../lib/index.ts'
import { COLLECTIONS, keys } from './keys.ts'
import { createCollection } from './collection.ts'
import type { Store } from './store.ts'

export type ServiceKind = 'external' | 'docker'

const KINDS: readonly ServiceKind[] = ['external', 'docker']
const DOCUMENTS: Readonly<Record<ServiceKind, string>> = { external: COLLECTIONS.externalServices, docker: COLLECTIONS.dockerServices }

/**
 * A claim newer than this may belong to a creation in flight (claim first, service document last), so it
 * is respected even though its service is not there yet. A Docker service's creation may pull or build an
 * image, hence its longer grace. An older claim whose service document is gone was left by a crash and is
 * taken over.
 */
const CLAIM_GRACE_MS: Readonly<Record<ServiceKind, number>> = { external: 30_000, docker: 30 * 60_000 }
const MAX_ATTEMPTS = 5

const ClaimSchema = v.object({ kind: v.picklist(KINDS), holder: v.string(), claimed_at_ms: v.number() })

/** `held`: this caller holds the name now (release it with the token). Otherwise `by` names the kind that does. */
export type NameClaim = { readonly held: true; readonly token: string } | { readonly held: false; readonly by: ServiceKind }

export interface ServiceNames {
  /**
   * Claims name for a new service of this kind. Refused while another creation holds the name or a
   * service of either kind has it, including one stored before names were claimed.
   */
  claim(name: string, kind: ServiceKind): Promise<NameClaim>
  /** Frees the claim only while it is still the one `token` was given for, so a successor's is never freed. */
  release(name: string, token: string): Promise<void>
  /** Frees the name's claim while a service of this kind holds it (after its document was deleted). */
  releaseKind(name: string, kind: ServiceKind): Promise<void>
  /** The kind that holds name, or null. */
  holderOf(name: string): Promise<ServiceKind | null>
  /** Names claimed by this kind with no service document older than the grace (left by a crash); for cleanup. */
  stale(kind: ServiceKind): Promise<string[]>
}

export function createServiceNames(store: Store, clock: Clock): ServiceNames {
  const claims = createCollection(store, keys.serviceNameClaims(), ClaimSchema)
  const documentExists = async (kind: ServiceKind, name: string) => (await store.get(keys.inCollection(DOCUMENTS[kind], name))) !== null
  const isAbandoned = async (claim: v.InferOutput<typeof ClaimSchema>, name: string) =>
    clock.nowMs() - claim.claimed_at_ms >= CLAIM_GRACE_MS[claim.kind] && !(await documentExists(claim.kind, name))

  return {
    async claim(name, kind) {
      const mine = { kind, holder: randomToken(), claimed_at_ms: clock.nowMs() }
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        let written = (await claims.put(name, mine, { ifAbsent: true })) !== null
        if (!written) {
          const held = await claims.get(name)
          if (!held) continue
          if (!(await isAbandoned(held.value, name))) return { held: false, by: held.value.kind }
          // Compare-and-set: of several nodes taking over the same abandoned claim, one wins.
          written = (await claims.put(name, mine, { ifVersion: held.version })) !== null
          if (!written) continue
        }
        // A service stored before names were claimed has a document and no claim.
        for (const other of KINDS) {
          if (other !== kind && (await documentExists(other, name))) {
            await this.release(name, mine.holder)
            return { held: false, by: other }
          }
        }
        return { held: true, token: mine.holder }
      }
      throw new Error(`the name claim of ${name} kept changing under concurrent writers`)
    },
    async release(name, token) {
      const held = await claims.get(name)
      if (held?.value.holder === token) await claims.del(name, { ifVersion: held.version })
    },
    async releaseKind(name, kind) {
      const held = await claims.get(name)
      if (held?.value.kind === kind) await claims.del(name, { ifVersion: held.version })
    },
    async holderOf(name) {
      return (await claims.get(name))?.value.kind ?? null
    },
    async stale(kind) {
      const found: string[] = []
      for (const { id, value } of await claims.list()) if (value.kind === kind && (await isAbandoned(value, id))) found.push(id)
      return found
    },
  }
}
