/**
 * @module A container's resource use, from the engine's raw stats, computed as the docker CLI does:
 * CPU over the interval between the engine's two samples, memory without the reclaimable page cache.
 */
import type Dockerode from 'dockerode'
import { engineError } from './engine.ts'
import type { ServiceStats } from './types.ts'

interface CpuSample {
  readonly cpu_usage?: { readonly total_usage?: number; readonly percpu_usage?: readonly number[] | null }
  readonly system_cpu_usage?: number
  readonly online_cpus?: number
}

/** The engine's /containers/{id}/stats answer; every part may be missing (a stopped container has almost none). */
export interface RawStats {
  readonly cpu_stats?: CpuSample
  readonly precpu_stats?: CpuSample
  readonly memory_stats?: { readonly usage?: number; readonly limit?: number; readonly stats?: Readonly<Record<string, number>> }
  readonly networks?: Readonly<Record<string, { readonly rx_bytes?: number; readonly tx_bytes?: number }>> | null
  readonly blkio_stats?: { readonly io_service_bytes_recursive?: readonly { readonly op?: string; readonly value?: number }[] | null }
  readonly pids_stats?: { readonly current?: number }
}

export function toServiceStats(raw: RawStats): ServiceStats {
  const memoryUsage = memoryWithoutCache(raw.memory_stats)
  const memoryLimit = raw.memory_stats?.limit ?? 0
  const networks = Object.values(raw.networks ?? {})
  const blockIo = raw.blkio_stats?.io_service_bytes_recursive ?? []
  const blockBytes = (op: string) => blockIo.filter((entry) => entry.op?.toLowerCase() === op).reduce((sum, entry) => sum + (entry.value ?? 0), 0)
  return {
    cpu_percent: round(cpuPercent(raw.cpu_stats, raw.precpu_stats)),
    memory_usage: memoryUsage,
    memory_limit: memoryLimit,
    memory_percent: memoryLimit > 0 ? round((memoryUsage / memoryLimit) * 100) : 0,
    network_rx_bytes: networks.reduce((sum, network) => sum + (network.rx_bytes ?? 0), 0),
    network_tx_bytes: networks.reduce((sum, network) => sum + (network.tx_bytes ?? 0), 0),
    block_read_bytes: blockBytes('read'),
    block_write_bytes: blockBytes('write'),
    pids: raw.pids_stats?.current ?? 0,
  }
}

/** Share of the whole host over the sampling interval, 100 % per CPU (two busy CPUs: 200 %). */
function cpuPercent(now: CpuSample | undefined, before: CpuSample | undefined): number {
  const cpuDelta = (now?.cpu_usage?.total_usage ?? 0) - (before?.cpu_usage?.total_usage ?? 0)
  const systemDelta = (now?.system_cpu_usage ?? 0) - (before?.system_cpu_usage ?? 0)
  if (cpuDelta <= 0 || systemDelta <= 0) return 0
  const cpus = now?.online_cpus || now?.cpu_usage?.percpu_usage?.length || 1
  return (cpuDelta / systemDelta) * cpus * 100
}

/**
 * Usage minus the inactive page cache, which the kernel reclaims before it would kill anything:
 * total_inactive_file under cgroup v1, inactive_file under v2 (the docker CLI's rule since 19.03).
 */
function memoryWithoutCache(memory: RawStats['memory_stats']): number {
  const usage = memory?.usage ?? 0
  const cache = memory?.stats?.total_inactive_file ?? memory?.stats?.inactive_file ?? 0
  return cache < usage ? usage - cache : usage
}

function round(value: number): number {
  return Math.round(value * 100) / 100
}

/** One reading: the engine samples twice, about a second apart, so the CPU share covers that second. */
export async function readStats(container: Dockerode.Container): Promise<ServiceStats> {
  try {
    return toServiceStats((await container.stats({ stream: false })) as RawStats)
  } catch (error) {
    throw engineError(error)
  }
}
