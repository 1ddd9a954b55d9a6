/**
 * compose.yaml (#15) under Debian's docker-compose 1.29, with both images built offline (OHP_IMAGE,
 * REDIS_IMAGE) and its ports published on 127.0.0.1: `up` serves /health with the Redis store ok, the
 * non-root server uses the Docker socket through DOCKER_GID to run a Docker service on the named network,
 * a proxy created through the API serves that service by its name (http://my-service:3000), Redis answers
 * the server and no one on the services network, and `down -v` leaves no container, network or volume.
 *
 * A second compose file adds only what the test needs: a static busybox mounted read-only (for `id`
 * inside an image that has no programs but ours) and the test label on both containers, so that
 * `scripts/test-services.sh stop` removes them after a crashed run. (Networks and volumes keep their
 * definitions: docker-compose 1.29 replaces a top-level entry that a second file names, dropping its `name`.)
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureAppImage, ensureRedisImage } from '../support/app-image.ts'
import { BUSYBOX_IMAGE, docker, ensureBusyboxImage, INDEX_HTML, requireDocker, TEST_LABEL, TEST_LABELS } from '../support/docker.ts'
import { viaHttp, viaHttps } from '../support/edge-clients.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { REPO_ROOT } from '../support/serve.ts'

// Each test spawns processes or containers: room for a loaded machine (bun's default is 5 s).
setDefaultTimeout(30_000)

const RUN = `${process.pid}x${Date.now().toString(36)}`
const PROJECT = `ohpcompose${RUN}`
const NETWORK = `ohp-compose-${RUN}`
const PROJECT_LABEL = `com.docker.compose.project=${PROJECT}`
const HOSTNAME = 'app.example.com'
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((path) => existsSync(path))
/** The engine's socket: DOCKER_HOST when it names one, else the default. */
const SOCKET = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice('unix://'.length) : '/var/run/docker.sock'

const work = mkdtempSync(join(tmpdir(), 'ohp-compose-'))
const override = join(work, 'compose.test.yaml')
let env: Record<string, string>
let apiUrl: string
let edge: { httpPort: number; httpsPort: number }
let isUp = false

/** `docker-compose` on compose.yaml plus the test's file, as this project. */
async function compose(...args: string[]): Promise<string> {
  const proc = Bun.spawn(['docker-compose', '-p', PROJECT, '-f', join(REPO_ROOT, 'compose.yaml'), '-f', override, ...args], { cwd: REPO_ROOT, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`docker-compose ${args.join(' ')} failed (exit ${code}): ${stderr.trim()}`)
  return stdout.trimEnd()
}

/** The container id of a compose service of this project. */
async function serviceContainer(service: string): Promise<string> {
  return docker('ps', '-q', '--filter', `label=${PROJECT_LABEL}`, '--filter', `label=com.docker.compose.service=${service}`)
}

/** Runs a shell command in a throwaway busybox container on a network; its exit code and output. */
async function busyboxOn(network: string, script: string): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(['docker', 'run', '--rm', '--label', TEST_LABEL, '--network', network, BUSYBOX_IMAGE, 'sh', '-c', script], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, output: stdout + stderr }
}

beforeAll(async () => {
  await requireDocker()
  if (!BUSYBOX) throw new Error('no busybox: bash scripts/test-services.sh install')
  const [appImage, redisImage] = [await ensureAppImage(), await ensureRedisImage()]
  await ensureBusyboxImage()
  const [apiPort, httpPort, httpsPort] = [await freePort(), await freePort(), await freePort()]
  apiUrl = `http://127.0.0.1:${apiPort}`
  edge = { httpPort, httpsPort }
  const labels = { labels: TEST_LABELS }
  writeFileSync(override, JSON.stringify({
    version: '3.9',
    services: { app: { volumes: [`${BUSYBOX}:/busybox:ro`], ...labels }, redis: labels },
  }))
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
    OHP_IMAGE: appImage,
    REDIS_IMAGE: redisImage,
    OHP_NETWORK: NETWORK,
    OHP_HTTP_PUBLISH: `127.0.0.1:${httpPort}`,
    OHP_HTTPS_PUBLISH: `127.0.0.1:${httpsPort}`,
    OHP_API_PUBLISH: `127.0.0.1:${apiPort}`,
    DOCKER_SOCKET: SOCKET,
    DOCKER_GID: String(statSync(SOCKET).gid),
    LOG_LEVEL: 'warn',
  }
  isUp = true
  await compose('up', '-d')
}, 240_000)

afterAll(async () => {
  // A Docker service a failed test left on the named network would keep `down` from removing the network.
  const leftOnNetwork = (await docker('ps', '-aq', '--filter', `network=${NETWORK}`).catch(() => '')).split('\n').filter(Boolean)
  const ours = new Set((await docker('ps', '-aq', '--filter', `label=${PROJECT_LABEL}`).catch(() => '')).split('\n'))
  const strays = leftOnNetwork.filter((id) => !ours.has(id))
  if (strays.length > 0) await docker('rm', '-f', ...strays).catch(() => {})
  if (isUp) await compose('down', '-v', '--timeout', '5').catch(() => {})
  rmSync(work, { recursive: true, force: true })
}, 60_000)

