/**
 * @module Every setting the server reads: its environment variable, flag, default and parser.
 * This table is the single source for validation, `serve --help` and the README's configuration table.
 */
import * as v from 'valibot'
import { isGitHubLogin, isValidHostname, LOG_LEVELS, parseCidr, parseDurationSec } from '../lib/index.ts'

const port = v.pipe(
  v.string(),
  v.regex(/^\d{1,5}$/, 'expected a port number 0-65535'),
  v.transform(Number),
  v.maxValue(65535, 'expected a port number 0-65535'),
)

const host = v.pipe(v.string(), v.regex(/^[A-Za-z0-9.:-]+$/, 'expected a host name or IP address'))

const httpUrl = v.pipe(
  v.string(),
  v.url('expected an http(s) URL'),
  v.regex(/^https?:\/\//i, 'expected an http(s) URL'),
  v.transform((url) => url.replace(/\/+$/, '')),
)

const portRange = v.pipe(
  v.string(),
  v.regex(/^\d{1,5}-\d{1,5}$/, 'expected a port range FIRST-LAST, e.g. 12000-12999'),
  v.transform((text) => {
    const [first, last] = text.split('-').map(Number) as [number, number]
    return { first, last }
  }),
  v.check(({ first, last }) => first >= 1 && first <= last && last <= 65535, 'expected a port range FIRST-LAST within 1-65535'),
)

const redisUrl = v.pipe(
  v.string(),
  v.regex(/^rediss?:\/\/[^/\s]/i, 'expected a redis:// or rediss:// URL'),
  v.url('expected a redis:// or rediss:// URL'),
)

const duration = v.pipe(
  v.string(),
  v.transform(parseDurationSec),
  v.number('expected a duration such as 3600, 90s, 15m, 1h or 30d'),
)

const userList = v.pipe(
  v.string(),
  v.transform((text) => text.split(',').map((user) => user.trim()).filter(Boolean)),
  v.array(v.pipe(v.string(), v.check((login) => login === '*' || isGitHubLogin(login), 'expected GitHub logins separated by commas, or *'))),
)

const cidrList = v.pipe(
  v.string(),
  v.transform((text) => text.split(',').map((cidr) => cidr.trim()).filter(Boolean)),
  v.check((list) => list.every((cidr) => parseCidr(cidr) !== null), 'expected CIDRs separated by commas, e.g. 10.0.0.0/8,::1'),
)

const text = v.string()
/** Ports and ranges separated by commas ("22,80,20000-20099"); empty means none. */
const portList = v.pipe(
  v.string(),
  v.transform((text) => text.split(',').map((item) => item.trim()).filter(Boolean)),
  v.check((items) => items.every((item) => /^\d{1,5}(-\d{1,5})?$/.test(item)), 'expected ports or FIRST-LAST ranges separated by commas, e.g. 22,80,20000-20099'),
  v.transform((items) =>
    items.flatMap((item) => {
      const [first, last = first] = item.split('-').map(Number) as [number, number?]
      return first <= last && last <= 65_535 && last - first < 65_536 ? Array.from({ length: last - first + 1 }, (_, i) => first + i) : [NaN]
    }),
  ),
  v.check((ports) => ports.every((port) => Number.isInteger(port) && port >= 1 && port <= 65_535), 'expected ports 1-65535 and ranges FIRST-LAST with FIRST <= LAST'),
)
/** An absolute directory path; "/" itself would allow every bind mount. */
const bindRoot = v.pipe(
  v.string(),
  v.regex(/^\/[^\0]*$/, 'expected an absolute directory path'),
  v.transform((path) => path.replace(/\/+$/, '')),
  v.check((path) => path !== '' && !path.split('/').includes('..'), 'expected an absolute directory path other than / (no ..)'),
)
/** A registry's host[:port], as it appears at the start of an image reference. */
const registryHost = v.pipe(v.string(), v.regex(/^[a-z0-9]([a-z0-9.-]{0,252}[a-z0-9])?(:\d{1,5})?$/i, 'expected a registry host[:port], e.g. registry.local:5000'))
const domain = v.pipe(
  v.string(),
  v.transform((name) => name.toLowerCase().replace(/\.$/, '')),
  v.check((name) => isValidHostname(name), 'expected a domain name such as example.com'),
)
const flag = v.pipe(v.string(), v.picklist(['true', 'false', '1', '0'], 'expected true or false'), v.transform((value) => value === 'true' || value === '1'))
const email = v.pipe(v.string(), v.email('expected an email address'))
const days = v.pipe(
  v.string(),
  v.regex(/^\d{1,3}$/, 'expected a whole number of days from 1 to 365'),
  v.transform(Number),
  v.minValue(1, 'expected a whole number of days from 1 to 365'),
  v.maxValue(365, 'expected a whole number of days from 1 to 365'),
)
const positiveCount = (max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,10}$/, `expected a whole number from 1 to ${max.toLocaleString('en')}`),
    v.transform(Number),
    v.minValue(1, `expected a whole number from 1 to ${max.toLocaleString('en')}`),
    v.maxValue(max, `expected a whole number from 1 to ${max.toLocaleString('en')}`),
  )
