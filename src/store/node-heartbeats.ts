/**
 * @module Node presence: every node writes a heartbeat document (`nodes/<NODE_ID>`) every few seconds
 * with a TTL of a few beats, so the store always holds the nodes that are alive, and one that died
 * drops out by itself. A node that stops cleanly removes its own at once. Readers (GET /system/nodes)
 * call a node whose last beat is older than two intervals stale.
 */
import * as v from 'valibot'
import type { Clock, Logger } from '../lib/index.ts'
import { createCollection } from './collection.ts'
import { COLLECTIONS } from './keys.ts'
import type { Store } from './store.ts'

export const HEARTBEAT_INTERVAL_MS = 10_000
/** Three missed beats and the document is gone. */
const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_INTERVAL_MS

export const NodeHeartbeatSchema = v.object({
  node_id: v.string(),
  version: v.string(),
  runtime: v.string(),
  store: v.picklist(['embedded', 'redis']),
  started_at: v.string(),
  last_seen_at: v.string(),
  /** Open public connections at the last beat; null before the edge listens. */
  connections: v.nullable(v.number()),
})
export type NodeHeartbeat = v.InferOutput<typeof NodeHeartbeatSchema>

export interface NodeHeartbeatOptions {
  readonly store: Store
  readonly clock: Clock
  readonly logger: Logger
  readonly node: Pick<NodeHeartbeat, 'node_id' | 'version' | 'runtime' | 'started_at'>
  /** Read at every beat. */
  readonly connections: () => number | null
}

export interface NodeHeartbeats {
  /** Beats once now (awaited), then every interval. */
  start(): Promise<void>
  /** Stops beating and removes this node's document. */
  stop(): Promise<void>
  /** Every node with a live heartbeat, by node id. */
  list(): Promise<NodeHeartbeat[]>
}

export function createNodeHeartbeats(options: NodeHeartbeatOptions): NodeHeartbeats {
  const nodes = createCollection(options.store, COLLECTIONS.nodes, NodeHeartbeatSchema)
  let timer: ReturnType<typeof setInterval> | null = null
  const beat = () =>
    nodes.put(
      options.node.node_id,
      { ...options.node, store: options.store.kind, last_seen_at: new Date(options.clock.nowMs()).toISOString(), connections: options.connections() },
      { ttlMs: HEARTBEAT_TTL_MS },
    )
  return {
    async start() {
      await beat()
      // A store outage skips beats; the node shows as stale, then gone, until the store answers again.
      timer = setInterval(() => beat().catch((error) => options.logger.warn('heartbeat not written', { error: String(error) })), HEARTBEAT_INTERVAL_MS)
      timer.unref()
    },
    async stop() {
      if (timer) clearInterval(timer)
      timer = null
      await nodes.del(options.node.node_id)
    },
    async list() {
      return (await nodes.list()).map((entry) => entry.value).sort((a, b) => a.node_id.localeCompare(b.node_id))
    },
  }
}
