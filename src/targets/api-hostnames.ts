/** @module Which proxies point at a given origin (the API's): their hostnames, cached until a proxy changes. */
import type { EventBus } from '../events/index.ts'
import type { Clock } from '../lib/index.ts'
import type { ProxyTargets } from './service.ts'

/**
 * Hostnames of the enabled proxies whose target is this API (the edge hands their requests to it in
 * process): each is an issuer of the authorization server. Cached until a proxy changes on any node,
 * and for at most a few seconds in case an event was missed.
 */
export function createHostnamesTargeting(targets: ProxyTargets, bus: EventBus, apiUrl: () => string, clock: Clock): () => Promise<string[]> {
  const MAX_AGE_MS = 5_000
  let cached: { names: Promise<string[]>; atMs: number } | null = null
  bus.subscribe((event) => {
    if (event.type === 'proxy_created' || event.type === 'proxy_updated' || event.type === 'proxy_deleted') cached = null
  })
  return () => {
    if (cached && clock.nowMs() - cached.atMs < MAX_AGE_MS) return cached.names
    const names = targets
      .list()
      .then((list) => list.filter((target) => target.enabled && URL.parse(target.target_url)?.origin === apiUrl()).map((target) => target.proxy_hostname))
    const entry = { names, atMs: clock.nowMs() }
    // A store outage must not be remembered: the next request asks again.
    names.catch(() => {
      if (cached === entry) cached = null
    })
    cached = entry
    return names
  }
}
