/**
 * @module Bringing a stored service's status in line with its container, and announcing what changed.
 * Used after every operation and by the reconciler for every engine event, on every node: the write is a
 * compare-and-set that is skipped when the document already says the same, so of two nodes that see one
 * container die, one writes `failed` and publishes service_failed, the other finds nothing to do.
 */
import type { AppEvent } from '../events/index.ts'
import { inspectContainer } from './container-run.ts'
import { announce, nowIso, type ManagerContext } from './manager-context.ts'
import type { DockerService, ServiceStatus } from './model.ts'
import { isSameStatus, statusOf } from './service-status.ts'

/** Beyond a stop's grace period: a stopped service whose container runs after this was started outside this server. */
const STOP_MARGIN_SEC = 5

/** The events a status change means (service_changed is for ports and settings, not status). */
export function transitionEvents(before: DockerService, after: DockerService): AppEvent[] {
  const name = after.service_name
  if (before.status === after.status) return []
  switch (after.status) {
    case 'running':
      return [{ type: 'service_started', name }]
    case 'stopped':
      return [{ type: 'service_stopped', name }]
    case 'failed':
    case 'missing':
    case 'restarting':
      return [{ type: 'service_failed', name, exitCode: after.exit_code, detail: after.status_detail ?? after.status }]
    case 'creating':
      return []
  }
}

/**
 * Reads the service's container and stores the status it shows. `intent` is the status the caller just
 * asked for (stop: stopped), so a container that exited because it was told to is `stopped`, not `failed`.
 * Nothing is written when the service now has another container (replaced meanwhile) or is gone.
 */
export async function syncStatus(ctx: ManagerContext, name: string, intent?: ServiceStatus): Promise<DockerService | null> {
  const current = await ctx.services.get(name)
  if (!current?.container_id) return current
  const containerId = current.container_id
  const container = await inspectContainer(ctx.engine, containerId)
  let before: DockerService | null = null
  const after = await ctx.services.change(name, (service) => {
    // Called again after a lost compare-and-set: only the attempt that is written counts.
    before = null
    if (service.container_id !== containerId) return null
    // A stop in progress (on any node): the container still runs through its grace period.
    if (!intent && service.status === 'stopped' && container?.State.Running && ctx.clock.nowMs() - Date.parse(service.updated_at) < (ctx.stopTimeoutSec + STOP_MARGIN_SEC) * 1000) return null
    const fields = statusOf(intent ? { status: intent } : service, container)
    if (isSameStatus(service, fields)) return null
    before = service
    return { ...service, ...fields, updated_at: nowIso(ctx) }
  })
  if (before && after) await announce(ctx, ...transitionEvents(before, after))
  return after
}
