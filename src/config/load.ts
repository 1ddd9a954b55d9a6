/** @module Builds the one validated, frozen Config from environment and flags. */
import { availableParallelism, hostname } from 'node:os'
import * as v from 'valibot'
import { SETTINGS, flagName, type RateSetting, type SettingName } from './settings.ts'

type Parsed = { [K in SettingName]: v.InferOutput<(typeof SETTINGS)[K]['schema']> | undefined }

export interface Config {
  readonly httpPort: number
  readonly httpsPort: number
  /** Undefined when not set: the listeners then bind dual-stack `::`, or 0.0.0.0 where the host has no IPv6 (resolveListenAddress). */
  readonly listenAddress: string | undefined
  readonly proxyPorts: { readonly http: { readonly first: number; readonly last: number }; readonly https: { readonly first: number; readonly last: number } }
  readonly apiHost: string
  readonly apiPort: number
  readonly dataDir: string
  readonly redisUrl: string | undefined
  /** External URL of the API without a trailing slash; the OAuth issuer and the API's token audience. */
  readonly publicUrl: string
  readonly nodeId: string
  readonly github: { readonly clientId?: string; readonly clientSecret?: string; readonly url: string; readonly apiUrl: string }
  readonly acme: {
    readonly directoryUrl: string
    readonly stagingUrl: string
    readonly email?: string
    /**
     * Where a proxy's automatic certificate comes from when the proxy does not say: production when
     * ACME_DIRECTORY_URL is set explicitly, else staging (original-behaviour §6: "ACME_DIRECTORY_URL, else ACME_STAGING_URL").
     */
    readonly proxyDirectory: 'production' | 'staging'
    readonly renewCheckIntervalSec: number
    readonly renewalThresholdDays: number
  }
  readonly oauth: {
    readonly adminUsers: readonly string[]
    readonly userUsers: readonly string[]
    readonly mcpUsers: readonly string[]
    readonly accessTokenLifetimeSec: number
    readonly refreshTokenLifetimeSec: number
    /** OAUTH_CIMD_ALLOW_PRIVATE: client ID metadata documents may come from private and loopback addresses. */
    readonly cimdAllowPrivate: boolean
    /** Dynamic client registration (RFC 7591): who may register, how often, and how long an unused client lives. */
    readonly registration: {
      readonly mode: 'open' | 'token' | 'closed'
      /** Requests per client address per hour; 0 = no limit. */
      readonly perAddressPerHour: number
      readonly unusedClientTtlSec: number
    }
  }
  /** MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS: the public listeners' connection caps. */
  readonly connections: { readonly max: number; readonly maxPerAddress: number }
  readonly proxyProtocolTrusted: readonly string[]
  /** FORWARD_AUTH_TRUSTED: callers of /verify whose X-Forwarded-* describe the request to check. */
  readonly forwardAuthTrusted: readonly string[]
  /** METRICS_TRUSTED: scrapers that may read /metrics without a token. */
  readonly metricsTrusted: readonly string[]
  /** Rate limits (#13): per client address on the authorization server, per token and per address on the API; null = off. */
  readonly rateLimits: {
    /** RATE_LIMIT_EXEMPT: CIDRs no limit applies to. */
    readonly exempt: readonly string[]
    readonly oauth: RateSetting | null
    readonly api: RateSetting | null
    readonly apiAddress: RateSetting | null
  }
  /** Docker services (#14): the engine and what the manager may hand out. */
  readonly docker: {
    /** DOCKER_SERVICES: false leaves the engine alone and /services unavailable. */
    readonly enabled: boolean
    /** DOCKER_HOST; undefined means the local socket. */
    readonly host: string | undefined
    /** SERVICE_PORTS: where "auto" host ports come from. */
    readonly ports: { readonly first: number; readonly last: number }
    /** SERVICE_PORTS_RESTRICTED: never handed out, not even by number. */
    readonly restrictedPorts: readonly number[]
    /** SERVICE_BIND_ROOT without a trailing slash; null refuses bind mounts. */
    readonly bindRoot: string | null
    /** SERVICE_REGISTRY host[:port]; null pulls nothing. */
    readonly registry: string | null
    /** SERVICE_NETWORK: the network shared with the services (service:// by name there); null: host ports. */
    readonly network: string | null
  }
  /** BASE_DOMAIN, lower-cased: auto_proxy hostnames are <service>.<baseDomain>. */
  readonly baseDomain: string | undefined
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent'
  /** The request log (#12). */
  readonly requestLog: {
    /** REQUEST_LOG: false keeps no records. */
    readonly enabled: boolean
    readonly retentionSec: number
    readonly maxRecords: number
    readonly accessLog: 'stdout' | 'off'
    readonly ringSize: number
  }
  /** WORKERS: serving processes on this host ("auto" resolved to the number of cores). */
  readonly workers: number
  /** SHUTDOWN_DRAIN: how long in-flight work may go on after SIGTERM closed the listeners. */
  readonly shutdownDrainSec: number
}

/** Start-up stops on this: every problem, one line each, naming the variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'))
    this.name = 'ConfigError'
  }
}

/**
 * Flags win over the environment (a setting's own variable, then the original's name for it), which wins
 * over defaults. An empty value counts as unset.
 * Every setting is checked before reporting, so one run shows every mistake.
 */
