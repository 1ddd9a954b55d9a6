/**
 * @module The proxy list for per-request questions (which hosts are issuers, which origins are
 * resources): read from the store at most every few seconds, and again at once after any proxy
 * changes on any node.
 */
import type { EventBus } from '../events/index.ts'
import type { Clock } from '../lib/index.ts'
import type { ProxyTarget } from './model.ts'
import type { ProxyTargets } from './service.ts'

const MAX_AGE_MS = 5_000

export function createTargetCache(targets: ProxyTargets, bus: EventBus, clock: Clock): () => Promise<ProxyTarget[]> {
  let cached: { list: Promise<ProxyTarget[]>; atMs: number } | null = null
  bus.subscribe((event) => {
    if (event.type === 'proxy_created' || event.type === 'proxy_updated' || event.type === 'proxy_deleted') cached = null
  })
  return () => {
    if (cached && clock.nowMs() - cached.atMs < MAX_AGE_MS) return cached.list
    const entry = { list: targets.list(), atMs: clock.nowMs() }
    // A store outage must not be remembered: the next request asks again.
    entry.list.catch(() => {
      if (cached === entry) cached = null
    })
    cached = entry
    return entry.list
  }
}

/** Hostnames of the enabled proxies whose target is the given origin (the API's): the issuers. */
export function hostnamesTargeting(list: () => Promise<ProxyTarget[]>, origin: () => string): () => Promise<string[]> {
  return async () => (await list()).filter((target) => target.enabled && URL.parse(target.target_url)?.origin === origin()).map((target) => target.proxy_hostname)
}
