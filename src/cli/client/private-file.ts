/** @module Writing a file whole or not at all, never readable wider than asked (credentials, exported secrets). */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { CliError } from './errors.ts'

/**
 * A temp file beside `path`, created exclusively ('wx': never following an existing file) with `mode`
 * (umask can only narrow it), written and synced, then renamed over `path`: a reader sees the old file or
 * the whole new one, never a half or a wider one.
 */
export function writeFileAtomically(path: string, text: string, mode: number): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${crypto.randomUUID()}.tmp`)
  const failed = (error: unknown) => new CliError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`)
  let fd: number
  try {
    fd = openSync(temp, 'wx', mode)
  } catch (error) {
    throw failed(error)
  }
  // From here on the temp file exists: any failure (a full disk, a bad argument, the rename) removes it.
  try {
    try {
      writeSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, path)
  } catch (error) {
    try {
      unlinkSync(temp)
    } catch {
      // Already gone: nothing is left behind.
    }
    throw failed(error)
  }
}
