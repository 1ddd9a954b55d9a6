/** @module Builds the single executable with the project's own `npm run build` command, into any path. */
import { join } from 'node:path'
import { REPO_ROOT } from './serve.ts'

export async function buildBinary(outfile: string): Promise<void> {
  const pkg = await Bun.file(join(REPO_ROOT, 'package.json')).json()
  const command = String(pkg.scripts.build).replace('dist/oauth-https-proxy', outfile).split(' ')
  if (command[0] !== 'bun') throw new Error(`unexpected build script: ${pkg.scripts.build}`)
  const build = Bun.spawnSync([process.execPath, ...command.slice(1)], { cwd: REPO_ROOT, stdout: 'pipe', stderr: 'pipe' })
  if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`)
}
