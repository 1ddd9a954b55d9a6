/**
 * @module A Docker service's settings from the command line: flags for the common fields (each named
 * after its API field: `--memory-limit` is memory_limit), `--file` for the whole spec as JSON or YAML
 * (flags given win over the file), and the proxy flags of `create --auto-proxy` and `service proxy`.
 * What the values may be is the API's to judge: its 400 names the field.
 */
import { readFileSync } from 'node:fs'
import { CliError } from '../client/index.ts'
import { choices, given, headerMap, parseInteger, usageError } from './flags.ts'
import { readDocument } from './system-config.ts'

export const SPEC_ARGS = {
  file: { type: 'string', alias: 'f', valueHint: 'spec.json|spec.yaml', description: 'the full spec (every field of POST /services), as JSON or YAML; flags given replace its fields' },
  image: { type: 'string', valueHint: 'ref', description: 'image reference (name:tag, or registry:5000/name:tag)' },
  dockerfile: { type: 'string', valueHint: 'path', description: 'build the image from this Dockerfile (its text is sent; no build context)' },
  command: { type: 'string', valueHint: 'words', description: 'the command, split on spaces ("httpd -f -p 8080"); for arguments with spaces use --file' },
  env: { type: 'string', valueHint: 'NAME=VALUE', description: 'environment variable; repeatable; replaces the set; "none" empties it' },
  label: { type: 'string', valueHint: 'key=value', description: 'container label; repeatable; replaces the set; "none" empties it' },
  'memory-limit': { type: 'string', valueHint: 'size', description: 'memory limit such as 256m or 1g (default 512m)' },
  'cpu-limit': { type: 'string', valueHint: 'cpus', description: 'CPUs, such as 0.5 (default 1)' },
  'pids-limit': { type: 'string', valueHint: 'n', description: 'most processes (default 256)' },
  'read-only-root': { type: 'boolean', description: 'read-only root file system (default)', negativeDescription: 'a writable root file system' },
  user: { type: 'string', valueHint: 'user[:group]', description: 'run as this user (name, uid or uid:gid)' },
  capability: { type: 'string', valueHint: 'CAP', description: 'capability added back after cap_drop ALL; repeatable; "none" empties the list' },
  volume: { type: 'string', valueHint: 'source:target[:ro]', description: 'a named volume or a bind mount (under SERVICE_BIND_ROOT); repeatable; "none" empties the list' },
  'restart-policy': { type: 'string', valueHint: 'policy', description: 'no, always, unless-stopped (default), on-failure or on-failure:N' },
  'internal-port': { type: 'string', valueHint: 'port', description: 'the container port to publish as the port "http" (host port auto, 127.0.0.1)' },
  port: { type: 'string', valueHint: 'name:container[:host|auto]', description: 'a published port on 127.0.0.1; repeatable; replaces port_configs (bind address and protocol: --file)' },
  network: { type: 'string', valueHint: 'name', description: 'a network to join (created when missing); repeatable; "none" empties the list' },
  description: { type: 'string', valueHint: 'text', description: 'free text, at most 500 characters' },
} as const

export const PROXY_ARGS = {
  hostname: { type: 'string', valueHint: 'hostname', description: 'the proxy\'s hostname (default <name>.<BASE_DOMAIN>)' },
  'enable-https': { type: 'boolean', description: 'serve it over HTTPS too (default)', negativeDescription: 'HTTP only' },
  'auth-enabled': { type: 'boolean', description: 'require a token (OAuth) to reach it', negativeDescription: 'no auth (default)' },
  'auth-mode': { type: 'enum', options: choices('forward', 'redirect', 'passthrough'), valueHint: 'forward|redirect|passthrough', description: 'how a request without a token is answered' },
  'auth-required-users': { type: 'string', valueHint: 'login,...', description: 'who may enter: GitHub logins or *; comma-separated or repeatable' },
} as const

