/**
 * The container image (#15), built offline by scripts/build-image.sh and run on the real Docker engine
 * the way compose.yaml runs it (read-only root, no capabilities, no new privileges, the unprivileged-port
 * sysctl), with its ports published on 127.0.0.1 and a busybox httpd as the backend on a network of the
 * test's own. It serves what the executable embeds, runs as a non-root user (who cannot use the Docker
 * socket without its group), its health check (the executable itself) turns healthy, a proxy
 * created through its API serves over HTTP and HTTPS, and its data outlives the container in the /data volume.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { ensureAppImage } from '../support/app-image.ts'
import { BUSYBOX_IMAGE, docker, ensureBusyboxImage, HTTPD_COMMAND, HTTPD_PORT, INDEX_HTML, inspect, requireDocker, TEST_LABEL } from '../support/docker.ts'
import { httpsGet, viaHttp, viaHttps } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'

// Each test spawns processes or containers: room for a loaded machine (bun's default is 5 s).
setDefaultTimeout(30_000)

const RUN = `${process.pid}-${Date.now().toString(36)}`
const NETWORK = `ohp-image-${RUN}`
const VOLUME = `ohp-image-data-${RUN}`
const USER_ID = 10001
const HOSTNAME = 'app.example.com'
/** A static busybox, bind-mounted read-only so that `id` runs inside a container whose image has no programs but ours. */
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((path) => existsSync(path))
/** The engine's socket (DOCKER_HOST when it names one), mounted as compose.yaml mounts it but without its group. */
const SOCKET = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock'

let image: string
let backend: string
let app: RunningApp

interface RunningApp {
  readonly id: string
  readonly apiUrl: string
  readonly httpPort: number
  readonly httpsPort: number
}

/** Runs the image as compose.yaml does, its ports on random 127.0.0.1 ports, and waits until its API answers. */
async function runApp(): Promise<RunningApp> {
  const id = await docker(
    'run', '-d', '--label', TEST_LABEL, '--network', NETWORK, '-v', `${VOLUME}:/data`, '-v', `${BUSYBOX}:/busybox:ro`, '-v', `${SOCKET}:/var/run/docker.sock`,
    '--sysctl', 'net.ipv4.ip_unprivileged_port_start=0', '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
    '--health-interval', '1s', '-p', '127.0.0.1::80', '-p', '127.0.0.1::443', '-p', '127.0.0.1::9000', '-e', 'LOG_LEVEL=warn',
    image,
  )
  const published = async (port: number) => Number(/^127\.0\.0\.1:(\d+)$/m.exec(await docker('port', id, `${port}/tcp`))?.[1])
  const [apiPort, httpPort, httpsPort] = [await published(9000), await published(80), await published(443)]
  const apiUrl = `http://127.0.0.1:${apiPort}`
  await waitFor(async () => (await fetch(`${apiUrl}/health`)).ok, { timeoutMs: 30_000, intervalMs: 200, what: `/health of the container at ${apiUrl}` }).catch(async (error) => {
    throw new Error(`${(error as Error).message}\n--- container log ---\n${await docker('logs', id).catch(() => '')}`)
  })
  return { id, apiUrl, httpPort, httpsPort }
}

/** An admin token from `token issue` inside the container: the server's own executable and store. */
async function issueAdminToken(container: string): Promise<string> {
  return docker('exec', container, 'oauth-https-proxy', 'token', 'issue', '--user', 'ci', '--scope', 'admin')
}

