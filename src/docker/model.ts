/**
 * @module A Docker service: a container this server runs from an image (or an inline Dockerfile) and
 * can publish on a hostname. Field names follow the original's DockerServiceConfig
 * (original-behaviour §2.5, §7). Every field is honoured or refused with a 400 naming it; nothing is
 * silently ignored (the original ignored volumes, read_only_root, user, capabilities, restart_policy
 * and healthcheck). What the engine might accept but we never allow (privileged, host network,
 * devices, bind mounts outside SERVICE_BIND_ROOT) is refused by name, not by "unknown field".
 */
import * as v from 'valibot'
import { SERVICE_PORT_NAME, ServiceNameSchema } from '../lib/index.ts'

/** `name` of a port: what `service://<service>:<port name>` and /services/{name}/ports/{port_name} use. */
export const PORT_NAME = SERVICE_PORT_NAME
export const PortNameSchema = v.pipe(v.string('expected a port name'), v.regex(PORT_NAME, 'expected 1-32 lower-case letters, digits or "-", starting with a letter'))

const Port = v.pipe(v.number('expected a port number'), v.integer('expected an integer'), v.minValue(1, 'at least 1'), v.maxValue(65_535, 'at most 65535'))

/** One published port. host_port "auto" takes a free port of SERVICE_PORTS, claimed across every node. */
export const PortConfigSchema = v.strictObject(
  {
    name: PortNameSchema,
    container_port: Port,
    host_port: v.optional(v.union([Port, v.literal('auto')], 'expected a port number or "auto"'), 'auto'),
    /** Loopback by default: the edge reaches it there, and nothing else on the network can. */
    bind_address: v.optional(v.pipe(v.string('expected an IP address'), v.ip('expected an IP address')), '127.0.0.1'),
    protocol: v.optional(v.picklist(['tcp', 'udp'], 'expected "tcp" or "udp"'), 'tcp'),
    description: v.optional(v.pipe(v.string(), v.maxLength(200, 'at most 200 characters')), ''),
  },
  'unknown field',
)

/** A named volume (`data`) or a bind mount (`/absolute/path`, only under SERVICE_BIND_ROOT). */
export const VolumeSchema = v.strictObject(
  {
    source: v.pipe(v.string('expected a volume name or an absolute path'), v.minLength(1, 'must not be empty'), v.maxLength(4096, 'too long')),
    target: v.pipe(v.string('expected an absolute path in the container'), v.regex(/^\/[^\0]*$/, 'expected an absolute path in the container')),
    read_only: v.optional(v.boolean('expected true or false'), false),
  },
  'unknown field',
)

export const HealthcheckSchema = v.strictObject(
  {
    /** Docker's form: ["CMD", "prog", "arg"] or ["CMD-SHELL", "command line"]. */
    test: v.pipe(v.array(v.pipe(v.string(), v.maxLength(4096, 'at most 4096 characters'), v.check((text: string) => !text.includes('\0'), 'must not contain NUL'))), v.maxLength(64, 'at most 64 words'), v.minLength(2, 'expected ["CMD", ...] or ["CMD-SHELL", "..."]'), v.check((t) => t[0] === 'CMD' || t[0] === 'CMD-SHELL', 'must start with "CMD" or "CMD-SHELL"')),
    interval_sec: v.optional(v.pipe(v.number(), v.minValue(1, 'at least 1 s'), v.maxValue(3600, 'at most 3600 s')), 30),
    timeout_sec: v.optional(v.pipe(v.number(), v.minValue(1, 'at least 1 s'), v.maxValue(600, 'at most 600 s')), 10),
    retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1, 'at least 1'), v.maxValue(100, 'at most 100')), 3),
    start_period_sec: v.optional(v.pipe(v.number(), v.minValue(0, 'at least 0'), v.maxValue(3600, 'at most 3600 s')), 0),
  },
  'unknown field',
)

/** "no", "always", "unless-stopped", "on-failure" or "on-failure:N". */
export const RestartPolicySchema = v.pipe(v.string('expected a restart policy'), v.regex(/^(no|always|unless-stopped|on-failure(:\d{1,3})?)$/, 'expected no, always, unless-stopped, on-failure or on-failure:N'))

/** Docker's size form: 512m, 1g, 65536k, or bytes. At least 6 MiB (the engine's own floor). */
export const MemorySchema = v.pipe(v.string('expected a size such as "512m"'), v.regex(/^\d{1,12}[bkmg]?$/i, 'expected a size such as "512m", "1g" or a byte count'))

