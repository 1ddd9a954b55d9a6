/**
 * @module Debian's docker-registry (distribution 2.x) on a random 127.0.0.1 port, storing under a temporary
 * directory. dockerd treats registries on 127.0.0.0/8 as insecure-allowed by default, so images are pushed
 * and pulled over plain HTTP with no daemon configuration.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { docker } from './docker-cli.ts'
import { freePort, waitFor } from './ports.ts'

export const REGISTRY_BINARY = '/usr/bin/docker-registry'

export interface TestRegistry {
  /** host:port, the prefix of image references in this registry ("127.0.0.1:PORT"). */
  readonly url: string
  /** Tags the local image as url/repo (":latest" when repo has no tag), pushes it, and returns that reference. */
  push(localTag: string, repo: string): Promise<string>
  /** Stops the registry, removes its storage and the local tags push() made. */
  stop(): Promise<void>
}

export async function startRegistry(): Promise<TestRegistry> {
  const port = await freePort()
  // stop() in test-services.sh finds leftovers of crashed runs by this directory prefix.
  const dir = mkdtempSync(join(tmpdir(), 'ohp-registry-'))
  const config = join(dir, 'config.yml')
  writeFileSync(
    config,
    `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
`,
  )
  const logPath = join(dir, 'registry.log')
  const proc = Bun.spawn([REGISTRY_BINARY, 'serve', config], { stdin: 'ignore', stdout: Bun.file(logPath), stderr: Bun.file(logPath) })
  const url = `127.0.0.1:${port}`
  const pushed = new Set<string>()
  const stop = async () => {
    proc.kill('SIGKILL')
    await proc.exited
    for (const ref of pushed) await docker('rmi', ref).catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(async () => (await fetch(`http://${url}/v2/`)).status === 200, { timeoutMs: 20_000, intervalMs: 50, what: `docker-registry on ${url}` })
  } catch (error) {
    const log = await Bun.file(logPath).text().catch(() => '')
    await stop()
    throw new Error(`${(error as Error).message}\n${log}`)
  }
  return {
    url,
    async push(localTag, repo) {
      const ref = `${url}/${/:[^/]*$/.test(repo) ? repo : `${repo}:latest`}`
      await docker('tag', localTag, ref)
      pushed.add(ref)
      await docker('push', '--quiet', ref)
      return ref
    },
    stop,
  }
}
