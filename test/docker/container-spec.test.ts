/** The container options of a service (every field → option) and the refusals that name their field before the engine sees anything. */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as v from 'valibot'
import {
  additionalNetworks,
  containerOptions,
  CreateDockerServiceSchema,
  MANAGED_LABEL,
  parseMemory,
  primaryNetwork,
  SERVICE_LABEL,
  validateSpec,
  type AllocatedPort,
  type ServiceSettings,
} from '../../src/docker/index.ts'
import { serviceSettings, storedService } from './service-fixture.ts'

const base = mkdtempSync(join(tmpdir(), 'ohp-bind-'))
const bindRoot = join(base, 'root')
mkdirSync(join(bindRoot, 'data/sub'), { recursive: true })
mkdirSync(join(base, 'outside'))
symlinkSync(join(base, 'outside'), join(bindRoot, 'escape'))
symlinkSync(join(bindRoot, 'data'), join(bindRoot, 'inner-link'))
afterAll(() => rmSync(base, { recursive: true, force: true }))

const settings = serviceSettings
const service = storedService

const ctx = { imageRef: 'ohp-test/busybox:latest', bindRoot, containerName: 'ohp-web' }
const options = (body: Record<string, unknown> = {}, ports: AllocatedPort[] = []) => containerOptions(service(body, ports), ctx)

function refusal(run: () => unknown): { kind: string; field: string | undefined; message: string } {
  try {
    run()
  } catch (error) {
    const { kind, field, message } = error as { kind: string; field?: string; message: string }
    return { kind, field, message }
  }
  throw new Error('expected a refusal')
}
const validate = (body: Record<string, unknown>, root: string | null = bindRoot) => refusal(() => validateSpec({ ...settings(), ...body } as ServiceSettings, { bindRoot: root }))

