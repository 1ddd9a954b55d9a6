/**
 * @module Who sent an API request: the peer address of the API's own listener (Bun.serve hands its
 * server to Hono as the env, and server.requestIP gives the socket's peer), or, for a request the edge
 * passed to the API in-process (the localhost proxy, an issuer host behind a proxy), the client address
 * the edge itself wrote into X-Real-IP after removing any the client sent (proxy/headers.ts). A request
 * that arrives over a socket never has its X-Real-IP or X-Forwarded-For believed.
 */
import type { Context } from 'hono'
import { isIP } from 'node:net'
import { normalizeClientAddress } from '../lib/index.ts'
import { callerAddress } from './caller-address.ts'

/** The client's address, or null when neither source knows it. */
export function clientAddressOf(c: Context): string | null {
  // Over a socket: the peer, as for METRICS_TRUSTED (caller-address.ts), whatever headers say.
  if ((c.env as { requestIP?: unknown } | undefined)?.requestIP !== undefined) return callerAddress(c)
  // No socket: the edge's in-process fetch, which always sets X-Real-IP to the real client.
  const forwarded = c.req.header('x-real-ip')?.trim()
  return forwarded !== undefined && isIP(forwarded) !== 0 ? normalizeClientAddress(forwarded) : null
}

/** The User-Agent, bounded (the activity log keeps 256 characters). */
export function userAgentOf(c: Context): string | null {
  const agent = c.req.header('user-agent')
  return agent === undefined ? null : agent.slice(0, 256)
}
