/**
 * @module Service names: the one rule, shared by external and Docker services and every place that points
 * at a service (a proxy's `service://<name>[:<port name>]` target, a route's `service` target).
 */
import * as v from 'valibot'

/** Lower-case letters, digits, "_" and "-", starting with a letter or digit, at most 63 characters. */
export const SERVICE_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/

/** Fixed API paths under /services; a service with one of these names could never be addressed. */
export const RESERVED_SERVICE_NAMES: ReadonlySet<string> = new Set(['external', 'ports', 'unified', 'cleanup', 'proxy'])

/** The scheme of a proxy target that names a service instead of a URL. */
export const SERVICE_SCHEME = 'service://'

export function isServiceName(text: string): boolean {
  return SERVICE_NAME.test(text) && !RESERVED_SERVICE_NAMES.has(text)
}

/** A Docker service's port name: what `service://<service>:<port name>` and /services/{name}/ports/{port_name} use. */
export const SERVICE_PORT_NAME = /^[a-z][a-z0-9-]{0,31}$/

/** What a service target names: a service, and for a Docker service optionally one of its ports (null: its first). */
export interface ServiceRef {
  readonly name: string
  readonly port: string | null
}

/** `name` or `name:port` (the part after `service://`); null when either part breaks its rule. */
export function parseServiceRef(text: string): ServiceRef | null {
  const colon = text.indexOf(':')
  const name = colon === -1 ? text : text.slice(0, colon)
  const port = colon === -1 ? null : text.slice(colon + 1)
  return isServiceName(name) && (port === null || SERVICE_PORT_NAME.test(port)) ? { name, port } : null
}

/** The name rule as a schema, for every boundary that takes a service name (external and Docker services, API paths). */
export const ServiceNameSchema = v.pipe(
  v.string('expected a service name'),
  v.regex(SERVICE_NAME, 'expected 1-63 lower-case letters, digits, "_" or "-", starting with a letter or digit'),
  v.check((name) => !RESERVED_SERVICE_NAMES.has(name), `is reserved (${[...RESERVED_SERVICE_NAMES].join(', ')} name fixed API paths)`),
)
