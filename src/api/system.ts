/** @module GET /system/version (public, the original's shape) and GET /system/info (user scope): what this node is running. */
import * as v from 'valibot'
import type { Config } from '../config/index.ts'
import type { Clock } from '../lib/index.ts'
import type { Store } from '../store/index.ts'
import { VERSION } from '../version.ts'
import { defineRoute, type RouteSpec } from './define-route.ts'

const SystemInfoSchema = v.object({
  version: v.string(),
  runtime: v.string(),
  node_id: v.string(),
  store: v.picklist(['embedded', 'redis']),
  public_url: v.string(),
  started_at: v.string(),
  uptime_sec: v.number(),
  you: v.object({ username: v.string(), scopes: v.array(v.string()) }),
})

/**
 * The original's `{version, api_version, build_date, components}`, with only what is true here: no build
 * date is recorded at build time, so there is none.
 */
const SystemVersionSchema = v.object({
  version: v.string(),
  /** The product's major version: the management API changes incompatibly only with it. */
  api_version: v.string(),
  build_date: v.optional(v.string()),
  components: v.object({ runtime: v.string(), oauth: v.string() }),
})

export interface SystemDeps {
  readonly config: Config
  readonly store: Store
  readonly clock: Clock
  readonly startedAtMs: number
}

export function systemRoutes(deps: SystemDeps): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/system/version',
      scope: 'public',
      tag: 'system',
      summary: 'Version of this server and its runtime (public, as in the original)',
      responses: { 200: { description: 'versions', schema: SystemVersionSchema } },
      handler(c) {
        const body: v.InferOutput<typeof SystemVersionSchema> = {
          version: VERSION,
          api_version: `v${VERSION.split('.')[0]}`,
          // The authorization server follows OAuth 2.1 (PKCE S256 required, no implicit or password grants).
          components: { runtime: `bun ${Bun.version}`, oauth: '2.1' },
        }
        return c.json(body)
      },
    }),
    defineRoute({
      method: 'get',
      path: '/system/info',
      scope: 'user',
      tag: 'system',
      summary: 'Version, node and store of this server',
      responses: { 200: { description: 'system information', schema: SystemInfoSchema } },
      handler(c) {
        const principal = c.get('principal')
        const body: v.InferOutput<typeof SystemInfoSchema> = {
          version: VERSION,
          runtime: `bun ${Bun.version}`,
          node_id: deps.config.nodeId,
          store: deps.store.kind,
          public_url: deps.config.publicUrl,
          started_at: new Date(deps.startedAtMs).toISOString(),
          uptime_sec: Math.floor((deps.clock.nowMs() - deps.startedAtMs) / 1000),
          you: { username: principal.username, scopes: principal.scopes },
        }
        return c.json(body)
      },
    }),
  ]
}
