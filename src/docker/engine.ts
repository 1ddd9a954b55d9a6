/**
 * @module The Docker engine at DOCKER_HOST, and the one translation of its failures into DomainErrors.
 * Only the server talks to the engine; its address never reaches a client, not even inside an error.
 */
import { existsSync } from 'node:fs'
import type Dockerode from 'dockerode'
import { DomainError } from '../lib/index.ts'
import { DockerServiceError } from './service-error.ts'

const DEFAULT_SOCKET = '/var/run/docker.sock'
const PING_TIMEOUT_MS = 5_000

export interface Engine {
  readonly docker: Dockerode
  /** Resolves when the engine answers within 5 s; throws DomainError 'unavailable' otherwise. */
  ping(): Promise<void>
}

/**
 * The engine at `dockerHost` (DOCKER_HOST as config checked it: unix:///path, /path, tcp://host:port,
 * http(s)://host:port), or the local socket. Every connection option is given explicitly: docker-modem
 * would otherwise read DOCKER_HOST, DOCKER_CERT_PATH and friends from the environment itself, and config/
 * is the one reader of the environment.
 *
 * dockerode (with docker-modem, ssh2 and gRPC) adds 10-14 MiB of RSS to the process, so it is loaded
 * when first used, and a ping to a socket that does not exist does not use it: a host without Docker
 * never loads it.
 */
export function createEngine(dockerHost: string | undefined): Engine {
  const options = connectionOptions(dockerHost)
  let client: Dockerode | null = null
  const docker = () => (client ??= new (require('dockerode') as typeof Dockerode)(options))
  return {
    get docker() {
      return docker()
    },
    async ping() {
      if (options.socketPath !== undefined && !existsSync(options.socketPath)) throw new DockerServiceError('unavailable', 'the Docker engine does not answer')
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('ping timed out'), { code: 'ETIMEDOUT' })), PING_TIMEOUT_MS)
      })
      try {
        await Promise.race([docker().ping(), timeout])
      } catch (error) {
        throw engineError(error)
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

function connectionOptions(dockerHost: string | undefined): Dockerode.DockerOptions {
  const none = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, ca: undefined, cert: undefined, key: undefined, timeout: undefined }
  const address = dockerHost ?? `unix://${DEFAULT_SOCKET}`
  if (address.startsWith('/')) return { ...none, socketPath: address }
  if (address.startsWith('unix://')) return { ...none, socketPath: address.slice('unix://'.length) || DEFAULT_SOCKET }
  const url = new URL(address)
  const protocol = url.protocol === 'https:' ? 'https' : 'http' // tcp:// is plain HTTP, as the docker CLI reads it without TLS settings
  return { ...none, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (protocol === 'https' ? 2376 : 2375), protocol }
}

/** What dockerode rejects with: an HTTP answer of the engine (statusCode, json.message) or a socket error (code). */
interface EngineFailure {
  readonly statusCode?: number
  readonly json?: { readonly message?: string } | null
  readonly code?: string
  readonly message?: string
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'EPERM', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'ENOTSOCK', 'ECONNABORTED'])

/**
 * Settings the engine names in its refusals, and the service field each one is. The engine's wording
 * (20.10): "Minimum memory limit allowed is 6MB", "Range of CPUs is from 0.01 to 2.00, as there are only
 * 2 CPUs available", "invalid restart policy 'x'", "invalid CapAdd: unknown capability", "invalid mount
 * config for type "bind": ...", "unable to find user x", "exec: "x": ... no such file or directory".
 */