describe('containerOptions: every field becomes an engine option', () => {
  test('image, name, command, environment', () => {
    const created = options({ command: ['sh', '-c', 'echo hi'], environment: { A: '1', B_2: 'x=y' } })
    expect(created.Image).toBe('ohp-test/busybox:latest')
    expect(created.name).toBe('ohp-web')
    expect(created.Cmd).toEqual(['sh', '-c', 'echo hi'])
    expect(created.Env).toEqual(['A=1', 'B_2=x=y'])
    expect(options().Cmd).toBeUndefined() // the image's own command
  })

  test('labels: the user labels plus the ownership labels', () => {
    expect(options({ labels: { team: 'a', 'com.example/x': 'y' } }).Labels).toEqual({ team: 'a', 'com.example/x': 'y', [MANAGED_LABEL]: 'true', [SERVICE_LABEL]: 'web' })
  })

  test('memory, CPU and pids limits', () => {
    const host = options({ memory_limit: '64m', cpu_limit: 0.5, pids_limit: 50 }).HostConfig!
    expect(host.Memory).toBe(64 * 1024 * 1024)
    expect(host.MemorySwap).toBe(64 * 1024 * 1024)
    expect(host.NanoCpus).toBe(500_000_000)
    expect(host.PidsLimit).toBe(50)
  })

  test('defaults: 512m, 1 CPU, 256 pids, read-only root with a /tmp tmpfs, cap_drop ALL, no-new-privileges, unless-stopped', () => {
    const host = options().HostConfig!
    expect(host.Memory).toBe(512 * 1024 * 1024)
    expect(host.NanoCpus).toBe(1e9)
    expect(host.PidsLimit).toBe(256)
    expect(host.ReadonlyRootfs).toBe(true)
    expect(host.Tmpfs).toEqual({ '/tmp': 'rw,nosuid,nodev' })
    expect(host.CapDrop).toEqual(['ALL'])
    expect(host.CapAdd).toEqual([])
    expect(host.SecurityOpt).toEqual(['no-new-privileges'])
    expect(host.Privileged).toBe(false)
    expect(host.RestartPolicy).toEqual({ Name: 'unless-stopped' })
    expect(host.NetworkMode).toBe('bridge')
  })

  test('init: docker-init as PID 1 by default (forwards SIGTERM, reaps); off when asked', () => {
    expect(options().HostConfig!.Init).toBe(true)
    expect(options({ init: false }).HostConfig!.Init).toBe(false)
  })

  test('a writable root has no tmpfs; a volume on /tmp replaces it', () => {
    expect(options({ read_only_root: false }).HostConfig!.Tmpfs).toBeUndefined()
    expect(options({ volumes: [{ source: 'scratch', target: '/tmp' }] }).HostConfig!.Tmpfs).toBeUndefined()
  })

  test('user, capabilities (normalised, sorted, once each), no_new_privileges false', () => {
    const created = options({ user: '1000:1000', capabilities: ['cap_net_bind_service', 'CHOWN', 'NET_BIND_SERVICE'], no_new_privileges: false })
    expect(created.User).toBe('1000:1000')
    expect(created.HostConfig!.CapAdd).toEqual(['CHOWN', 'NET_BIND_SERVICE'])
    expect(created.HostConfig!.SecurityOpt).toEqual([])
  })

  test('volumes: a named volume (made beforehand by named-volumes.ts, so no engine-side creation options) and a bind mount under the root, normalised', () => {
    const mounts = options({
      volumes: [
        { source: 'web-data', target: '/data' },
        { source: `${bindRoot}/data/./sub/`, target: '/conf', read_only: true },
      ],
    }).HostConfig!.Mounts!
    expect(mounts[0]).toMatchObject({ Type: 'volume', Source: 'web-data', Target: '/data', ReadOnly: false })
    expect(mounts[0]!.VolumeOptions).toBeUndefined()
    expect(mounts[1]).toEqual({ Type: 'bind', Source: `${bindRoot}/data/sub`, Target: '/conf', ReadOnly: true })
  })

  test('restart policies, on-failure:N included', () => {
    expect(options({ restart_policy: 'no' }).HostConfig!.RestartPolicy).toEqual({ Name: 'no' })
    expect(options({ restart_policy: 'always' }).HostConfig!.RestartPolicy).toEqual({ Name: 'always' })
    expect(options({ restart_policy: 'on-failure' }).HostConfig!.RestartPolicy).toEqual({ Name: 'on-failure' })
    expect(options({ restart_policy: 'on-failure:5' }).HostConfig!.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 5 })
  })

  test('healthcheck: seconds become nanoseconds; none given leaves the image its own', () => {
    const check = { test: ['CMD-SHELL', 'wget -q -O- http://127.0.0.1:8080/'], interval_sec: 2, timeout_sec: 1.5, retries: 4, start_period_sec: 3 }
    expect(options({ healthcheck: check }).Healthcheck).toEqual({ Test: check.test, Interval: 2e9, Timeout: 1.5e9, Retries: 4, StartPeriod: 3e9 })
    expect(options().Healthcheck).toBeUndefined()
    expect(options({ healthcheck: null }).Healthcheck).toBeUndefined()
  })

  test('ports: exposed, and bound on their address and allocated host port per protocol', () => {
    const ports: AllocatedPort[] = [
      { name: 'http', container_port: 8080, host_port: 20001, bind_address: '127.0.0.1', protocol: 'tcp', description: '', auto: true },
      { name: 'dns', container_port: 53, host_port: 20002, bind_address: '127.0.0.1', protocol: 'udp', description: '', auto: false },
      { name: 'http6', container_port: 8080, host_port: 20003, bind_address: '::1', protocol: 'tcp', description: '', auto: true },
    ]
    const created = options({}, ports)
    expect(created.ExposedPorts).toEqual({ '8080/tcp': {}, '53/udp': {} })
    expect(created.HostConfig!.PortBindings).toEqual({
      '8080/tcp': [
        { HostIp: '127.0.0.1', HostPort: '20001' },
        { HostIp: '::1', HostPort: '20003' },
      ],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '20002' }],
    })
  })

  test('networks: the first at create with the service name as alias, the others connected after; network_mode none and bridge', () => {
    const joined = service({ networks: ['front', 'back'] })
    const created = containerOptions(joined, ctx)
    expect(created.HostConfig!.NetworkMode).toBe('front')
    expect(created.NetworkingConfig).toEqual({ EndpointsConfig: { front: { Aliases: ['web'] } } })
    expect(additionalNetworks(joined)).toEqual(['back'])
    const bridged = service({ network_mode: 'bridge', networks: ['front'] })
    expect(primaryNetwork(bridged)).toBe('bridge')
    expect(containerOptions(bridged, ctx).NetworkingConfig).toBeUndefined()
    expect(additionalNetworks(bridged)).toEqual(['front'])
    expect(options({ network_mode: 'none' }).HostConfig!.NetworkMode).toBe('none')
  })

  test('json-file logs, bounded in size', () => {
    expect(options().HostConfig!.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } })
  })
})

