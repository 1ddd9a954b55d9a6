/**
 * @module A service's status from its container as the engine reports it (inspect). One function, used by
 * every operation and by the reconciler, so an API call and an engine event that see the same container
 * write the same document, and two nodes watching one engine agree.
 */
import type Dockerode from 'dockerode'
import type { DockerService } from './model.ts'

export type StatusFields = Pick<DockerService, 'status' | 'exit_code' | 'status_detail' | 'health_status'>

const HEALTH: Readonly<Record<string, DockerService['health_status']>> = { starting: 'starting', healthy: 'healthy', unhealthy: 'unhealthy' }

/**
 * `container` null: it is gone (deleted behind our back): `missing`, and nothing is recreated. A stopped
 * container is `stopped` while the service was meant to be stopped (status stopped, or a change in
 * progress: creating), and `failed` with its exit code when it exited on its own.
 */
export function statusOf(current: Pick<DockerService, 'status'>, container: Dockerode.ContainerInspectInfo | null): StatusFields {
  if (container === null) return { status: 'missing', exit_code: null, status_detail: 'the container was deleted outside this server; update the service to create it again', health_status: null }
  const state = container.State
  const health = HEALTH[state.Health?.Status ?? ''] ?? null
  if (state.Restarting) return { status: 'restarting', exit_code: state.ExitCode, status_detail: `restarting after exit code ${state.ExitCode}`, health_status: null }
  if (state.Running && !state.Paused) return { status: 'running', exit_code: null, status_detail: null, health_status: health }
  const isIntended = current.status === 'stopped' || current.status === 'creating'
  if (state.Paused) return { status: 'stopped', exit_code: null, status_detail: 'paused outside this server', health_status: null }
  if (isIntended || state.Status === 'created') return { status: 'stopped', exit_code: state.Status === 'created' ? null : state.ExitCode, status_detail: null, health_status: null }
  const why = state.OOMKilled ? 'killed for using more memory than memory_limit' : state.Error ? state.Error : `exited with code ${state.ExitCode}`
  return { status: 'failed', exit_code: state.ExitCode, status_detail: why, health_status: null }
}

/** Whether the stored fields already say this (nothing to write, nothing to announce). */
export function isSameStatus(service: StatusFields, fields: StatusFields): boolean {
  return service.status === fields.status && service.exit_code === fields.exit_code && service.status_detail === fields.status_detail && service.health_status === fields.health_status
}
