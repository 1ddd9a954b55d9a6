/** @module What the pages read from the API, as the API documents it (/openapi.json); only the fields the UI uses. */

export interface Proxy {
  proxy_hostname: string
  target_url: string
  enabled: boolean
  enable_http: boolean
  enable_https: boolean
  preserve_host_header: boolean
  cert_name: string | null
  cert_email: string | null
  redirect_http_to_https: boolean
  hsts_max_age: number | null
  upstream_timeout: number
  auth_enabled: boolean
  auth_mode: 'forward' | 'redirect' | 'passthrough'
  route_mode: 'all' | 'selective' | 'none'
  created_by: string | null
  updated_at: string
}

export interface ProxyAuth {
  auth_enabled: boolean
  auth_mode: string
  auth_required_users: string[] | null
  auth_excluded_paths: string[]
  oauth_admin_users: string[] | null
  oauth_user_users: string[] | null
  oauth_mcp_users: string[] | null
}

export interface ProxyResource {
  resource_endpoint: string
  resource_scopes: string[] | null
  resource_documentation: string | null
}

export interface Route {
  route_id: string
  path_pattern: string
  is_regex: boolean
  methods: string[] | null
  priority: number
  target_type: 'url' | 'port' | 'service' | 'hostname'
  target_value: string
  strip_prefix: boolean
  scope: 'global' | 'proxy'
  proxy_hostnames: string[]
  enabled: boolean
  description: string
}

export interface ProxyRoutes {
  route_mode: 'all' | 'selective' | 'none'
  enabled_routes: string[]
  disabled_routes: string[]
  applicable_routes: Route[]
}

export interface Certificate {
  cert_name: string
  domains: string[]
  status: 'pending' | 'validating' | 'issued' | 'failed'
  staging: boolean
  issuer: string | null
  not_after: string | null
  error: string | null
  used_by: string[]
}

export interface LogRecord {
  id: string
  timestamp: string
  host: string
  proxy: string | null
  method: string
  path: string
  status: number
  duration_ms: number
  client_ip: string
  user: string | null
  outcome: string
  backend_error: string | null
}

export interface LogPage {
  records: LogRecord[]
  count: number
  next_cursor: string | null
}

export interface Stats {
  requests: number
  errors: number
  error_rate: number
  requests_per_minute: number
  latency_ms: { p50: number; p99: number } | null
  buckets: { start: string; requests: number; errors: number }[]
}

export interface NodeView {
  node_id: string
  version: string
  store: string
  started_at: string
  last_seen_at: string
  connections: number | null
  status: 'up' | 'stale'
  uptime_sec: number
  this_node: boolean
}
