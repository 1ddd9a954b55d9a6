/**
 * @module The program a created container would run must exist in its file system. Under docker-init
 * (the default, container-spec.ts) a missing program no longer fails the engine's start: init starts and
 * exits 127 a moment later, so the creation would "succeed" and the service turn failed. Checking the
 * created (not yet started) container's file system keeps it a 400 naming the field, before anything
 * runs, as the engine said without init.
 */
import type Dockerode from 'dockerode'
import { posix } from 'node:path'
import { DockerServiceError } from './service-error.ts'

/** The engine's PATH when the image sets none. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
/** A PATH longer than this is not searched (a check, not a way to make us send thousands of requests). */
const MAX_CANDIDATES = 32

const statusOf = (error: unknown) => (error as { statusCode?: number } | null)?.statusCode

/** Where the engine would look for `program`: itself when it names a path, else each PATH directory. */
export function programCandidates(program: string, env: readonly string[], workingDir: string): string[] {
  if (program.includes('/')) return [posix.resolve(workingDir || '/', program)]
  const path = env.findLast((entry) => entry.startsWith('PATH='))?.slice('PATH='.length) ?? DEFAULT_PATH
  return path.split(':').filter((dir) => dir.startsWith('/')).map((dir) => posix.join(dir, program))
}

/**
 * Throws 'invalid' naming `command` (or `image` when the image's entrypoint is the program) when none of
 * the places the engine would look has it. Anything it cannot tell (an engine error, a very long PATH)
 * lets the start go ahead: the engine still has the last word.
 */
export async function checkProgram(container: Dockerode.Container, created: Dockerode.ContainerInspectInfo): Promise<void> {
  const entrypoint = created.Config.Entrypoint
  const program = (Array.isArray(entrypoint) && entrypoint.length > 0 ? entrypoint[0] : typeof entrypoint === 'string' ? entrypoint : created.Config.Cmd?.[0]) ?? null
  if (!program) return
  const field = entrypoint && entrypoint.length > 0 ? 'image' : 'command'
  const candidates = programCandidates(program, created.Config.Env ?? [], created.Config.WorkingDir)
  if (candidates.length === 0 || candidates.length > MAX_CANDIDATES) return
  for (const path of candidates) {
    try {
      await container.infoArchive({ path })
      return
    } catch (error) {
      if (statusOf(error) !== 404) return
    }
  }
  throw new DockerServiceError('invalid', `exec: ${JSON.stringify(program)}: executable file not found in the container (looked in ${candidates.join(', ')})`, field)
}
