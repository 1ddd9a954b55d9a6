/**
 * @module Where a service's bind mount may point: only under SERVICE_BIND_ROOT. The path is normalised
 * first (so `/root/a/../../etc` is `/etc`), then, when the server checks a spec, resolved through
 * symbolic links on this host (so a link under the root pointing outside it is refused too).
 *
 * The root is a path on the engine's host; the symbolic-link check assumes that host is this one (the
 * local socket, the usual case). It is a check at validation time: dockerd resolves the path again when
 * the container starts, so whoever can write under the root can still swap a directory for a link
 * later. Keep the root writable by the server's operators only.
 */
import { realpathSync } from 'node:fs'
import { posix } from 'node:path'
import { DockerServiceError } from './service-error.ts'

/** A Docker volume name: what `docker volume create` accepts. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/

export type MountSource = { readonly kind: 'volume'; readonly name: string } | { readonly kind: 'bind'; readonly path: string }

/** Reads `volumes[index].source` as a named volume or a bind path under bindRoot; throws 'invalid' naming it. */
export function mountSource(source: string, index: number, bindRoot: string | null): MountSource {
  const field = `volumes[${index}].source`
  if (VOLUME_NAME.test(source)) return { kind: 'volume', name: source }
  if (!source.startsWith('/')) throw new DockerServiceError('invalid', 'expected a volume name (letters, digits, "_", ".", "-") or an absolute host path', field)
  if (source.includes('\0')) throw new DockerServiceError('invalid', 'a path must not contain NUL', field)
  if (bindRoot === null) throw new DockerServiceError('invalid', 'bind mounts are refused: SERVICE_BIND_ROOT is not set (named volumes work)', field)
  const path = posix.normalize(source).replace(/(.)\/+$/, '$1')
  if (!isWithin(path, bindRoot)) throw new DockerServiceError('invalid', 'a bind mount must lie under SERVICE_BIND_ROOT', field)
  return { kind: 'bind', path }
}

/**
 * The symbolic-link half of the check, on this host's file system: the source must exist (the engine
 * refuses a missing bind source anyway) and its real path must lie under the root's real path.
 */
export function checkBindOnHost(path: string, index: number, bindRoot: string): void {
  const field = `volumes[${index}].source`
  let real: string
  let realRoot: string
  try {
    realRoot = realpathSync(bindRoot)
  } catch {
    throw new DockerServiceError('invalid', 'SERVICE_BIND_ROOT does not exist on this host, so no bind mount can be checked', field)
  }
  try {
    real = realpathSync(path)
  } catch {
    throw new DockerServiceError('invalid', 'the bind mount source does not exist on the host', field)
  }
  if (!isWithin(real, realRoot)) throw new DockerServiceError('invalid', 'a bind mount must lie under SERVICE_BIND_ROOT (this path leads outside it through a symbolic link)', field)
}

/** `path` is `root` or below it, as whole path segments (/srv/data2 is not under /srv/data). */
function isWithin(path: string, root: string): boolean {
  const base = root.replace(/\/+$/, '')
  return path === base || path.startsWith(`${base}/`)
}
