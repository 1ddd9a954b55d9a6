/**
 * @module The real Docker engine (Debian's docker.io, started by scripts/test-services.sh) for tests,
 * driven through the `docker` command line so that test set-up never depends on our own docker/ code.
 * The engine is the one at DOCKER_HOST, or the local socket. Everything a test creates carries
 * TEST_LABEL, so `test-services.sh stop` and removeTestContainers() can find what a crashed run left.
 *
 * Images are made offline (busybox-image.ts) and a loopback registry can serve them (docker-registry.ts).
 */
import type { ContainerInspectInfo } from 'dockerode'
import { docker, TEST_LABEL } from './docker-cli.ts'

export { BUSYBOX_IMAGE, HTTPD_COMMAND, HTTPD_PORT, INDEX_HTML, ensureBusyboxImage, makeWwwDir, runHttpd, type TestHttpd, type WwwDir } from './busybox-image.ts'
export { startRegistry, type TestRegistry } from './docker-registry.ts'
export { docker, TEST_LABEL, TEST_LABELS } from './docker-cli.ts'

const CHECK_TIMEOUT_MS = 15_000

/** True when the engine answers `docker version` (client and server) within 15 s. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    const proc = Bun.spawn(['docker', 'version', '--format', '{{.Server.APIVersion}}'], { stdin: 'ignore', stdout: 'pipe', stderr: 'ignore', timeout: CHECK_TIMEOUT_MS })
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
    return code === 0 && stdout.trim().length > 0
  } catch {
    return false // no docker client at all
  }
}

/** For beforeAll: fails (never skips) when the engine does not answer, since CI must have one. */
export async function requireDocker(): Promise<void> {
  if (await dockerAvailable()) return
  const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'
  throw new Error(`no Docker engine answers at ${where}: run \`bash scripts/test-services.sh install && bash scripts/test-services.sh start\``)
}

/** `docker inspect` of one container, parsed. */
export async function inspect(containerIdOrName: string): Promise<ContainerInspectInfo> {
  const [info] = JSON.parse(await docker('inspect', '--type', 'container', containerIdOrName)) as ContainerInspectInfo[]
  if (!info) throw new Error(`docker inspect ${containerIdOrName} returned nothing`)
  return info
}

/** Removes the containers (with their anonymous volumes), then the networks and volumes, that carry `label` ("key" or "key=value"). */
export async function removeTestContainers(label: string = TEST_LABEL): Promise<void> {
  const filter = `label=${label}`
  const ids = (listing: string) => listing.split('\n').filter(Boolean)
  const containers = ids(await docker('ps', '-aq', '--filter', filter))
  if (containers.length > 0) await docker('rm', '-f', '-v', ...containers)
  const networks = ids(await docker('network', 'ls', '-q', '--filter', filter))
  if (networks.length > 0) await docker('network', 'rm', ...networks)
  const volumes = ids(await docker('volume', 'ls', '-q', '--filter', filter))
  if (volumes.length > 0) await docker('volume', 'rm', '-f', ...volumes)
}