type Flags<T> = { readonly [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string }
export type SpecFlags = Flags<typeof SPEC_ARGS>
export type ProxyFlags = Flags<typeof PROXY_ARGS>
/** Every value of a repeatable flag (defineApiCommand's `repeated`). */
type Repeated<Name extends string> = (name: Name) => string[] | undefined

/** The spec file (JSON, or YAML, read as `system config import` reads its document); it must be one object. */
export function readSpecFile(path: string): Record<string, unknown> {
  const spec = readDocument(path)
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new CliError(`${path}: expected one object with the service's fields`)
  return spec as Record<string, unknown>
}

/** A list flag; a lone "none" is the empty list. */
function listOf(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined
  return values.length === 1 && values[0]!.trim() === 'none' ? [] : values.flatMap((value) => value.split(',')).map((item) => item.trim()).filter(Boolean)
}

function numberOf(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  if (!/^\d+(\.\d+)?$/.test(text.trim())) throw usageError(`--${name}: expected a number, got ${JSON.stringify(text)}`)
  return Number(text.trim())
}

/** `data:/var/lib/data`, `/srv/www:/www:ro`. */
function volumeOf(text: string): { source: string; target: string; read_only: boolean } {
  const parts = text.split(':')
  const readOnly = parts.length === 3 && parts[2] === 'ro'
  if (parts.length < 2 || parts.length > 3 || (parts.length === 3 && !readOnly && parts[2] !== 'rw')) throw usageError(`--volume: expected SOURCE:TARGET or SOURCE:TARGET:ro, got ${JSON.stringify(text)}`)
  return { source: parts[0]!, target: parts[1]!, read_only: readOnly }
}

/** `http:8080`, `http:8080:20001`, `http:8080:auto`. */
function portOf(text: string): { name: string; container_port: number; host_port?: number | 'auto' } {
  const match = /^([^:]+):(\d{1,5})(?::(\d{1,5}|auto))?$/.exec(text.trim())
  if (!match) throw usageError(`--port: expected NAME:CONTAINER_PORT[:HOST_PORT|auto], got ${JSON.stringify(text)}`)
  const host = match[3] === undefined ? undefined : match[3] === 'auto' ? 'auto' : Number(match[3])
  return { name: match[1]!, container_port: Number(match[2]), ...(host === undefined ? {} : { host_port: host }) }
}

/** The spec fields the flags give (only those), the Dockerfile read from its file. */
export function specFromFlags(args: SpecFlags, repeated: Repeated<'env' | 'label' | 'capability' | 'volume' | 'port' | 'network'>): Record<string, unknown> {
  let dockerfile: string | undefined
  if (args.dockerfile !== undefined) {
    try {
      dockerfile = readFileSync(args.dockerfile, 'utf8')
    } catch (error) {
      throw usageError(`--dockerfile: cannot read ${args.dockerfile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
    }
  }
  return given({
    image: args.image,
    dockerfile,
    command: args.command === undefined ? undefined : args.command.split(/\s+/).filter(Boolean),
    environment: headerMap('env', repeated('env')),
    labels: headerMap('label', repeated('label')),
    memory_limit: args['memory-limit'],
    cpu_limit: numberOf('cpu-limit', args['cpu-limit']),
    pids_limit: args['pids-limit'] === undefined ? undefined : parseInteger('pids-limit', args['pids-limit']),
    read_only_root: args['read-only-root'],
    user: args.user,
    capabilities: listOf(repeated('capability')),
    volumes: listOf(repeated('volume'))?.map(volumeOf),
    restart_policy: args['restart-policy'],
    internal_port: args['internal-port'] === undefined ? undefined : parseInteger('internal-port', args['internal-port']),
    port_configs: repeated('port')?.map(portOf),
    networks: listOf(repeated('network')),
    description: args.description,
  })
}

/** The proxy settings the flags give; undefined when none is given. */
export function proxyFromFlags(args: ProxyFlags, repeated: Repeated<'auth-required-users'>): Record<string, unknown> | undefined {
  const proxy = given({
    hostname: args.hostname,
    enable_https: args['enable-https'],
    auth_enabled: args['auth-enabled'],
    auth_mode: args['auth-mode'],
    auth_required_users: listOf(repeated('auth-required-users')),
  })
  return Object.keys(proxy).length > 0 ? proxy : undefined
}

/** The file's spec with the flags' fields over it; `image` and `dockerfile` replace each other. */
export function mergeSpec(fromFile: Record<string, unknown>, fromFlags: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...fromFile, ...fromFlags }
  if (fromFlags.image !== undefined && fromFlags.dockerfile === undefined) delete merged.dockerfile
  if (fromFlags.dockerfile !== undefined && fromFlags.image === undefined) delete merged.image
  if (fromFlags.port_configs !== undefined) delete merged.internal_port
  if (fromFlags.internal_port !== undefined) delete merged.port_configs
  return merged
}
