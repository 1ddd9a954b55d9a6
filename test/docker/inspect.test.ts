/**
 * Acceptance (#14): a container created and started from a full service spec shows every configured
 * limit and setting in `docker inspect`, each checked on its own.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ContainerInspectInfo } from 'dockerode'
import { additionalNetworks, containerOptions, networkEndpoint, validateSpec, type DockerService } from '../../src/docker/index.ts'
import { BUSYBOX_IMAGE, docker, HTTPD_COMMAND, HTTPD_PORT, inspect, TEST_LABEL } from '../support/docker.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { allocatedPort, engineTestFile, storedService, uniqueName } from './service-fixture.ts'

const { engine, fileLabel: FILE_LABEL, labels } = engineTestFile('docker-inspect')
const bindBase = mkdtempSync(join(tmpdir(), 'ohp-inspect-'))
const bindRoot = join(bindBase, 'root')
const volume = uniqueName('ohp-t-inspect-vol')
const networks = [uniqueName('ohp-t-front'), uniqueName('ohp-t-back')]
let hostPort: number
let service: DockerService
let info: ContainerInspectInfo

beforeAll(async () => {
  mkdirSync(join(bindRoot, 'www'), { recursive: true, mode: 0o755 })
  writeFileSync(join(bindRoot, 'www/index.html'), 'from the bind mount\n', { mode: 0o644 })
  await docker('volume', 'create', '--label', TEST_LABEL, '--label', FILE_LABEL, volume)
  for (const network of networks) await docker('network', 'create', '--label', TEST_LABEL, '--label', FILE_LABEL, network)
  hostPort = await freePort()
  service = storedService(
    {
      service_name: 'inspected',
      command: [...HTTPD_COMMAND],
      environment: { GREETING: 'hello' },
      labels: { ...labels, team: 'edge' },
      memory_limit: '64m',
      cpu_limit: 0.5,
      pids_limit: 50,
      read_only_root: true,
      user: '65534:65534',
      capabilities: ['NET_BIND_SERVICE'],
      volumes: [
        { source: volume, target: '/data' },
        { source: join(bindRoot, 'www'), target: '/www', read_only: true },
      ],
      restart_policy: 'on-failure:3',
      healthcheck: { test: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${HTTPD_PORT}/ || exit 1`], interval_sec: 1, timeout_sec: 5, retries: 3, start_period_sec: 0 },
      networks,
    },
    [allocatedPort({ name: 'http', container_port: HTTPD_PORT, host_port: hostPort })],
  )
  validateSpec(service, { bindRoot })
  const container = await engine.docker.createContainer(containerOptions(service, { imageRef: BUSYBOX_IMAGE, bindRoot, containerName: uniqueName('ohp-t-inspected') }))
  for (const network of additionalNetworks(service)) await engine.docker.getNetwork(network).connect({ Container: container.id, EndpointConfig: networkEndpoint(service.service_name) })
  await container.start()
  info = await inspect(container.id)
}, 120_000)

afterAll(() => rmSync(bindBase, { recursive: true, force: true }))

describe('docker inspect shows every setting of the spec', () => {
  test('running, and serving the bind-mounted page on its 127.0.0.1 port (read-only root, nobody, no capabilities)', async () => {
    expect(info.State.Running).toBe(true)
    const res = await waitFor(() => fetch(`http://127.0.0.1:${hostPort}/`).catch(() => null), { timeoutMs: 20_000, intervalMs: 100, what: 'the inspected httpd' })
    expect(await res.text()).toBe('from the bind mount\n')
  })

  test('memory', () => {
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024)
  })

  test('CPU', () => {
    expect(info.HostConfig.NanoCpus).toBe(500_000_000)
  })

  test('pids', () => {
    expect(info.HostConfig.PidsLimit).toBe(50)
  })

  test('read-only root, with a tmpfs /tmp', () => {
    expect(info.HostConfig.ReadonlyRootfs).toBe(true)
    expect(info.HostConfig.Tmpfs).toEqual({ '/tmp': 'rw,nosuid,nodev' })
  })

  test('user', () => {
    expect(info.Config.User).toBe('65534:65534')
  })

  test('capabilities: all dropped, one added back', () => {
    expect(info.HostConfig.CapDrop).toEqual(['ALL'])
    expect(info.HostConfig.CapAdd).toEqual(['NET_BIND_SERVICE'])
    expect(info.HostConfig.Privileged).toBe(false)
  })

  test('no-new-privileges', () => {
    expect(info.HostConfig.SecurityOpt).toEqual(['no-new-privileges'])
  })

  test('volumes: the named volume and the bind mount under the root', () => {
    const mounts = [...info.Mounts].sort((a, b) => a.Destination.localeCompare(b.Destination))
    expect(mounts).toHaveLength(2)
    expect(mounts[0]).toMatchObject({ Type: 'volume', Name: volume, Destination: '/data', RW: true })
    expect(mounts[1]).toMatchObject({ Type: 'bind', Source: join(bindRoot, 'www'), Destination: '/www', RW: false })
  })

  test('restart policy', () => {
    expect(info.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 })
  })

  test('healthcheck, and it turns healthy', async () => {
    expect(info.Config.Healthcheck).toEqual({ Test: ['CMD-SHELL', `wget -q -O /dev/null http://127.0.0.1:${HTTPD_PORT}/ || exit 1`], Interval: 1e9, Timeout: 5e9, Retries: 3 })
    await waitFor(async () => (await inspect(info.Id)).State.Health?.Status === 'healthy', { timeoutMs: 30_000, intervalMs: 250, what: 'a healthy container' })
  }, 40_000)

  test('port bindings on 127.0.0.1', () => {
    expect(info.HostConfig.PortBindings).toEqual({ [`${HTTPD_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] })
    expect(info.NetworkSettings.Ports[`${HTTPD_PORT}/tcp`]).toEqual([{ HostIp: '127.0.0.1', HostPort: String(hostPort) }])
  })

  test('command, environment, labels (the user labels and ownership)', () => {
    expect(info.Config.Cmd).toEqual([...HTTPD_COMMAND])
    expect(info.Config.Env).toContain('GREETING=hello')
    expect(info.Config.Labels).toMatchObject({ team: 'edge', 'io.oauth-https-proxy.managed': 'true', 'io.oauth-https-proxy.service': 'inspected' })
  })

  test('networks: both joined, the service name an alias on each', () => {
    expect(info.HostConfig.NetworkMode).toBe(networks[0])
    for (const network of networks) expect(info.NetworkSettings.Networks[network]?.Aliases).toContain('inspected')
  })

  // Last: it stops the container. busybox httpd installs no SIGTERM handler, so as PID 1 it would ignore
  // the signal and be killed after the whole grace (137); under docker-init the signal reaches it (143).
  test('init: docker-init is PID 1 and forwards SIGTERM, so a stop ends httpd by the signal, not by SIGKILL', async () => {
    await engine.docker.getContainer(info.Id).stop({ t: 10 })
    expect((await inspect(info.Id)).State.ExitCode).toBe(143)
    expect(info.HostConfig.Init).toBe(true)
  }, 30_000)
})