const registrationMode = v.pipe(v.string(), v.transform((text) => text.toLowerCase()), v.picklist(['open', 'token', 'closed'], 'expected open, token or closed'))
const countOrOff = (max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,10}$/, `expected a whole number from 0 to ${max.toLocaleString('en')}`),
    v.transform(Number),
    v.maxValue(max, `expected a whole number from 0 to ${max.toLocaleString('en')}`),
  )
/** A rate: RATE/UNIT,BURST ("10/s,100": 100 at once, then 10 a second; unit s, m or h), or off. */
export interface RateSetting {
  readonly perSecond: number
  readonly burst: number
}
const RATE = /^(\d{1,7}(?:\.\d{1,3})?)\/(s|m|h),(\d{1,7})$/
const RATE_HINT = 'expected RATE/UNIT,BURST such as 10/s,100 or 600/m,50 (unit s, m or h), or off'
const UNIT_SEC: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 }
const rateLimit = v.pipe(
  v.string(),
  v.transform((text) => text.trim().toLowerCase()),
  v.check((text) => text === 'off' || RATE.test(text), RATE_HINT),
  v.transform((text): RateSetting | null => {
    const [, count = '', unit = 's', burst = ''] = RATE.exec(text) ?? []
    return text === 'off' ? null : { perSecond: Number(count) / UNIT_SEC[unit]!, burst: Number(burst) }
  }),
  v.check((rate) => rate === null || (rate.perSecond > 0 && rate.burst >= 1), `${RATE_HINT}; the rate and the burst must be above 0`),
)
/** CIDRs, or "none" (an empty value means the default, as for every setting). */
const cidrListOrNone = v.pipe(
  v.string(),
  v.transform((text) => (text.trim().toLowerCase() === 'none' ? '' : text)),
  cidrList,
)
/** WORKERS: a number of processes, or "auto" (one per core, resolved by loadConfig). */
const workerCount = v.pipe(
  v.string(),
  v.transform((text) => text.trim().toLowerCase()),
  v.check((text) => text === 'auto' || (/^\d{1,3}$/.test(text) && Number(text) >= 1 && Number(text) <= 256), 'expected a number of workers from 1 to 256, or auto (one per core)'),
  v.transform((text): number | 'auto' => (text === 'auto' ? 'auto' : Number(text))),
)
/** A duration that may be 0 (none). */
const durationOrNone = v.pipe(
  v.string(),
  v.transform((text) => (/^\s*0+\s*[smhd]?\s*$/.test(text) ? 0 : parseDurationSec(text))),
  v.number('expected a duration such as 10s, 30s or 2m, or 0 for none'),
)
const accessLog = v.pipe(v.string(), v.transform((text) => text.toLowerCase()), v.picklist(['stdout', 'off'], 'expected stdout or off'))
/** A .env written for the original says INFO or WARNING (Python's names): any case, and WARNING/CRITICAL mean warn/error. */
const PYTHON_LOG_LEVELS: Readonly<Record<string, string>> = { warning: 'warn', critical: 'error' }
const logLevel = v.pipe(
  v.string(),
  v.transform((text) => PYTHON_LOG_LEVELS[text.toLowerCase()] ?? text.toLowerCase()),
  v.picklist(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(', ')}`),
)

interface Setting<S extends v.GenericSchema<string, unknown>> {
  readonly env: string
  /** The original project's names for the same setting, read when `env` is not set. */
  readonly aliases?: readonly string[]
  readonly description: string
  /** Raw default; undefined means "not set" (the setting is optional). */
  readonly fallback?: string
  readonly schema: S
  /** Secret values are never echoed back in errors or listings. */
  readonly isSecret?: boolean
}

function setting<S extends v.GenericSchema<string, unknown>>(s: Setting<S>): Setting<S> {
  return s
}

export const SETTINGS = {
  httpPort: setting({ env: 'HTTP_PORT', fallback: '80', schema: port, description: 'public HTTP listener port' }),
  httpsPort: setting({ env: 'HTTPS_PORT', fallback: '443', schema: port, description: 'public HTTPS listener port' }),
  // No fallback: unset means dual-stack `::`, or 0.0.0.0 on a host without IPv6 (edge/listen-address.ts decides at start-up).
  listenAddress: setting({ env: 'LISTEN_ADDRESS', schema: host, description: 'address the public HTTP and HTTPS listeners bind to (default :: dual-stack; 0.0.0.0 where the host has no IPv6)' }),
  apiHost: setting({ env: 'API_HOST', fallback: '127.0.0.1', schema: host, description: 'address the management API binds to' }),
  apiPort: setting({ env: 'API_PORT', fallback: '9000', schema: port, description: 'management API port' }),
  proxyHttpPorts: setting({ env: 'PROXY_HTTP_PORTS', fallback: '12000-12999', schema: portRange, description: 'loopback ports for the per-proxy servers behind HTTP' }),
  proxyHttpsPorts: setting({ env: 'PROXY_HTTPS_PORTS', fallback: '13000-13999', schema: portRange, description: 'loopback ports for the per-proxy servers behind HTTPS (TLS already terminated)' }),
  dataDir: setting({ env: 'DATA_DIR', fallback: './data', schema: text, description: 'directory of the embedded store (":memory:" keeps nothing)' }),
  redisUrl: setting({ env: 'REDIS_URL', schema: redisUrl, isSecret: true, description: 'use Redis instead of the embedded store' }),
  publicUrl: setting({ env: 'PUBLIC_URL', schema: httpUrl, description: 'external URL of the API; the OAuth issuer (default http://API_HOST:API_PORT)' }),
  nodeId: setting({ env: 'NODE_ID', schema: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected letters, digits, ".", "_" or "-"')), description: 'name of this node when several share Redis (default: host name)' }),
  githubClientId: setting({ env: 'GITHUB_CLIENT_ID', schema: text, description: 'GitHub OAuth app client id' }),
  githubClientSecret: setting({ env: 'GITHUB_CLIENT_SECRET', schema: text, isSecret: true, description: 'GitHub OAuth app client secret' }),
  githubUrl: setting({ env: 'GITHUB_URL', fallback: 'https://github.com', schema: httpUrl, description: 'GitHub web base URL (GitHub Enterprise: your host)' }),
  githubApiUrl: setting({ env: 'GITHUB_API_URL', fallback: 'https://api.github.com', schema: httpUrl, description: 'GitHub API base URL' }),
  acmeDirectoryUrl: setting({ env: 'ACME_DIRECTORY_URL', fallback: 'https://acme-v02.api.letsencrypt.org/directory', schema: httpUrl, description: "ACME directory for production certificates; when set, a proxy's automatic certificate comes from it too, else from ACME_STAGING_URL (the original's rule)" }),
  acmeStagingUrl: setting({ env: 'ACME_STAGING_URL', fallback: 'https://acme-staging-v02.api.letsencrypt.org/directory', schema: httpUrl, description: 'ACME directory for staging certificates' }),
  acmeEmail: setting({ env: 'ACME_EMAIL', schema: email, description: 'contact email for the ACME account' }),
  acmeRenewCheckIntervalSec: setting({ env: 'ACME_RENEW_CHECK_INTERVAL', aliases: ['RENEWAL_CHECK_INTERVAL'], fallback: '12h', schema: duration, description: "how often each node looks for certificates to renew and failed orders to retry (the original's RENEWAL_CHECK_INTERVAL is read too)" }),
  acmeRenewalThresholdDays: setting({ env: 'ACME_RENEWAL_THRESHOLD_DAYS', aliases: ['RENEWAL_THRESHOLD_DAYS'], fallback: '30', schema: days, description: "renew a certificate this many days before it expires, or when a third of its lifetime is left if that comes first (the original's RENEWAL_THRESHOLD_DAYS is read too)" }),
  oauthAdminUsers: setting({ env: 'OAUTH_ADMIN_USERS', fallback: '', schema: userList, description: 'GitHub logins granted the admin scope (comma-separated, * = anyone); none by default' }),
  oauthUserUsers: setting({ env: 'OAUTH_USER_USERS', fallback: '', schema: userList, description: 'GitHub logins granted the user (read) scope; none by default' }),
  oauthMcpUsers: setting({ env: 'OAUTH_MCP_USERS', fallback: '', schema: userList, description: 'GitHub logins granted the mcp scope (* = any GitHub user); none by default' }),
  accessTokenLifetimeSec: setting({ env: 'OAUTH_ACCESS_TOKEN_LIFETIME', fallback: '1h', schema: duration, description: 'access token lifetime' }),
  refreshTokenLifetimeSec: setting({ env: 'OAUTH_REFRESH_TOKEN_LIFETIME', fallback: '30d', schema: duration, description: 'refresh token lifetime' }),
  cimdAllowPrivate: setting({ env: 'OAUTH_CIMD_ALLOW_PRIVATE', fallback: 'false', schema: flag, description: 'let client ID metadata documents be fetched from private and loopback addresses (tests only)' }),
  oauthRegistration: setting({ env: 'OAUTH_REGISTRATION', fallback: 'open', schema: registrationMode, description: 'dynamic client registration (POST /register): open to anyone, token (an initial access token from POST /oauth/registration-tokens, RFC 7591 §3) or closed' }),
  oauthRegistrationsPerHour: setting({ env: 'OAUTH_REGISTRATIONS_PER_HOUR', fallback: '60', schema: countOrOff(1_000_000), description: 'registration requests one client address (an IPv6 one by its /64) may make per hour, on all nodes together; 0 = no limit' }),
  oauthUnusedClientTtlSec: setting({ env: 'OAUTH_UNUSED_CLIENT_TTL', fallback: '24h', schema: duration, description: 'a registered client that completes no authorization within this is deleted; one that has is kept' }),
  maxConnections: setting({ env: 'MAX_CONNECTIONS', fallback: '10000', schema: positiveCount(10_000_000), description: 'open client connections the public HTTP and HTTPS listeners hold at most; more are closed as they arrive (and counted in ohp_connections_refused_total), open ones are never dropped' }),
  maxConnectionsPerAddress: setting({ env: 'MAX_CONNECTIONS_PER_ADDRESS', fallback: '256', schema: positiveCount(10_000_000), description: 'open client connections from one client address at most (an IPv6 client counts by its /64; behind PROXY_PROTOCOL_TRUSTED, the address the PROXY header names, and the load balancer itself is not capped)' }),
  proxyProtocolTrusted: setting({ env: 'PROXY_PROTOCOL_TRUSTED', fallback: '', schema: cidrList, description: 'CIDRs of the load balancers whose PROXY protocol headers are accepted; only requests through them keep their X-Forwarded-For/Forwarded chain and a proxy\'s trusted_request_headers' }),
  forwardAuthTrusted: setting({ env: 'FORWARD_AUTH_TRUSTED', fallback: '', schema: cidrList, description: 'CIDRs of the proxies whose X-Forwarded-Host/-Proto/-Uri/-Method and X-Original-URI /verify believes (nginx auth_request, Traefik ForwardAuth, Caddy forward_auth); none by default' }),
  metricsTrusted: setting({ env: 'METRICS_TRUSTED', fallback: '', schema: cidrList, description: 'CIDRs of the scrapers that may read /metrics without a token (Prometheus on the same network); none by default' }),
  rateLimitExempt: setting({ env: 'RATE_LIMIT_EXEMPT', fallback: '127.0.0.0/8,::1', schema: cidrListOrNone, description: 'CIDRs no rate limit applies to, or none; by default the host itself (loopback), which can read the store anyway' }),
  rateLimitOAuth: setting({ env: 'RATE_LIMIT_OAUTH', fallback: '1/s,30', schema: rateLimit, description: 'per client address (an IPv6 one by its /64), on every authorization server endpoint, on all nodes together: RATE/UNIT,BURST or off' }),
  rateLimitApi: setting({ env: 'RATE_LIMIT_API', fallback: '10/s,100', schema: rateLimit, description: "per token (its subject) on the management API, on all nodes together: RATE/UNIT,BURST or off" }),
  rateLimitApiAddress: setting({ env: 'RATE_LIMIT_API_ADDRESS', fallback: '10/s,100', schema: rateLimit, description: 'per client address (an IPv6 one by its /64) on the management API, on all nodes together: RATE/UNIT,BURST or off' }),
  dockerHost: setting({ env: 'DOCKER_HOST', schema: v.pipe(v.string(), v.regex(/^(unix:\/\/\/|\/|tcp:\/\/|https?:\/\/)\S+$/i, 'expected unix:///path/to/docker.sock, /path/to/docker.sock or tcp://host:port')), description: 'Docker engine address: unix:///path (or a socket path) or tcp://host:port (default: the local socket /var/run/docker.sock). Only the server talks to it; no API request names an engine' }),
  dockerServices: setting({ env: 'DOCKER_SERVICES', fallback: 'true', schema: flag, description: 'run Docker services (/services). When the engine does not answer at start-up the server starts anyway, /services answers 503 and the engine is tried again every few seconds; false: /services answers 503 and the engine is never contacted' }),
  servicePorts: setting({ env: 'SERVICE_PORTS', fallback: '20000-29999', schema: portRange, description: 'host ports a Docker service\'s "auto" ports are taken from, claimed across every node; an explicit host_port outside it is allowed when no service or proxy instance holds it and it is free on the host' }),
  servicePortsRestricted: setting({ env: 'SERVICE_PORTS_RESTRICTED', fallback: '', schema: portList, description: 'ports never given to a Docker service, not even when asked for by number: ports and FIRST-LAST ranges separated by commas' }),
  serviceBindRoot: setting({ env: 'SERVICE_BIND_ROOT', schema: bindRoot, description: 'the directory a Docker service\'s bind mounts must lie under; unset, bind mounts are refused (named volumes still work)' }),
  serviceNetwork: setting({ env: 'SERVICE_NETWORK', schema: v.pipe(v.string(), v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, 'expected a Docker network name')), description: 'for a server that runs in a container itself (compose): the Docker network it shares with its Docker services. Every service joins it, and service://name reaches http://<service name>:<container port> there; unset, service://name is the published host port on 127.0.0.1 (the host\'s loopback, not a container\'s)' }),
  serviceRegistry: setting({ env: 'SERVICE_REGISTRY', schema: registryHost, description: 'the image registry (host[:port]) missing images are pulled from; unset, only images already on the engine or built from a Dockerfile are used' }),
  baseDomain: setting({ env: 'BASE_DOMAIN', schema: domain, description: 'the domain a Docker service\'s auto_proxy hostname is made under (<service>.<BASE_DOMAIN>); unset, auto_proxy needs a hostname' }),
  logLevel: setting({ env: 'LOG_LEVEL', fallback: 'info', schema: logLevel, description: 'debug, info, warn, error or silent' }),
  requestLog: setting({ env: 'REQUEST_LOG', fallback: 'true', schema: flag, description: 'keep one record per request (queries, stats, live tail); false keeps none (/metrics still counts every request)' }),
  logRetentionSec: setting({ env: 'LOG_RETENTION', fallback: '7d', schema: duration, description: 'how long request records are kept' }),
  logMaxRecords: setting({ env: 'LOG_MAX_RECORDS', fallback: '1000000', schema: positiveCount(1_000_000_000), description: 'at most this many request records are kept (the oldest go first)' }),
  accessLog: setting({ env: 'ACCESS_LOG', fallback: 'off', schema: accessLog, description: 'stdout: also write each request record as one JSON line on stdout, for log shippers; off: only the store' }),
  logRingSize: setting({ env: 'LOG_RING_SIZE', fallback: '50000', schema: positiveCount(1_000_000), description: 'request records held in memory until written; more are dropped (and counted), never the request' }),
  workers: setting({ env: 'WORKERS', fallback: '1', schema: workerCount, description: 'processes serving on this host, each a whole server on the same ports (SO_REUSEPORT) and the same store; auto = one per core' }),
  shutdownDrainSec: setting({ env: 'SHUTDOWN_DRAIN', fallback: '10s', schema: durationOrNone, description: 'on SIGTERM or SIGINT, how long requests in flight, WebSocket and SSE streams may go on after the listeners have closed' }),
} as const

export type SettingName = keyof typeof SETTINGS

/** The flag spelling of a setting: HTTP_PORT → http-port. */
export function flagName(name: SettingName): string {
  return SETTINGS[name].env.toLowerCase().replaceAll('_', '-')
}
