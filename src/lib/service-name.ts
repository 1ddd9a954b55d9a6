/**
 * @module External service names: the one rule, shared by the services module and every place that
 * points at a service (a proxy's `service://<name>` target, a route's `service` target).
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

/** The name rule as a schema, for every boundary that takes a service name (external and Docker services, API paths). */
export const ServiceNameSchema = v.pipe(
  v.string('expected a service name'),
  v.regex(SERVICE_NAME, 'expected 1-63 lower-case letters, digits, "_" or "-", starting with a letter or digit'),
  v.check((name) => !RESERVED_SERVICE_NAMES.has(name), `is reserved (${[...RESERVED_SERVICE_NAMES].join(', ')} name fixed API paths)`),
)