const EnvName = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/
/**
 * Bounded in count and in total size: the environment is copied into the program's exec (Linux refuses
 * more than ARG_MAX, 2 MiB, with E2BIG), and labels travel with every container listing and event.
 */
const MAX_MAP_ENTRIES = 1024
const MAX_MAP_BYTES = 1024 * 1024
/** A C string to the kernel (exec's argv and envp): a NUL would cut it, and the engine fails the start on one in the environment. */
const noNul = v.check((text: string) => !text.includes('\0'), 'must not contain NUL')
const StringMap = (what: string, keyRule: RegExp) =>
  v.pipe(
    v.record(v.string(), v.pipe(v.string(`expected a string value for each ${what}`), v.maxLength(32_768, 'at most 32768 characters'), noNul)),
    v.check((map) => Object.keys(map).length <= MAX_MAP_ENTRIES, `at most ${MAX_MAP_ENTRIES} entries`),
    v.check((map) => Object.entries(map).reduce((total, [key, value]) => total + key.length + value.length + 2, 0) <= MAX_MAP_BYTES, 'at most 1 MiB in all'),
    v.check((map) => Object.keys(map).every((key) => keyRule.test(key)), `every ${what} name must match ${keyRule.source}`),
  )

/** Labels under this prefix are ours (ownership); a service cannot set them. */
export const OWNER_LABEL_PREFIX = 'io.oauth-https-proxy.'

const fields = {
  image: v.optional(v.pipe(v.string('expected an image reference'), v.regex(/^[a-z0-9][a-z0-9._\/:@-]{0,254}$/i, 'expected an image reference such as "name:tag" or "registry:5000/name:tag"'))),
  /** The Dockerfile's text; built with no context beyond it, tagged ohp-service/<name>:<version>. */
  dockerfile: v.optional(v.pipe(v.string('expected the Dockerfile text'), v.minLength(1, 'must not be empty'), v.maxLength(65_536, 'at most 64 KiB'))),
  build_args: v.optional(StringMap('build argument', EnvName)),
  command: v.optional(v.pipe(v.array(v.pipe(v.string('expected a string'), v.maxLength(131_072, 'at most 128 KiB an argument'), noNul), 'expected an array of strings'), v.maxLength(256, 'at most 256 arguments'))),
  environment: v.optional(StringMap('environment variable', EnvName), {}),
  labels: v.optional(
    v.pipe(
      StringMap('label', /^[a-z0-9][a-z0-9._\/-]{0,127}$/),
      v.check((map) => Object.keys(map).every((key) => !key.startsWith(OWNER_LABEL_PREFIX)), `labels under ${OWNER_LABEL_PREFIX} are reserved`),
    ),
    {},
  ),
  memory_limit: v.optional(MemorySchema, '512m'),
  cpu_limit: v.optional(v.pipe(v.number('expected a number of CPUs'), v.minValue(0.01, 'at least 0.01'), v.maxValue(1024, 'at most 1024')), 1),
  pids_limit: v.optional(v.pipe(v.number('expected an integer'), v.integer('expected an integer'), v.minValue(1, 'at least 1'), v.maxValue(1_000_000, 'at most 1000000')), 256),
  read_only_root: v.optional(v.boolean('expected true or false'), true),
  user: v.optional(v.pipe(v.string('expected a user'), v.regex(/^[a-z0-9_][a-z0-9_.-]{0,31}(:[a-z0-9_][a-z0-9_.-]{0,31})?$/i, 'expected "user", "uid" or "uid:gid"'))),
  /** Added back after `cap_drop: ALL`; only capabilities an ordinary service can need (see ALLOWED_CAPABILITIES). */
  capabilities: v.optional(v.array(v.string('expected a capability name')), []),
  no_new_privileges: v.optional(v.boolean('expected true or false'), true),
  /**
   * A minimal init (the engine's docker-init, tini) as PID 1: it forwards SIGTERM and reaps zombies. Without
   * it a program that installs no signal handler (busybox httpd, most shell scripts) ignores SIGTERM as
   * PID 1, so every stop and update waits out the grace and ends in SIGKILL. Off only for an image whose
   * entrypoint must be PID 1 itself (s6-overlay refuses to start otherwise, systemd).
   */
  init: v.optional(v.boolean('expected true or false'), true),
  volumes: v.optional(v.pipe(v.array(VolumeSchema), v.maxLength(64, 'at most 64 volumes')), []),
  restart_policy: v.optional(RestartPolicySchema, 'unless-stopped'),
  healthcheck: v.optional(v.nullable(HealthcheckSchema)),
  /** Shorthand for one port named "http" when port_configs is not given (the original's internal_port). */
  internal_port: v.optional(Port),
  port_configs: v.optional(v.pipe(v.array(PortConfigSchema), v.maxLength(32, 'at most 32 ports'))),
  /** Networks the container joins (created when missing, labelled as ours). "host" is refused. */
  networks: v.optional(v.pipe(v.array(v.pipe(v.string(), v.regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, 'expected a network name'))), v.maxLength(8, 'at most 8 networks')), []),
  // Accepted only to refuse by name (a clear 400 instead of "unknown field"):
  privileged: v.optional(v.literal(false, 'privileged containers are refused')),
  network_mode: v.optional(v.picklist(['bridge', 'none'], 'only "bridge" or "none": the host network is refused')),
  devices: v.optional(v.pipe(v.array(v.unknown()), v.maxLength(0, 'device mappings are refused'))),
  description: v.optional(v.pipe(v.string(), v.maxLength(500, 'at most 500 characters')), ''),
}