export function loadConfig(env: Record<string, string | undefined>, flags: Partial<Record<string, string>> = {}): Config {
  const problems: string[] = []
  const parsed = {} as Record<SettingName, unknown>
  const explicit = new Set<SettingName>()
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const setting = SETTINGS[name]
    const flag = nonEmpty(flags[flagName(name)])
    const given = flag !== undefined ? { value: flag, source: setting.env } : fromEnv(env, [setting.env, ...(('aliases' in setting && setting.aliases) || [])])
    if (given) explicit.add(name)
    const raw = given?.value ?? setting.fallback
    if (raw === undefined) continue
    const result = v.safeParse(setting.schema as v.GenericSchema<string, unknown>, raw)
    if (result.success) parsed[name] = result.output
    else {
      const shown = 'isSecret' in setting && setting.isSecret ? '(hidden)' : JSON.stringify(raw)
      problems.push(`${given?.source ?? setting.env}: ${result.issues[0].message}, got ${shown}`)
    }
  }
  if (problems.length === 0) problems.push(...sharedPortProblems(parsed as Parsed))
  if (problems.length > 0) throw new ConfigError(problems)
  return buildConfig(parsed as Parsed, explicit)
}

/** Several workers listen on the same ports, so none of them may be 0 (each process would pick another). */
function sharedPortProblems(p: Parsed): string[] {
  if (workerCountOf(p) === 1) return []
  const ports: [string, unknown][] = [['HTTP_PORT', p.httpPort], ['HTTPS_PORT', p.httpsPort], ['API_PORT', p.apiPort]]
  return ports.filter(([, port]) => port === 0).map(([env]) => `${env}: 0 cannot be shared by several workers (WORKERS), choose a port`)
}

const workerCountOf = (p: Parsed): number => (p.workers === 'auto' ? availableParallelism() : (p.workers as number))

/** The first of the names that is set (non-empty), and which one it was, so an error names what the user wrote. */
function fromEnv(env: Record<string, string | undefined>, names: readonly string[]): { value: string; source: string } | undefined {
  for (const source of names) {
    const value = nonEmpty(env[source])
    if (value !== undefined) return { value, source }
  }
  return undefined
}

function buildConfig(p: Parsed, explicit: ReadonlySet<SettingName>): Config {
  const apiHost = p.apiHost as string
  const apiPort = p.apiPort as number
  const urlHost = apiHost.includes(':') ? `[${apiHost}]` : apiHost
  return deepFreeze({
    httpPort: p.httpPort as number,
    httpsPort: p.httpsPort as number,
    listenAddress: p.listenAddress,
    proxyPorts: { http: p.proxyHttpPorts as { first: number; last: number }, https: p.proxyHttpsPorts as { first: number; last: number } },
    apiHost,
    apiPort,
    dataDir: p.dataDir as string,
    redisUrl: p.redisUrl,
    publicUrl: p.publicUrl ?? `http://${urlHost === '0.0.0.0' ? '127.0.0.1' : urlHost}:${apiPort}`,
    nodeId: p.nodeId ?? hostname(),
    github: { clientId: p.githubClientId, clientSecret: p.githubClientSecret, url: p.githubUrl as string, apiUrl: p.githubApiUrl as string },
    acme: {
      directoryUrl: p.acmeDirectoryUrl as string,
      stagingUrl: p.acmeStagingUrl as string,
      email: p.acmeEmail,
      proxyDirectory: explicit.has('acmeDirectoryUrl') ? 'production' : 'staging',
      renewCheckIntervalSec: p.acmeRenewCheckIntervalSec as number,
      renewalThresholdDays: p.acmeRenewalThresholdDays as number,
    },
    oauth: {
      adminUsers: p.oauthAdminUsers as string[],
      userUsers: p.oauthUserUsers as string[],
      mcpUsers: p.oauthMcpUsers as string[],
      accessTokenLifetimeSec: p.accessTokenLifetimeSec as number,
      refreshTokenLifetimeSec: p.refreshTokenLifetimeSec as number,
      cimdAllowPrivate: p.cimdAllowPrivate as boolean,
      registration: {
        mode: p.oauthRegistration as 'open' | 'token' | 'closed',
        perAddressPerHour: p.oauthRegistrationsPerHour as number,
        unusedClientTtlSec: p.oauthUnusedClientTtlSec as number,
      },
    },
    connections: { max: p.maxConnections as number, maxPerAddress: p.maxConnectionsPerAddress as number },
    proxyProtocolTrusted: p.proxyProtocolTrusted as string[],
    forwardAuthTrusted: p.forwardAuthTrusted as string[],
    metricsTrusted: p.metricsTrusted as string[],
    rateLimits: {
      exempt: p.rateLimitExempt as string[],
      oauth: p.rateLimitOAuth as RateSetting | null,
      api: p.rateLimitApi as RateSetting | null,
      apiAddress: p.rateLimitApiAddress as RateSetting | null,
    },
    docker: {
      enabled: p.dockerServices as boolean,
      host: p.dockerHost,
      ports: p.servicePorts as { first: number; last: number },
      restrictedPorts: p.servicePortsRestricted as number[],
      bindRoot: p.serviceBindRoot ?? null,
      registry: p.serviceRegistry ?? null,
      network: p.serviceNetwork ?? null,
    },
    baseDomain: p.baseDomain,
    logLevel: p.logLevel as Config['logLevel'],
    requestLog: {
      enabled: p.requestLog as boolean,
      retentionSec: p.logRetentionSec as number,
      maxRecords: p.logMaxRecords as number,
      accessLog: p.accessLog as 'stdout' | 'off',
      ringSize: p.logRingSize as number,
    },
    workers: workerCountOf(p),
    shutdownDrainSec: p.shutdownDrainSec as number,
  })
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}
