/**
 * @module The project's own container images for tests, built offline by scripts/build-image.sh and
 * scripts/build-redis-image.sh. Each is tagged with a hash of its inputs, so a test run builds it once
 * and a later run with the same sources reuses it; test files (separate processes) that ask at the same
 * time wait on one flock instead of building twice.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { docker } from './docker-cli.ts'
import { REPO_ROOT } from './serve.ts'

export const APP_IMAGE_REPOSITORY = 'ohp-test/oauth-https-proxy'
export const REDIS_IMAGE_REPOSITORY = 'ohp-test/redis'
/** Everything the server's image is made from (node_modules follow the lock file). */
const APP_INPUTS = ['src', 'ui', 'package.json', 'package-lock.json', 'Dockerfile', 'scripts/build-image.sh', 'scripts/image-root.sh']
const REDIS_INPUTS = ['scripts/build-redis-image.sh', 'scripts/image-root.sh']
/** A cold build (compile, base import, docker build) takes about 10 s; a busy machine gets much longer. */
const BUILD_TIMEOUT_MS = 170_000
/**
 * Tags of earlier inputs are removed once this old (each holds its own 120 MB executable); one that a
 * container still uses stays, and ensureAppImage builds again whatever was removed.
 */
const STALE_AFTER_MS = 10 * 60_000

/** The server's image for the sources as they are now; resolves to its tag. */
export async function ensureAppImage(): Promise<string> {
  const tag = `${APP_IMAGE_REPOSITORY}:${hashFiles(listInputs(APP_INPUTS))}`
  const stage = mkdtempSync(join(tmpdir(), 'ohp-image-stage-'))
  try {
    await build(tag, ['bash', 'scripts/build-image.sh'], { STAGE: stage })
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
  await removeStaleTags(APP_IMAGE_REPOSITORY, tag)
  return tag
}

/** The Redis image made from this machine's redis-server; resolves to its tag. */
export async function ensureRedisImage(): Promise<string> {
  const server = Bun.which('redis-server')
  if (!server) throw new Error('no redis-server: bash scripts/test-services.sh install')
  const tag = `${REDIS_IMAGE_REPOSITORY}:${hashFiles([...listInputs(REDIS_INPUTS), server])}`
  await build(tag, ['bash', 'scripts/build-redis-image.sh'], {})
  return tag
}

/** Runs a build script under one machine-wide lock, with IF_MISSING so that a waiter finding the tag built does nothing. */
async function build(tag: string, command: string[], env: Record<string, string>): Promise<void> {
  const lock = join(tmpdir(), 'ohp-test-image-build.lock')
  const proc = Bun.spawn(['flock', '-w', String(BUILD_TIMEOUT_MS / 1000), lock, ...command], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, IMAGE: tag, IF_MISSING: '1' },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    timeout: BUILD_TIMEOUT_MS,
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`${command.join(' ')} for ${tag} failed (exit ${code}):\n${stdout}${stderr}`)
}

/** The files under `paths` that git tracks or would track (untracked ones too, ignored ones not), sorted. */
function listInputs(paths: readonly string[]): string[] {
  const listing = Bun.spawnSync(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ...paths], { cwd: REPO_ROOT })
  if (listing.exitCode !== 0) throw new Error(`git ls-files failed: ${listing.stderr.toString()}`)
  const files = listing.stdout.toString().split('\0').filter(Boolean)
  // A tracked file deleted in the working tree is listed by --cached: it is no input any more.
  return [...new Set(files)].filter((file) => existsSync(join(REPO_ROOT, file))).sort()
}

/** 16 hex digits of the SHA-256 of every file's name and content. */
function hashFiles(files: readonly string[]): string {
  const hasher = new Bun.CryptoHasher('sha256')
  for (const file of files) {
    hasher.update(`${file}\0`)
    hasher.update(readFileSync(file.startsWith('/') ? file : join(REPO_ROOT, file)))
    hasher.update('\0')
  }
  return hasher.digest('hex').slice(0, 16)
}

/** Removes the repository's other tags built more than STALE_AFTER_MS ago (docker refuses to remove an image a container uses). */
async function removeStaleTags(repository: string, keep: string): Promise<void> {
  const tags = (await docker('images', repository, '--format', '{{.Repository}}:{{.Tag}}')).split('\n').filter((tag) => tag && tag !== keep)
  for (const tag of tags) {
    const created = Date.parse(await docker('image', 'inspect', '-f', '{{.Created}}', tag).catch(() => ''))
    if (Date.now() - created > STALE_AFTER_MS) await docker('rmi', tag).catch(() => {})
  }
}