/** POST /services. Exactly one of image and dockerfile. */
export const CreateDockerServiceSchema = v.pipe(
  v.strictObject({ service_name: ServiceNameSchema, ...fields }, 'unknown field'),
  v.forward(
    v.check((spec) => (spec.image === undefined) !== (spec.dockerfile === undefined), 'give exactly one of image and dockerfile'),
    ['image'],
  ),
  v.forward(
    v.check((spec) => spec.internal_port === undefined || spec.port_configs === undefined, 'give internal_port or port_configs, not both'),
    ['internal_port'],
  ),
)

/** PUT /services/{name}: the full desired settings again (the container is recreated; named volumes stay). */
export const UpdateDockerServiceSchema = v.pipe(
  v.strictObject(fields, 'unknown field'),
  v.forward(
    v.check((spec) => (spec.image === undefined) !== (spec.dockerfile === undefined), 'give exactly one of image and dockerfile'),
    ['image'],
  ),
)

export type CreateDockerService = v.InferOutput<typeof CreateDockerServiceSchema>
export type UpdateDockerService = v.InferOutput<typeof UpdateDockerServiceSchema>
export type PortConfig = v.InferOutput<typeof PortConfigSchema>

/** A port as allocated: host_port is a number once the service exists. */
export interface AllocatedPort extends Omit<PortConfig, 'host_port'> {
  readonly host_port: number
  /** Whether host_port was picked from SERVICE_PORTS ("auto") rather than asked for. */
  readonly auto: boolean
}

export type ServiceStatus = 'creating' | 'running' | 'stopped' | 'restarting' | 'failed' | 'missing'

/** The stored document, and what the API returns. */
export interface DockerService extends Omit<CreateDockerService, 'port_configs' | 'internal_port'> {
  readonly kind: 'docker'
  readonly ports: readonly AllocatedPort[]
  readonly status: ServiceStatus
  /** Set when status is failed (the container exited) or missing (deleted behind our back). */
  readonly exit_code: number | null
  readonly status_detail: string | null
  readonly health_status: 'starting' | 'healthy' | 'unhealthy' | null
  readonly container_id: string | null
  readonly image_id: string | null
  readonly created_by: string | null
  readonly created_at: string
  readonly updated_at: string
}

const SERVICE_STATUSES = ['creating', 'running', 'stopped', 'restarting', 'failed', 'missing'] as const satisfies readonly ServiceStatus[]

const { internal_port: _shorthand, port_configs: _asked, ...storedFields } = fields

/** The stored document's schema: every store read and write goes through it (docker/service-store.ts). */
export const DockerServiceSchema = v.object({
  service_name: ServiceNameSchema,
  ...storedFields,
  kind: v.literal('docker'),
  ports: v.pipe(v.array(v.object({ ...PortConfigSchema.entries, host_port: Port, auto: v.boolean() })), v.readonly()),
  status: v.picklist(SERVICE_STATUSES),
  exit_code: v.nullable(v.number()),
  status_detail: v.nullable(v.string()),
  health_status: v.nullable(v.picklist(['starting', 'healthy', 'unhealthy'])),
  container_id: v.nullable(v.string()),
  image_id: v.nullable(v.string()),
  created_by: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
})
