/**
 * @module The order routes are tried in, the one rule for the store's listing and the matcher: priority
 * descending, then creation order (`sequence`), then `route_id`, so every node sorts the same documents
 * the same way (the original broke ties by Redis scan order, original-behaviour §5 step 3.4).
 */
import type { Route } from './model.ts'

export function byMatchingOrder(a: Pick<Route, 'priority' | 'sequence' | 'route_id'>, b: Pick<Route, 'priority' | 'sequence' | 'route_id'>): number {
  return b.priority - a.priority || a.sequence - b.sequence || (a.route_id < b.route_id ? -1 : a.route_id > b.route_id ? 1 : 0)
}