describe('parseMemory', () => {
  test('Docker size units are binary', () => {
    expect(parseMemory('512m')).toBe(536_870_912)
    expect(parseMemory('1g')).toBe(1_073_741_824)
    expect(parseMemory('65536k')).toBe(67_108_864)
    expect(parseMemory('7000000')).toBe(7_000_000)
    expect(parseMemory('7000000b')).toBe(7_000_000)
    expect(parseMemory('8M')).toBe(8 * 1024 * 1024)
  })

  test('below the engine floor of 6m, or not a size: invalid memory_limit', () => {
    for (const bad of ['5m', '1024', '0', '6291455', 'lots', '1t', '-1g', '']) expect(refusal(() => parseMemory(bad))).toMatchObject({ kind: 'invalid', field: 'memory_limit' })
    expect(parseMemory('6m')).toBe(6 * 1024 * 1024)
  })
})

describe('validateSpec: refusals name their field', () => {
  test('a valid full spec passes', () => {
    expect(() =>
      validateSpec(
        settings({
          volumes: [
            { source: 'data', target: '/data' },
            { source: `${bindRoot}/data`, target: '/conf' },
            { source: `${bindRoot}/inner-link/sub`, target: '/sub' },
          ],
          capabilities: ['NET_BIND_SERVICE'],
          networks: ['a', 'b'],
          port_configs: [
            { name: 'http', container_port: 80 },
            { name: 'admin', container_port: 81, host_port: 20005 },
          ],
        }),
        { bindRoot },
      ),
    ).not.toThrow()
  })

  test('a bind mount outside the root, plainly or through .. tricks', () => {
    for (const source of ['/etc', `${base}/outside`, `${bindRoot}/../outside`, `${bindRoot}/data/../../outside`, `${bindRoot}/..`, `${bindRoot}-sibling/x`, `${bindRoot}/./../root-evil`, '/']) {
      expect(validate({ volumes: [{ source: 'ok', target: '/ok' }, { source, target: '/x' }] })).toMatchObject({ kind: 'invalid', field: 'volumes[1].source' })
      expect(refusal(() => options({ volumes: [{ source, target: '/x' }] }))).toMatchObject({ kind: 'invalid', field: 'volumes[0].source' })
    }
  })

  test('a bind mount leading outside the root through a symbolic link', () => {
    expect(validate({ volumes: [{ source: `${bindRoot}/escape`, target: '/x' }] })).toMatchObject({ kind: 'invalid', field: 'volumes[0].source', message: expect.stringContaining('symbolic link') })
  })

  test('a bind mount whose source does not exist, or with no root configured', () => {
    expect(validate({ volumes: [{ source: `${bindRoot}/missing`, target: '/x' }] })).toMatchObject({ kind: 'invalid', field: 'volumes[0].source' })
    expect(validate({ volumes: [{ source: `${bindRoot}/data`, target: '/x' }] }, null)).toMatchObject({ kind: 'invalid', field: 'volumes[0].source', message: expect.stringContaining('SERVICE_BIND_ROOT is not set') })
  })

  test('a volume source that is neither a name nor an absolute path; a bad or repeated target', () => {
    for (const source of ['./rel', 'a/b', '..', '-x']) expect(validate({ volumes: [{ source, target: '/x' }] })).toMatchObject({ kind: 'invalid', field: 'volumes[0].source' })
    expect(validate({ volumes: [{ source: 'a', target: '/' }] })).toMatchObject({ kind: 'invalid', field: 'volumes[0].target' })
    expect(validate({ volumes: [{ source: 'a', target: '/x/../etc' }] })).toMatchObject({ kind: 'invalid', field: 'volumes[0].target' })
    expect(validate({ volumes: [{ source: 'a', target: '/x' }, { source: 'b', target: '/x/' }] })).toMatchObject({ kind: 'invalid', field: 'volumes[1].target' })
  })

  test('privileged, the host network and devices', () => {
    expect(validate({ privileged: true })).toMatchObject({ kind: 'invalid', field: 'privileged' })
    expect(validate({ network_mode: 'host' })).toMatchObject({ kind: 'invalid', field: 'network_mode' })
    expect(validate({ networks: ['front', 'host'] })).toMatchObject({ kind: 'invalid', field: 'networks[1]' })
    expect(validate({ devices: ['/dev/sda:/dev/sda'] })).toMatchObject({ kind: 'invalid', field: 'devices' })
    // The schema refuses the same, by field, at the API boundary.
    for (const body of [{ privileged: true }, { network_mode: 'host' }, { devices: [{ PathOnHost: '/dev/kvm' }] }]) {
      const result = v.safeParse(CreateDockerServiceSchema, { service_name: 'web', image: 'x', ...body })
      expect(result.success).toBe(false)
      expect(result.issues?.[0].path?.[0]?.key).toBe(Object.keys(body)[0])
    }
  })

  test('capabilities outside the allowlist', () => {
    for (const capability of ['SYS_ADMIN', 'NET_ADMIN', 'NET_RAW', 'CAP_SYS_PTRACE', 'ALL', 'BOGUS', 'MKNOD']) {
      expect(validate({ capabilities: ['CHOWN', capability] })).toMatchObject({ kind: 'invalid', field: 'capabilities' })
      expect(refusal(() => options({ capabilities: [capability] }))).toMatchObject({ kind: 'invalid', field: 'capabilities' })
    }
  })

  test('memory below the floor', () => {
    expect(validate({ memory_limit: '4m' })).toMatchObject({ kind: 'invalid', field: 'memory_limit' })
  })

  test('networks: none in the list, repeated, or with network_mode none', () => {
    expect(validate({ networks: ['none'] })).toMatchObject({ kind: 'invalid', field: 'networks[0]' })
    expect(validate({ networks: ['a', 'a'] })).toMatchObject({ kind: 'invalid', field: 'networks[1]' })
    expect(validate({ network_mode: 'none', networks: ['a'] })).toMatchObject({ kind: 'invalid', field: 'networks' })
  })

  test('ports: a repeated name or host port, or any port with network_mode none', () => {
    const port = (body: Record<string, unknown>) => ({ name: 'http', container_port: 80, host_port: 'auto', bind_address: '127.0.0.1', protocol: 'tcp', description: '', ...body })
    expect(validate({ port_configs: [port({}), port({ container_port: 81 })] })).toMatchObject({ kind: 'invalid', field: 'port_configs[1].name' })
    expect(validate({ port_configs: [port({ host_port: 20001 }), port({ name: 'b', host_port: 20001 })] })).toMatchObject({ kind: 'invalid', field: 'port_configs[1].host_port' })
    expect(() => validateSpec({ ...settings(), port_configs: [port({ host_port: 20001 }), port({ name: 'b', host_port: 20001, protocol: 'udp' })] } as ServiceSettings, { bindRoot })).not.toThrow()
    expect(validate({ network_mode: 'none', port_configs: [port({})] })).toMatchObject({ kind: 'invalid', field: 'port_configs' })
    expect(validate({ network_mode: 'none', internal_port: 80 })).toMatchObject({ kind: 'invalid', field: 'internal_port' })
  })
})
