/**
 * @module Builds the single executable with the project's own `npm run build` command, its prebuild step
 * (the web UI's files) first as npm runs it, into any path; the UI's files go to a directory of their
 * own, so builds running at once do not share dist/ui.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from './serve.ts'

export async function buildBinary(outfile: string): Promise<void> {
  const pkg = await Bun.file(join(REPO_ROOT, 'package.json')).json()
  const staging = mkdtempSync(join(tmpdir(), 'ohp-build-'))
  const ownUi = (script: string) => script.replaceAll('dist/ui', join(staging, 'ui'))
  try {
    for (const script of [pkg.scripts.prebuild, String(pkg.scripts.build).replace('dist/oauth-https-proxy', outfile)].filter(Boolean).map(ownUi)) {
      const command = script.split(' ')
      if (command[0] !== 'bun') throw new Error(`unexpected build script: ${script}`)
      const build = Bun.spawnSync([process.execPath, ...command.slice(1)], { cwd: REPO_ROOT, stdout: 'pipe', stderr: 'pipe' })
      if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`)
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}
