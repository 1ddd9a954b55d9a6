/** A container's resource use: the engine's raw stats turned into ServiceStats, and real numbers from a busy container. */
import { describe, expect, test } from 'bun:test'
import { readStats, toServiceStats, type RawStats } from '../../src/docker/index.ts'
import { BUSYBOX_IMAGE, docker, HTTPD_PORT } from '../support/docker.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { engineTestFile } from './service-fixture.ts'

const { engine, labels } = engineTestFile('docker-stats')

/** A cgroup v1 reading of dockerd 20.10 (trimmed to the fields used), with the page cache of a 5 MiB file. */
const V1_SAMPLE: RawStats = {
  pids_stats: { current: 3 },
  blkio_stats: {
    io_service_bytes_recursive: [
      { op: 'Read', value: 4096 },
      { op: 'Write', value: 8192 },
      { op: 'Read', value: 1024 },
      { op: 'Total', value: 13312 },
    ],
  },
  cpu_stats: { cpu_usage: { total_usage: 1_145_202_042, percpu_usage: [691_542_681, 453_659_361] }, system_cpu_usage: 4_670_990_000_000, online_cpus: 2 },
  precpu_stats: { cpu_usage: { total_usage: 802_124_880, percpu_usage: [348_465_519, 453_659_361] }, system_cpu_usage: 4_668_980_000_000, online_cpus: 2 },
  memory_stats: { usage: 5_722_112, limit: 67_108_864, stats: { cache: 5_242_880, total_inactive_file: 5_242_880, inactive_file: 5_242_880, total_rss: 57_344 } },
  networks: { eth0: { rx_bytes: 516, tx_bytes: 0 }, eth1: { rx_bytes: 100, tx_bytes: 42 } },
}

describe('toServiceStats', () => {
  test('cgroup v1: CPU over the sampling interval per online CPU, memory without the inactive page cache, totals of every network and block device', () => {
    expect(toServiceStats(V1_SAMPLE)).toEqual({
      cpu_percent: 34.14, // (1145202042 - 802124880) / (4670990000000 - 4668980000000) × 2 × 100
      memory_usage: 479_232,
      memory_limit: 67_108_864,
      memory_percent: 0.71,
      network_rx_bytes: 616,
      network_tx_bytes: 42,
      block_read_bytes: 5120,
      block_write_bytes: 8192,
      pids: 3,
    })
  })

  test('cgroup v2: inactive_file is the cache, lower-case block operations, the CPU count from percpu when online_cpus is missing', () => {
    const stats = toServiceStats({
      cpu_stats: { cpu_usage: { total_usage: 3_000, percpu_usage: [1, 1, 1, 1] }, system_cpu_usage: 10_000 },
      precpu_stats: { cpu_usage: { total_usage: 1_000 }, system_cpu_usage: 6_000 },
      memory_stats: { usage: 10_000, limit: 20_000, stats: { inactive_file: 4_000 } },
      blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: 7 }, { op: 'write', value: 9 }] },
    })
    expect(stats).toMatchObject({ cpu_percent: 200, memory_usage: 6_000, memory_percent: 30, block_read_bytes: 7, block_write_bytes: 9, network_rx_bytes: 0, pids: 0 })
  })

  test('a stopped container (empty samples) is all zeros, never NaN', () => {
    expect(toServiceStats({ cpu_stats: { cpu_usage: { total_usage: 0 } }, precpu_stats: {}, memory_stats: {}, networks: null, blkio_stats: { io_service_bytes_recursive: null } })).toEqual({
      cpu_percent: 0,
      memory_usage: 0,
      memory_limit: 0,
      memory_percent: 0,
      network_rx_bytes: 0,
      network_tx_bytes: 0,
      block_read_bytes: 0,
      block_write_bytes: 0,
      pids: 0,
    })
  })
})

test('readStats: real numbers from a busy container serving HTTP', async () => {
  const port = await freePort()
  const container = await engine.docker.createContainer({
    Image: BUSYBOX_IMAGE,
    // httpd in the background for network traffic, a busy loop for CPU.
    Cmd: ['sh', '-c', `httpd -p ${HTTPD_PORT} -h /www; while true; do :; done`],
    Labels: labels,
    ExposedPorts: { [`${HTTPD_PORT}/tcp`]: {} },
    HostConfig: { Memory: 64 * 1024 * 1024, PortBindings: { [`${HTTPD_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] } },
  })
  await container.start()
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/`)).ok, { timeoutMs: 20_000, intervalMs: 100, what: 'httpd in the stats container' })
  for (let i = 0; i < 5; i++) await (await fetch(`http://127.0.0.1:${port}/`)).text()

  const stats = await readStats(container)
  expect(stats.cpu_percent).toBeGreaterThan(1)
  expect(stats.cpu_percent).toBeLessThanOrEqual(100 * navigator.hardwareConcurrency + 1)
  expect(stats.memory_usage).toBeGreaterThan(0)
  expect(stats.memory_limit).toBe(64 * 1024 * 1024)
  expect(stats.memory_percent).toBeGreaterThan(0)
  expect(stats.memory_percent).toBeLessThan(100)
  expect(stats.pids).toBeGreaterThanOrEqual(2) // the shell and httpd
  expect(stats.network_rx_bytes).toBeGreaterThan(0)
  expect(stats.network_tx_bytes).toBeGreaterThan(0)
  expect(stats.block_read_bytes).toBeGreaterThanOrEqual(0)
  expect(stats.block_write_bytes).toBeGreaterThanOrEqual(0)

  await docker('rm', '-f', container.id)
  await expect(readStats(container)).rejects.toMatchObject({ kind: 'not_found' })
}, 30_000)
