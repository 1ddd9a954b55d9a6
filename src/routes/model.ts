/**
 * @module A route: a path (prefix or regex) on one, several or every proxy that sends matching requests to
 * another backend. Field names are the original's (original-behaviour §2.2), without its bugs: every
 * target type works, ties in priority are broken by creation order on every node, and a route's `auth`
 * is stored and validated (the resource-server side enforces it).
 */
import * as v from 'valibot'
import { HostnameSchema } from '../lib/index.ts'

export const ROUTE_TARGET_TYPES = ['url', 'port', 'service', 'hostname'] as const
export type RouteTargetType = (typeof ROUTE_TARGET_TYPES)[number]

export const ROUTE_SCOPES = ['global', 'proxy'] as const
export type RouteScope = (typeof ROUTE_SCOPES)[number]

/** A proxy's choice of which routes apply to it (original §5 step 3.3). */
export const ROUTE_MODES = ['all', 'selective', 'none'] as const
export type RouteMode = (typeof ROUTE_MODES)[number]

/** Per-route auth: the scopes a request needs, who may use the route, and whether it replaces the proxy's own auth. */
export const RouteAuthSchema = v.object({
  required_scopes: v.optional(v.nullable(v.array(v.picklist(['admin', 'user', 'mcp'], 'expected admin, user or mcp'))), null),
  allowed_users: v.optional(v.nullable(v.array(v.string())), null),
  /** true: this route's auth replaces the proxy's; false: it is checked in addition. */
  override_proxy_auth: v.optional(v.boolean('expected true or false'), false),
})
export type RouteAuth = v.InferOutput<typeof RouteAuthSchema>

/** The stored route document. */
export const RouteSchema = v.object({
  route_id: v.string(),
  path_pattern: v.string(),
  is_regex: v.boolean(),
  /** Upper-case method names; null = any method (the original's `*` is stored as null). */
  methods: v.nullable(v.array(v.string())),
  /** 0–999, higher first; equal priorities in creation order. */
  priority: v.number(),
  target_type: v.picklist(ROUTE_TARGET_TYPES),
  /** url: an http(s) URL; port: a port number as text; service: a service name; hostname: a proxy hostname. */
  target_value: v.string(),
  strip_prefix: v.boolean(),
  scope: v.picklist(ROUTE_SCOPES),
  /** The proxies a `proxy`-scoped route applies to; empty for `global`. */
  proxy_hostnames: v.array(HostnameSchema),
  enabled: v.boolean(),
  description: v.string(),
  auth: v.nullable(RouteAuthSchema),
  created_by: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
  /** A number that grows with every route created on any node: the tie-breaker for equal priorities. */
  sequence: v.number(),
})
export type Route = v.InferOutput<typeof RouteSchema>

/** What the data plane needs of a proxy to know which routes apply to it. */
export interface ProxyRouteSettings {
  readonly proxy_hostname: string
  readonly route_mode: RouteMode
  readonly enabled_routes: readonly string[]
  readonly disabled_routes: readonly string[]
}
