/**
 * @module Runs wrk against a URL and parses requests/s, latency percentiles and failures from its
 * report.
 */

export interface WrkOptions {
  readonly durationSec: number
  readonly connections?: number
  readonly threads?: number
  /** Extra request headers, e.g. { Host: 'bench.test' }. */
  readonly headers?: Readonly<Record<string, string>>
}

export interface WrkResult {
  readonly requestsPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly requests: number
  /** Responses outside 2xx/3xx plus connect/read/write/timeout errors: a path that fails is not measured. */
  readonly failures: number
}

export const WARM_UP_SEC = 2

/** A warm-up run whose numbers are thrown away (JIT, connection pools, TLS session state). */
export async function warmUp(url: string, options: WrkOptions): Promise<void> {
  await runWrk(url, { ...options, durationSec: WARM_UP_SEC })
}

/** Throws if any response was outside 2xx/3xx or any socket failed: a path that fails is not measured. */
export async function runWrk(url: string, options: WrkOptions): Promise<WrkResult> {
  const result = await runWrkReport(url, options)
  if (result.failures > 0 || !(result.requests > 0)) throw new Error(`wrk ${url}: ${result.failures} failures in ${result.requests} requests`)
  return result
}

/** wrk's report as it is, failures included (for controls that expect refusals). */
export async function runWrkReport(url: string, options: WrkOptions): Promise<WrkResult> {
  const headerArgs = Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`])
  const args = ['wrk', '--latency', `-t${options.threads ?? 1}`, `-c${options.connections ?? 32}`, `-d${options.durationSec}s`, ...headerArgs, url]
  const proc = Bun.spawn(args, { stdout: 'pipe', stderr: 'pipe' })
  const [report, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`wrk ${url} exited ${code}: ${stderr}`)
  return parseWrkReport(report)
}

export function parseWrkReport(report: string): WrkResult {
  const number = (pattern: RegExp) => Number(pattern.exec(report)?.[1] ?? 0)
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report)
  const failures = number(/Non-2xx or 3xx responses: (\d+)/) + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0)
  return {
    requestsPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(report)?.[1] ?? NaN),
    p50Ms: latency(report, '50%'),
    p99Ms: latency(report, '99%'),
    requests: number(/(\d+) requests in/),
    failures,
  }
}

function latency(report: string, percentile: string): number {
  const match = new RegExp(`${percentile}\\s+([\\d.]+)(us|ms|s)\\b`).exec(report)
  if (!match) return NaN
  const value = Number(match[1])
  return match[2] === 'us' ? value / 1000 : match[2] === 's' ? value * 1000 : value
}
