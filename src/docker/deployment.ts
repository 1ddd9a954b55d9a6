/**
 * @module Which containers on the engine are this deployment's: every node sharing this store labels its
 * containers with one random id, kept in the store. Another deployment on the same engine (a second
 * server with its own store, a test run) has its own id, so its containers are never reconciled, cleaned
 * up or counted as ours, whatever service names they carry.
 */
import { randomToken } from '../lib/index.ts'
import { keys, type Store } from '../store/index.ts'

export const DEPLOYMENT_LABEL = 'io.oauth-https-proxy.deployment'

/** The deployment's id: created by the first node that asks (ifAbsent), then read; remembered once known. */
export function createDeploymentId(store: Store): () => Promise<string> {
  let known: Promise<string> | null = null
  const load = async () => {
    await store.put(keys.dockerDeployment(), randomToken(16), { ifAbsent: true })
    const stored = await store.get(keys.dockerDeployment())
    if (!stored) throw new Error('the deployment id vanished from the store')
    return stored.value
  }
  return () => {
    // A store outage is not remembered: the next call tries again.
    known ??= load().catch((error) => {
      known = null
      throw error
    })
    return known
  }
}
