/**
 * @module What the request log's paired tools share (log-ab.ts, log-compare.ts): a side, a server of
 * ours with the proxies `bench.test` (HTTP) and `127.0.0.1` (HTTPS) on the backend, and the wrk target
 * for either protocol.
 */
import { join } from 'node:path'
import { statusThrough, waitFor } from './net.ts'
import { createApi, issueAdminToken, ourServerEnv, startOurServer, type OurServer } from './our-server.ts'
import type { Scratch } from './scratch.ts'
import type { WrkOptions } from './wrk.ts'

export const HTTP_HOST = 'bench.test'
/** As in throughput.ts: wrk sends the URL's host as SNI, and 127.0.0.1 is what it can reach. */
export const HTTPS_HOST = '127.0.0.1'

export type Protocol = 'HTTP' | 'HTTPS'

export interface Side {
  readonly name: string
  readonly server: OurServer
  readonly httpPort: number
  readonly httpsPort: number
}

/** A server of ours in its own folder of the scratch directory; `main` runs another checkout's src/main.ts. */
export async function startSide(at: Pick<Scratch, 'dir' | 'onCleanUp'>, name: string, backendUrl: string, env: Record<string, string>, main?: string): Promise<Side> {
  const setup = { ...(await ourServerEnv(join(at.dir, name.replace(/[^\w.-]+/g, '-')), env)), main }
  const server = await startOurServer(setup)
  at.onCleanUp(() => server.stop())
  const api = createApi(setup, await issueAdminToken(setup))
  await api.createProxy(HTTP_HOST, backendUrl)
  await api.createProxy(HTTPS_HOST, backendUrl)
  await waitFor(async () => (await statusThrough(setup.httpPort, HTTP_HOST)) === 200, { what: `${HTTP_HOST} through ${name}` })
  await waitFor(async () => (await api.instancePorts(HTTPS_HOST)).https, { what: `${HTTPS_HOST} HTTPS instance of ${name}` })
  return { name, server, httpPort: setup.httpPort, httpsPort: setup.httpsPort }
}

/** What wrk is pointed at: the same request on every side. */
export function wrkTarget(side: Side, protocol: Protocol, durationSec: number): [string, WrkOptions] {
  return protocol === 'HTTP'
    ? [`http://127.0.0.1:${side.httpPort}/`, { durationSec, headers: { Host: HTTP_HOST } }]
    : [`https://${HTTPS_HOST}:${side.httpsPort}/`, { durationSec }]
}
