/**
 * @module The configuration-change events that drive the edge: one discriminated union, validated
 * whenever it crosses a process boundary. Names are the original system's stream event names.
 */
import * as v from 'valibot'
import { LOG_LEVELS } from '../lib/index.ts'

export const EventSchema = v.variant('type', [
  v.object({ type: v.literal('proxy_created'), hostname: v.string() }),
  v.object({ type: v.literal('proxy_updated'), hostname: v.string() }),
  v.object({ type: v.literal('proxy_deleted'), hostname: v.string() }),
  /** A certificate was issued or renewed: serve it from the next handshake on. */
  v.object({ type: v.literal('certificate_ready'), certName: v.string(), domains: v.array(v.string()) }),
  /** An order failed (the reason as the CA gave it; never key material). */
  v.object({ type: v.literal('certificate_failed'), certName: v.string(), error: v.string() }),
  /** A certificate was deleted: its proxies fall back to their own. */
  v.object({ type: v.literal('certificate_deleted'), certName: v.string() }),
  /** An ACME HTTP-01 challenge token was set or cleared: every node answers (or stops answering) it. */
  v.object({ type: v.literal('acme_challenge'), token: v.string() }),
  v.object({ type: v.literal('route_changed'), routeId: v.string() }),
  /** A service (external or Docker) was created, changed or deleted: whatever resolves service://<name> re-reads it. */
  v.object({ type: v.literal('service_changed'), name: v.string() }),
  /** Docker services' lifecycle (#14), beside service_changed (which routing listens to). */
  v.object({ type: v.literal('service_created'), name: v.string() }),
  v.object({ type: v.literal('service_started'), name: v.string() }),
  v.object({ type: v.literal('service_stopped'), name: v.string() }),
  /** Its container exited on its own (exitCode), or is gone (missing: exitCode null); detail says which. */
  v.object({ type: v.literal('service_failed'), name: v.string(), exitCode: v.nullable(v.number()), detail: v.string() }),
  v.object({ type: v.literal('service_deleted'), name: v.string() }),
  /** An access token was revoked (RFC 7009): every node drops it from its verifier's cache. The jti only, never the token. */
  v.object({ type: v.literal('token_revoked'), jti: v.string() }),
  /** A browser session (redirect mode) ended: every node drops it from its cache. The SHA-256 hex of the session id only, never the id. */
  v.object({ type: v.literal('session_ended'), sessionHash: v.string() }),
  /** A log level was changed at run time (PUT/DELETE /logs/level): every node applies it. component null: the default; level null: back to the default. */
  v.object({ type: v.literal('log_level_changed'), component: v.nullable(v.string()), level: v.nullable(v.picklist(LOG_LEVELS)) }),
  /** A header capture started or ended (POST/DELETE /logs/capture): every node reads it from the store. */
  v.object({ type: v.literal('capture_changed'), id: v.string() }),
])

export type AppEvent = v.InferOutput<typeof EventSchema>
export type EventType = AppEvent['type']

export type EventHandler = (event: AppEvent) => void | Promise<void>

export interface EventBus {
  /**
   * Resolves once this node's subscribers have handled the event (so a change applies on the node that
   * made it before its API answers); on Redis also once it is in the stream, for the other nodes, and it
   * rejects when it could not be put there (delivered here all the same).
   */
  publish(event: AppEvent): Promise<void>
  /** Handlers run one event at a time, in publication order. Returns an unsubscribe function. */
  subscribe(handler: EventHandler): () => void
  start(): Promise<void>
  stop(): Promise<void>
}
