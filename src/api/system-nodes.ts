/** @module GET /system/nodes (user scope): every node sharing this store, from their heartbeats (store/node-heartbeats.ts). */
import * as v from 'valibot'
import type { Clock } from '../lib/index.ts'
import { HEARTBEAT_INTERVAL_MS, NodeHeartbeatSchema, type NodeHeartbeat } from '../store/index.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'

/** Two missed beats: the node may be gone (its document expires after three). */
const STALE_AFTER_MS = 2 * HEARTBEAT_INTERVAL_MS

const NodeViewSchema = v.object({
  ...NodeHeartbeatSchema.entries,
  status: v.picklist(['up', 'stale']),
  uptime_sec: v.number(),
  /** The node that answered this request. */
  this_node: v.boolean(),
})

const NodesSchema = v.object({ nodes: v.array(NodeViewSchema), count: v.number() })

export interface SystemNodesDeps {
  readonly nodes: () => Promise<NodeHeartbeat[]>
  readonly nodeId: string
  readonly clock: Clock
}

export function systemNodeRoutes(deps: SystemNodesDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/system/nodes',
      scope: 'user',
      tag: 'system',
      summary: 'The nodes sharing this store, from their heartbeats (every 10 s): version, start, last beat, open connections; "stale" after 20 s without a beat, gone after 30 s',
      responses: { 200: { description: 'every node with a live heartbeat, by node id', schema: NodesSchema } },
      async handler(c) {
        const nowMs = deps.clock.nowMs()
        const nodes = (await deps.nodes()).map((node) => ({
          ...node,
          status: nowMs - Date.parse(node.last_seen_at) > STALE_AFTER_MS ? ('stale' as const) : ('up' as const),
          uptime_sec: Math.max(0, Math.floor((nowMs - Date.parse(node.started_at)) / 1000)),
          this_node: node.node_id === deps.nodeId,
        }))
        return c.json({ nodes, count: nodes.length } satisfies v.InferOutput<typeof NodesSchema>)
      },
    }),
  ]
}