describe('compose.yaml', () => {
  test('up: /health answers with the Redis store ok', async () => {
    const health = await waitFor(async () => {
      const response = await fetch(`${apiUrl}/health`)
      return response.ok ? response.json() : null
    }, { timeoutMs: 60_000, intervalMs: 250, what: `/health of the compose stack at ${apiUrl}` })
    expect(health).toMatchObject({ status: 'ok', store: { kind: 'redis', status: 'ok' } })
  }, 70_000)

  test('the server runs as 10001, with the Docker socket\'s group (DOCKER_GID) added', async () => {
    const app = await serviceContainer('app')
    const gid = statSync(SOCKET).gid
    const id = await docker('exec', app, '/busybox', 'id')
    expect(id).toMatch(/^uid=10001\(ohp\) gid=10001\(ohp\) groups=/)
    expect(id.slice(id.indexOf('groups=') + 'groups='.length).split(',')).toContain(gid === 0 ? '0(root)' : String(gid))
  })

  test('Redis answers the server and nothing on the services network', async () => {
    const app = await serviceContainer('app')
    const ping = 'printf "PING\\r\\n" | nc -w 2 redis 6379'
    // From the server's own network namespace: PONG (the check can succeed).
    expect(await busyboxOn(`container:${app}`, ping)).toMatchObject({ code: 0, output: expect.stringContaining('+PONG') })
    // From a container on the network Docker services join: the name does not even resolve.
    expect(await busyboxOn(NETWORK, ping)).toEqual({ code: 1, output: "nc: bad address 'redis'\n" })
  })

  test('a Docker service created through the API (the non-root server using the socket) joins the named network, and a proxy to http://my-service:3000 serves it over HTTP and HTTPS', async () => {
    const token = await docker('exec', await serviceContainer('app'), 'oauth-https-proxy', 'token', 'issue', '--user', 'ci', '--scope', 'admin')
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${apiUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    const service = await call('POST', '/services', { service_name: 'my-service', image: BUSYBOX_IMAGE, command: ['httpd', '-f', '-p', '3000', '-h', '/www'], networks: [NETWORK], labels: TEST_LABELS })
    expect(service.status).toBe(201)
    const created = await call('POST', '/proxy/targets', { proxy_hostname: HOSTNAME, target_url: 'http://my-service:3000' })
    expect(created.status).toBe(201)
    // The proxy serves from its 201 on (the node applies its own change before answering), but the
    // service's httpd may still be starting in its container: that is waited for.
    for (const via of [viaHttp, viaHttps]) {
      const text = await waitFor(async () => {
        const response = await via(edge, HOSTNAME, '/index.html')
        return response.status === 200 ? response.text() : null
      }, { timeoutMs: 15_000, intervalMs: 200, what: `my-service through the proxy (${via.name})` })
      expect(text).toBe(INDEX_HTML)
    }
    expect((await call('DELETE', '/services/my-service')).status).toBe(204)

    // Without naming the network: SERVICE_NETWORK (compose.yaml) joins it, and service://name dials the
    // service there by name, not at its host port on 127.0.0.1 (this container's own loopback).
    const plain = await call('POST', '/services', { service_name: 'plain-service', image: BUSYBOX_IMAGE, command: ['httpd', '-f', '-p', '3000', '-h', '/www'], internal_port: 3000, labels: TEST_LABELS })
    expect(plain.status).toBe(201)
    expect((await call('POST', '/proxy/targets', { proxy_hostname: `plain.${HOSTNAME}`, target_url: 'service://plain-service' })).status).toBe(201)
    const text = await waitFor(async () => {
      const response = await viaHttp(edge, `plain.${HOSTNAME}`, '/index.html')
      return response.status === 200 ? response.text() : null
    }, { timeoutMs: 15_000, intervalMs: 200, what: 'plain-service through service://plain-service' })
    expect(text).toBe(INDEX_HTML)
    expect((await call('DELETE', '/services/plain-service?delete_proxy=true')).status).toBe(204)
  }, 60_000)

  test('down -v leaves no container, network or volume of the project', async () => {
    await compose('down', '-v', '--timeout', '20')
    isUp = false
    expect(await docker('ps', '-aq', '--filter', `label=${PROJECT_LABEL}`)).toBe('')
    expect(await docker('network', 'ls', '-q', '--filter', `label=${PROJECT_LABEL}`)).toBe('')
    expect(await docker('network', 'ls', '-q', '--filter', `name=^${NETWORK}$`)).toBe('')
    expect(await docker('volume', 'ls', '-q', '--filter', `label=${PROJECT_LABEL}`)).toBe('')
  }, 60_000)
})
