/**
 * @module The offline test image: no registry is reachable, so the image is imported from a root made of
 * Debian's static busybox (busybox-static) and its applet links. Built once per machine; test files that
 * ask for it at the same time wait on one lock file instead of importing it twice.
 *
 * The same image serves HTTP with HTTPD_COMMAND (busybox httpd on 8080, documents in /www).
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { docker, TEST_LABEL } from './docker-cli.ts'
import { waitFor } from './ports.ts'

export const BUSYBOX_IMAGE = 'ohp-test/busybox:latest'
/** The container port HTTPD_COMMAND listens on. */
export const HTTPD_PORT = 8080
/** Runs busybox httpd in the foreground, serving /www (the image has an index.html there). */
export const HTTPD_COMMAND: readonly string[] = ['httpd', '-f', '-p', String(HTTPD_PORT), '-h', '/www']
export const INDEX_HTML = 'ohp-test busybox httpd\n'

const STATIC_BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox']
const BUILD_TIMEOUT_MS = 120_000
const building = new Map<string, Promise<string>>()

/** Makes sure the image exists, building it if needed; resolves to its tag. */
export function ensureBusyboxImage(tag: string = BUSYBOX_IMAGE): Promise<string> {
  let pending = building.get(tag)
  if (!pending) {
    pending = ensureImage(tag)
    building.set(tag, pending)
    pending.catch(() => building.delete(tag))
  }
  return pending
}

async function imageExists(tag: string): Promise<boolean> {
  return docker('image', 'inspect', '--format', '{{.Id}}', tag).then(
    () => true,
    () => false,
  )
}

async function ensureImage(tag: string): Promise<string> {
  if (await imageExists(tag)) return tag
  const lock = join(tmpdir(), `ohp-image-${tag.replace(/[^a-z0-9]/gi, '_')}.lock`)
  const outcome = await waitFor(async () => ((await imageExists(tag)) ? 'built' : takeLock(lock) ? 'locked' : null), {
    timeoutMs: BUILD_TIMEOUT_MS,
    intervalMs: 200,
    what: `the build of ${tag} by another test process (lock ${lock})`,
  })
  if (outcome === 'built') return tag
  try {
    if (!(await imageExists(tag))) await buildImage(tag)
  } finally {
    rmSync(lock, { force: true })
  }
  return tag
}

/** Creates the lock file exclusively; a lock older than the build timeout belongs to a dead process and is broken. */
function takeLock(lock: string): boolean {
  try {
    closeSync(openSync(lock, 'wx'))
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    try {
      if (Date.now() - statSync(lock).mtimeMs > BUILD_TIMEOUT_MS) unlinkSync(lock)
    } catch {
      // removed by its owner meanwhile
    }
    return false
  }
}

async function staticBusybox(): Promise<string> {
  for (const path of STATIC_BUSYBOX_CANDIDATES) {
    if (!existsSync(path)) continue
    const ldd = Bun.spawn(['ldd', path], { stdout: 'pipe', stderr: 'pipe' })
    const [out, err] = await Promise.all([new Response(ldd.stdout).text(), new Response(ldd.stderr).text(), ldd.exited])
    if (/not a dynamic executable|statically linked/.test(out + err)) return path
  }
  throw new Error('no statically linked busybox: install Debian busybox-static (bash scripts/test-services.sh install)')
}

async function buildImage(tag: string): Promise<void> {
  const busybox = await staticBusybox()
  const dir = mkdtempSync(join(tmpdir(), 'ohp-busybox-root-'))
  try {
    const root = join(dir, 'root')
    for (const sub of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'www']) mkdirSync(join(root, sub), { recursive: true })
    mkdirSync(join(root, 'tmp'), { mode: 0o1777 })
    copyFileSync(busybox, join(root, 'bin/busybox'))
    const list = Bun.spawn([busybox, '--list-full'], { stdout: 'pipe' })
    const applets = (await new Response(list.stdout).text()).split('\n').filter(Boolean)
    for (const applet of applets) {
      // A link for the "busybox" entry itself would replace the binary with a link to itself.
      if (applet.split('/').pop() === 'busybox') continue
      mkdirSync(dirname(join(root, applet)), { recursive: true })
      symlinkSync('/bin/busybox', join(root, applet))
    }
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n')
    writeFileSync(join(root, 'www/index.html'), INDEX_HTML)
    const tar = join(dir, 'root.tar')
    const pack = Bun.spawn(['tar', '--owner=0', '--group=0', '--numeric-owner', '-C', root, '-cf', tar, '.'], { stderr: 'pipe' })
    if ((await pack.exited) !== 0) throw new Error(`tar of the busybox root failed: ${await new Response(pack.stderr).text()}`)
    await docker('import', '-c', 'CMD ["/bin/sh"]', tar, tag)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export interface WwwDir {
  /** A host directory to bind-mount read-only at /www. */
  readonly path: string
  dispose(): void
}

/** A temporary document root with the given files (relative path → content), readable by any container user. */
export function makeWwwDir(files: Readonly<Record<string, string>>): WwwDir {
  const path = mkdtempSync(join(tmpdir(), 'ohp-www-'))
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(path, name)), { recursive: true })
    writeFileSync(join(path, name), content, { mode: 0o644 })
  }
  Bun.spawnSync(['chmod', '-R', 'a+rX', path])
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) }
}

export interface TestHttpd {
  readonly id: string
  /** The host port on 127.0.0.1 that reaches the container's 8080. */
  readonly port: number
  readonly url: string
  /** Removes the container. */
  stop(): Promise<void>
}

/**
 * Runs the busybox image as an HTTP server published on 127.0.0.1 (a random host port) and waits until
 * it answers. With `www`, that directory replaces the image's /www.
 */
export async function runHttpd(options: { readonly www?: string; readonly name?: string; readonly args?: readonly string[] } = {}): Promise<TestHttpd> {
  const image = await ensureBusyboxImage()
  const mount = options.www ? ['-v', `${options.www}:/www:ro`] : []
  const name = options.name ? ['--name', options.name] : []
  const id = await docker('run', '-d', '--label', TEST_LABEL, ...name, ...mount, ...(options.args ?? []), '-p', `127.0.0.1::${HTTPD_PORT}`, image, ...HTTPD_COMMAND)
  const stop = async () => {
    await docker('rm', '-f', '-v', id).catch(() => {})
  }
  try {
    const binding = await docker('port', id, `${HTTPD_PORT}/tcp`)
    const port = Number(/^127\.0\.0\.1:(\d+)$/m.exec(binding)?.[1])
    if (!port) throw new Error(`container ${id} has no 127.0.0.1 binding for ${HTTPD_PORT}: ${binding}`)
    const url = `http://127.0.0.1:${port}`
    await waitFor(async () => (await fetch(`${url}/`)).status > 0, { timeoutMs: 20_000, intervalMs: 100, what: `busybox httpd at ${url}` })
    return { id, port, url, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
