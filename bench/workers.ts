/**
 * @module The workers rows (#15): ours with `--workers 2` (WORKERS=2: a primary and two workers on the
 * same ports through SO_REUSEPORT) and nginx with `worker_processes 2`, measured in the same rounds and
 * with the same wrk as the one-worker rows (ours HTTP, nginx HTTP), so the four compare directly. A row's
 * proxy CPU counts the primary (or nginx's master) and its workers.
 */
import { withChildren } from './cpu.ts'
import { startNginx } from './nginx.ts'
import { statusThrough, waitFor } from './net.ts'
import { createApi, issueAdminToken, ourServerEnv, startOurServer } from './our-server.ts'
import type { Row } from './report.ts'

export const WORKERS_ROWS = { ours: 'ours HTTP, --workers 2', nginx: 'nginx HTTP, 2 workers' } as const

export interface WorkersTargets {
  /** The HTTP ports of ours with two workers and of nginx with two, and the processes whose CPU is theirs. */
  readonly ours: { readonly httpPort: number; readonly pids: () => number[] }
  readonly nginx: { readonly httpPort: number; readonly pids: () => number[] }
}

export async function startWorkersTargets(dir: string, host: string, backendUrl: string, backendPort: number, onCleanup: (stop: () => Promise<void> | void) => void): Promise<WorkersTargets> {
  const setup = await ourServerEnv(`${dir}/ours-workers`, { WORKERS: '2' })
  const server = await startOurServer(setup)
  onCleanup(() => server.stop())
  const api = createApi(setup, await issueAdminToken(setup))
  await api.createProxy(host, backendUrl)
  // Both workers serve it (each connection lands on either): 20 fresh connections in a row answered.
  let inARow = 0
  await waitFor(async () => ((await statusThrough(setup.httpPort, host)) === 200 ? ++inARow >= 20 : ((inARow = 0), false)), { what: `${host} through both workers` })
  await waitFor(() => withChildren(server.pid).length === 3, { what: 'the primary and its two workers' })
  const nginx = await startNginx(`${dir}/nginx-workers`, backendPort, 2)
  onCleanup(() => nginx.stop())
  return {
    ours: { httpPort: setup.httpPort, pids: () => withChildren(server.pid) },
    nginx: { httpPort: nginx.httpPort, pids: () => withChildren(nginx.pid) },
  }
}

/** Two workers against one, ours and nginx's, and ours against nginx at two workers each. */
export function printWorkers(rowOf: (name: string) => Row): void {
  const ours1 = rowOf('ours HTTP')
  const ours2 = rowOf(WORKERS_ROWS.ours)
  const nginx1 = rowOf('nginx HTTP')
  const nginx2 = rowOf(WORKERS_ROWS.nginx)
  const ratio = (a: Row, b: Row) => `${(a.requestsPerSec / b.requestsPerSec).toFixed(2)}× (${a.requestsPerSec.toFixed(0)} / ${b.requestsPerSec.toFixed(0)} req/s)`
  console.log(`workers, HTTP, the same wrk against each (report only, no goal):`)
  console.log(`  ours --workers 2 against ours --workers 1: ${ratio(ours2, ours1)}, proxy on ${ours2.proxyCores?.toFixed(2)} cores against ${ours1.proxyCores?.toFixed(2)}`)
  console.log(`  ours --workers 2 against nginx with 2 workers: ${ratio(ours2, nginx2)}`)
  console.log(`  nginx 2 workers against nginx 1 worker: ${ratio(nginx2, nginx1)}`)
  console.log(`  ours against nginx, 1 worker each: ${ratio(ours1, nginx1)}`)
}