const FIELD_PATTERNS: readonly (readonly [RegExp, string])[] = [
  [/memory/i, 'memory_limit'],
  [/\bCPUs?\b|NanoCPUs|cpu quota|cpu period/i, 'cpu_limit'],
  [/pids/i, 'pids_limit'],
  [/restart policy/i, 'restart_policy'],
  [/CapAdd|CapDrop|capabilit/i, 'capabilities'],
  [/mount|volume|bind source/i, 'volumes'],
  [/unable to find (user|group)|\buser\b|\bgid\b|\buid\b/i, 'user'],
  [/health ?check/i, 'healthcheck'],
  [/invalid reference format|repository name|No such image|manifest unknown|pull access denied/i, 'image'],
  [/network .*not found|network mode|networks?\b/i, 'networks'],
  [/cannot assign requested address|invalid port|port specification|HostIp|host ip/i, 'port_configs'],
  [/\bexec\b|executable file not found|no such file or directory/i, 'command'],
  [/environment|\benv\b/i, 'environment'],
  [/label/i, 'labels'],
]

/**
 * Translates a dockerode failure into a DomainError:
 * - the engine does not answer (socket missing, refused, reset, timed out) → 'unavailable';
 * - 404 "No such image" → 'invalid' naming `image`; "network x not found" → 'invalid' naming `networks`;
 *   any other 404 (no such container) → 'not_found';
 * - "port is already allocated" / "address already in use" → 'conflict' naming `port_configs`; any other
 *   409 (a container name in use, removing a running container) → 'conflict';
 * - 400, or a 500 that names a setting → 'invalid' naming the field when the message tells it, else `field`;
 * - any other 5xx → 'unavailable' (the engine failed; the same request may succeed later).
 * Errors that did not come from the engine (our own bugs) are returned unchanged, to surface as a 500.
 * Messages are the engine's own, with socket paths and engine addresses removed.
 */
export function engineError(error: unknown, field?: string): Error {
  if (error instanceof DomainError) return error
  const failure = (error ?? {}) as EngineFailure
  if (typeof failure.statusCode !== 'number') {
    if (failure.code && CONNECTION_CODES.has(failure.code)) return new DockerServiceError('unavailable', 'the Docker engine does not answer')
    return error instanceof Error ? error : new Error(String(error))
  }
  const status = failure.statusCode
  const message = engineMessage(error)
  if (/port is already allocated|address already in use/i.test(message)) return new DockerServiceError('conflict', `a host port is taken: ${message}`, 'port_configs')
  if (status === 404) {
    if (/no such image/i.test(message)) return new DockerServiceError('invalid', message, 'image')
    if (/network .*not found/i.test(message)) return new DockerServiceError('invalid', message, 'networks')
    return new DockerServiceError('not_found', message || 'not found on the Docker engine')
  }
  if (status === 409) return new DockerServiceError('conflict', message || 'conflict on the Docker engine')
  const named = FIELD_PATTERNS.find(([pattern]) => pattern.test(message))?.[1]
  if (status < 500) return new DockerServiceError('invalid', `the Docker engine refused it: ${message}`, named ?? field)
  if (named && /invalid|unable to find|not found|no such|refused|cannot|minimum|maximum|range of|exec:/i.test(message)) {
    return new DockerServiceError('invalid', `the Docker engine refused it: ${message}`, named)
  }
  return new DockerServiceError('unavailable', `the Docker engine failed: ${message || `HTTP ${status}`}`)
}

/** The engine's own words in a dockerode failure, scrubbed of where the engine lives. */
export function engineMessage(error: unknown): string {
  const failure = (error ?? {}) as EngineFailure
  // Streaming endpoints (pull, build, logs) carry no parsed json: the words are only in the message.
  return scrub(failure.json?.message ?? stripStatusPrefix(failure.message ?? ''))
}

/** dockerode's "(HTTP code 404) no such container - " prefix. */
function stripStatusPrefix(message: string): string {
  return message.replace(/^\(HTTP code \d+\)\s*[^-]*-\s*/, '').trim()
}

/** Removes what would tell a client where the engine lives: socket paths and unix:// or tcp:// addresses. */
function scrub(message: string): string {
  return message
    .replace(/\b(unix|tcp|npipe):\/\/\S+/gi, 'the engine')
    .replace(/\/\S*\.sock\b/g, 'the engine socket')
    .trim()
}
