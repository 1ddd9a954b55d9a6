/**
 * @module Who is calling the API, by the connection's address: for the settings that trust a caller
 * by where it is (METRICS_TRUSTED, FORWARD_AUTH_TRUSTED). Bun.serve hands the server to app.fetch as
 * its second argument, which Hono keeps as c.env; the edge's in-process calls (the localhost proxy)
 * pass none, so a request relayed by the edge is never taken for one from the edge's own address.
 */
import type { Context } from 'hono'
import { cidrContains, normalizeClientAddress, type Cidr } from '../lib/index.ts'

/** The peer address as Bun.serve saw the connection; null when the app was called in-process. */
export function callerAddress(c: Context): string | null {
  const server = c.env as { requestIP?: (request: Request) => { address: string } | null } | undefined
  const peer = typeof server?.requestIP === 'function' ? server.requestIP(c.req.raw) : null
  return peer ? normalizeClientAddress(peer.address) : null
}

/** Whether the caller connected from an address in one of the CIDRs; an in-process call never is. */
export function isCallerIn(c: Context, trusted: readonly Cidr[]): boolean {
  const caller = callerAddress(c)
  return caller !== null && trusted.some((cidr) => cidrContains(cidr, caller))
}
