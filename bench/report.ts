/** @module Prints benchmark rows and the ours/nginx ratios as aligned plain text. */

export interface Row {
  readonly name: string
  /** Responses wrk completed in the measured run. */
  readonly requests: number
  readonly requestsPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** CPU time the proxy's processes spent per request (null: no proxy on this path). */
  readonly proxyUsPerRequest: number | null
  /** CPU seconds per second the proxy used: above 1, it ran on more than one core. */
  readonly proxyCores: number | null
  /** CPU time the backend's process spent per request. */
  readonly backendUsPerRequest: number
}

export function printRows(rows: readonly Row[]): void {
  const width = Math.max(...rows.map((row) => row.name.length), 4)
  const columns = ['req/s', 'p50 ms', 'p99 ms', 'proxy µs/req', 'proxy cores', 'backend µs/req']
  console.log(`${'path'.padEnd(width)} ${columns.map((column) => column.padStart(column.length < 9 ? 9 : column.length)).join(' ')}`)
  for (const row of rows) {
    const cells = [
      row.requestsPerSec.toFixed(0),
      row.p50Ms.toFixed(2),
      row.p99Ms.toFixed(2),
      row.proxyUsPerRequest?.toFixed(1) ?? '-',
      row.proxyCores?.toFixed(2) ?? '-',
      row.backendUsPerRequest.toFixed(1),
    ]
    console.log(`${row.name.padEnd(width)} ${cells.map((cell, index) => cell.padStart(Math.max(columns[index]!.length, 9))).join(' ')}`)
  }
}

/** Ours against nginx on one scheme, with the issue's goals: rps ≥ minRpsRatio × nginx, p99 ≤ 2 × nginx. */
export function printRatio(label: string, ours: Row, nginx: Row, minRpsRatio: number): void {
  const rps = ours.requestsPerSec / nginx.requestsPerSec
  const p99 = ours.p99Ms / nginx.p99Ms
  console.log(
    `${label}: req/s ${rps.toFixed(2)}× nginx (goal ≥ ${minRpsRatio}: ${verdict(rps >= minRpsRatio)}), ` +
      `p99 ${p99.toFixed(2)}× nginx (goal ≤ 2: ${verdict(p99 <= 2)})`,
  )
}

/**
 * One route row against ours with 0 routes: req/s ratio (goal: at least `minRpsRatio`) and the proxy's
 * extra CPU per request, the steadier of the two on a busy machine. `width` aligns the names.
 */
export function printRouteCost(row: Row, baseline: Row, width: number, minRpsRatio?: number): void {
  const rps = row.requestsPerSec / baseline.requestsPerSec
  const extraUs = (row.proxyUsPerRequest ?? NaN) - (baseline.proxyUsPerRequest ?? NaN)
  const signed = (value: number, digits: number) => {
    const magnitude = Math.abs(value).toFixed(digits)
    return `${value < 0 && Number(magnitude) !== 0 ? '-' : '+'}${magnitude}`
  }
  const goal = minRpsRatio === undefined ? 'control: same server, same path' : `goal ≥ ${minRpsRatio}: ${verdict(rps >= minRpsRatio)}`
  console.log(
    `  ${row.name.padEnd(width)} req/s ${rps.toFixed(2)}× (${goal}), ` +
      `proxy CPU ${signed(extraUs, 1)} µs/req (${signed((extraUs / baseline.proxyUsPerRequest!) * 100, 0)} %)`,
  )
}

export function printValue(label: string, value: string, goal?: { text: string; isMet: boolean }): void {
  console.log(`${label}: ${value}${goal ? ` (goal ${goal.text}: ${verdict(goal.isMet)})` : ''}`)
}

const verdict = (isMet: boolean) => (isMet ? 'met' : 'NOT met')
