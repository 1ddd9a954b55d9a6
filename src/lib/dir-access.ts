/**
 * @module Why a directory this process must write in is not writable: said in terms of owners and
 * modes, because "unable to open database file" does not tell a user running a container as another
 * uid (docker run --user, a bind-mounted directory) what to change.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

/**
 * What keeps this process from writing `fileName` in `dir` (or from creating `dir` in its nearest
 * existing parent), with the owner to chown to; null when nothing does, or the cause is something else.
 */
export function unwritableReason(dir: string, fileName: string): string | null {
  const file = join(dir, fileName)
  if (existsSync(file) && !canWrite(file, constants.W_OK)) return ownership(file)
  let existing = resolve(dir)
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing)
  return canWrite(existing, constants.W_OK | constants.X_OK) ? null : ownership(existing)
}

function canWrite(path: string, mode: number): boolean {
  try {
    accessSync(path, mode)
    return true
  } catch {
    return false
  }
}

function ownership(path: string): string {
  const { uid, gid, mode } = statSync(path)
  const self = `uid ${process.getuid?.() ?? '?'}, gid ${process.getgid?.() ?? '?'}`
  return `${path} is not writable by this process (${self}): it belongs to uid ${uid}, gid ${gid}, mode ${(mode & 0o777).toString(8)}; chown it to this user, or run the server as its owner`
}