function api(method: string, path: string, token: string | null, body?: unknown): Promise<Response> {
  return fetch(`${app.apiUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
}

beforeAll(async () => {
  await requireDocker()
  if (!BUSYBOX) throw new Error('no busybox: bash scripts/test-services.sh install')
  ;[image] = await Promise.all([ensureAppImage(), ensureBusyboxImage()])
  await docker('network', 'create', '--label', TEST_LABEL, NETWORK)
  await docker('volume', 'create', '--label', TEST_LABEL, VOLUME)
  backend = await docker('run', '-d', '--label', TEST_LABEL, '--network', NETWORK, '--network-alias', 'backend', BUSYBOX_IMAGE, ...HTTPD_COMMAND)
  app = await runApp()
}, 240_000)

afterAll(async () => {
  const containers = [app?.id, backend].filter(Boolean) as string[]
  if (containers.length > 0) await docker('rm', '-f', ...containers).catch(() => {})
  await docker('network', 'rm', NETWORK).catch(() => {})
  await docker('volume', 'rm', '-f', VOLUME).catch(() => {})
})

describe('the container image', () => {
  test('is configured as documented: user 10001, the executable as entry point and health check, /data a volume; its size is reported', async () => {
    const [info] = JSON.parse(await docker('image', 'inspect', image)) as { Size: number; Config: { User: string; Entrypoint: string[]; Cmd: string[]; Volumes: Record<string, unknown>; Healthcheck: { Test: string[] } } }[]
    expect(info!.Config.User).toBe(`${USER_ID}:${USER_ID}`)
    expect(info!.Config.Entrypoint).toEqual(['/usr/local/bin/oauth-https-proxy'])
    expect(info!.Config.Cmd).toEqual(['serve'])
    expect(info!.Config.Healthcheck.Test).toEqual(['CMD', '/usr/local/bin/oauth-https-proxy', 'health'])
    expect(Object.keys(info!.Config.Volumes)).toEqual(['/data'])
    console.log(`image ${image}: ${info!.Size} bytes (${(info!.Size / 1e6).toFixed(1)} MB)`)
  })

  test('serves what the executable embeds: the web UI and the API docs bundle', async () => {
    const ui = await fetch(`${app.apiUrl}/ui/`)
    expect(ui.status).toBe(200)
    expect(ui.headers.get('content-type')).toContain('text/html')
    const docs = await fetch(`${app.apiUrl}/docs/standalone.js`)
    expect(docs.status).toBe(200)
    expect((await docs.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000)
  })

  test('runs as a non-root user: docker inspect, `id` inside, and the server process itself (no capabilities)', async () => {
    const info = await inspect(app.id)
    expect(info.Config.User).toBe(`${USER_ID}:${USER_ID}`)
    expect(await docker('exec', app.id, '/busybox', 'id')).toBe(`uid=${USER_ID}(ohp) gid=${USER_ID}(ohp) groups=${USER_ID}(ohp)`)
    const status = readFileSync(`/proc/${info.State.Pid}/status`, 'utf8')
    expect(status).toMatch(new RegExp(`^Uid:\\t${USER_ID}\\t${USER_ID}\\t${USER_ID}\\t${USER_ID}$`, 'm'))
    expect(status).toMatch(new RegExp(`^Gid:\\t${USER_ID}\\t${USER_ID}\\t${USER_ID}\\t${USER_ID}$`, 'm'))
    expect(status).toMatch(/^CapEff:\t0{16}$/m)
  })

  test('the Docker socket mounted without its group (compose.yaml with no DOCKER_GID): the non-root server cannot use it, so creating a Docker service answers 503', async () => {
    const token = await issueAdminToken(app.id)
    const created = await api('POST', '/services', token, { service_name: 'refused', image: BUSYBOX_IMAGE })
    expect(created.status).toBe(503)
    expect(await created.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'the Docker engine does not answer' })
    expect(await docker('ps', '-aq', '--filter', 'label=io.oauth-https-proxy.service=refused')).toBe('')
  })

  test('its health check (`oauth-https-proxy health`) turns healthy', async () => {
    const health = await waitFor(async () => {
      const { State } = await inspect(app.id)
      return State.Health?.Status === 'healthy' ? State.Health : null
    }, { timeoutMs: 30_000, intervalMs: 250, what: 'the container\'s health status "healthy"' })
    expect(health.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: 'ok: embedded store ok\n' })
  }, 40_000)

  test('a proxy created through its API serves over HTTP and HTTPS (ports 80 and 443 inside, bound as the non-root user)', async () => {
    const token = await issueAdminToken(app.id)
    expect((await api('GET', '/proxy/targets', null)).status).toBe(401)
    const created = await api('POST', '/proxy/targets', token, { proxy_hostname: HOSTNAME, target_url: `http://backend:${HTTPD_PORT}` })
    expect(created.status).toBe(201)
    const overHttp = await viaHttp(app, HOSTNAME, '/index.html')
    expect(overHttp.status).toBe(200)
    expect(await overHttp.text()).toBe(INDEX_HTML)
    const overHttps = await viaHttps(app, HOSTNAME, '/index.html')
    expect(overHttps.status).toBe(200)
    expect(await overHttps.text()).toBe(INDEX_HTML)
    // The proxy's own certificate (self-signed without ACME) answers its name.
    const { certificate, reply } = await httpsGet(app.httpsPort, HOSTNAME, '/index.html')
    expect(reply.status).toBe(200)
    expect(certificate.subjectaltname).toContain(`DNS:${HOSTNAME}`)
  }, 30_000)

  test('stops cleanly on docker stop (exit 0), and its data outlives the container in the /data volume', async () => {
    const listing = await docker('exec', app.id, '/busybox', 'ls', '-ln', '/data')
    expect(listing).toMatch(new RegExp(`^-\\S+ +\\d+ +${USER_ID} +${USER_ID} .* store\\.sqlite$`, 'm'))
    await docker('stop', '-t', '20', app.id)
    const stopped = await inspect(app.id)
    expect(stopped.State.ExitCode).toBe(0)
    expect(stopped.Mounts.find((mount) => mount.Destination === '/data')).toMatchObject({ Type: 'volume', Name: VOLUME })
    await docker('rm', app.id)
    // A new container on the same volume: the proxy and the signing keys are still there.
    app = await runApp()
    const token = await issueAdminToken(app.id)
    const proxy = await api('GET', `/proxy/targets/${HOSTNAME}`, token)
    expect(proxy.status).toBe(200)
    expect(await proxy.json()).toMatchObject({ proxy_hostname: HOSTNAME, target_url: `http://backend:${HTTPD_PORT}` })
    const overHttp = await viaHttp(app, HOSTNAME, '/index.html')
    expect(await overHttp.text()).toBe(INDEX_HTML)
  }, 60_000)
})
