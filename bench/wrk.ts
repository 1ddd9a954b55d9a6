/** @module Runs wrk against a URL and parses requests/s and latency percentiles from its report. */

export interface WrkResult {
  readonly requestsPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
}

export async function runWrk(url: string, options: { connections?: number; threads?: number; durationSec?: number } = {}): Promise<WrkResult> {
  const args = ['wrk', '--latency', `-t${options.threads ?? 1}`, `-c${options.connections ?? 32}`, `-d${options.durationSec ?? 5}s`, url]
  const proc = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' })
  const report = await new Response(proc.stdout).text()
  if ((await proc.exited) !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`)
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(report)
  return { requestsPerSec: Number(rps?.[1] ?? NaN), p50Ms: latency(report, '50%'), p99Ms: latency(report, '99%') }
}

function latency(report: string, percentile: string): number {
  const match = new RegExp(`${percentile}\\s+([\\d.]+)(us|ms|s)`).exec(report)
  if (!match) return NaN
  const value = Number(match[1])
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value
}
