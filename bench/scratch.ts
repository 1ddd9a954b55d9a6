/**
 * @module A bench tool's temp directory: what was started in it is stopped and its files removed at
 * the end, also on Ctrl-C (which then exits 130).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Scratch {
  readonly dir: string
  /** Runs at the end, last added first. */
  onCleanUp(stop: () => Promise<void> | void): void
  cleanUp(): Promise<void>
}

/** A temp directory named after the tool; Ctrl-C cleans up and exits 130. */
export function scratch(tool: string): Scratch {
  const dir = mkdtempSync(join(tmpdir(), `ohp-${tool}-`))
  const cleanups: (() => Promise<void> | void)[] = []
  const cleanUp = async () => {
    for (const stop of cleanups.splice(0).reverse()) await Promise.resolve(stop()).catch((error) => console.error(`${tool}: cleanup failed:`, error))
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)))
  return { dir, onCleanUp: (stop) => void cleanups.push(stop), cleanUp }
}
