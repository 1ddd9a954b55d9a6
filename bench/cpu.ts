/**
 * @module CPU time of processes from /proc (utime + stime, every thread included), so each benchmark
 * row can say how much CPU the proxy and the backend spent per request: a perf-free cost breakdown.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** USER_HZ: /proc reports CPU time in these ticks (100 on every Linux this runs on; `getconf CLK_TCK`). */
const TICKS_PER_SEC = 100

/** Seconds of CPU the processes used so far (user + system). A process that is gone counts 0. */
export function cpuSecondsOf(pids: readonly number[]): number {
  let ticks = 0
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // exited
    }
  }
  return ticks / TICKS_PER_SEC
}

/** The process and its direct children (nginx: the master and its worker). */
export function withChildren(pid: number): number[] {
  const children: number[] = []
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
    if (text) children.push(...text.split(' ').map(Number))
  }
  return [pid, ...children]
}

/** CPU seconds of this process (the benchmark runner, which hosts the backend and idles otherwise). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}

/**
 * Seconds of CPU the hypervisor gave to others while this VM wanted it (the "steal" column of /proc/stat,
 * all cores): on a shared host this, not our code, is what makes runs seconds apart differ by 2×.
 */
export function stolenCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/)
  // cpu user nice system idle iowait irq softirq steal ...
  return Number(fields[8] ?? 0) / TICKS_PER_SEC
}
