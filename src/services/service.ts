/**
 * @module Creating, changing and deleting external services. Every change is stored first and then
 * announced as service_changed, so whatever resolves `service://<name>` on any node follows it. A name
 * is claimed in the one namespace external and Docker services share (store/service-names.ts) before
 * the service is stored, and freed after it is deleted.
 */
import type { AppEvent, EventBus } from '../events/index.ts'
import type { Clock } from '../lib/index.ts'
import { COLLECTIONS, createCollection, createServiceNames, type Store } from '../store/index.ts'
import { ServiceError } from './errors.ts'
import { ExternalServiceSchema, type CreateExternalService, type ExternalService, type UpdateExternalService } from './model.ts'

export interface ExternalServices {
  /** Every service, ordered by name. */
  list(): Promise<ExternalService[]>
  /** null when there is no such service. */
  get(name: string): Promise<ExternalService | null>
  /** Throws ServiceError('conflict') when the name is taken, by an external or a Docker service. */
  create(input: CreateExternalService, actor: string | null): Promise<ExternalService>
  /** Applies every field given and keeps the others; throws ServiceError('not_found'), or 'conflict' when concurrent changes keep winning. */
  update(name: string, changes: UpdateExternalService): Promise<ExternalService>
  /** Throws ServiceError('not_found'). Whatever still points at the service is the caller's concern. */
  remove(name: string): Promise<void>
}

const MAX_UPDATE_ATTEMPTS = 5

export function createExternalServices(store: Store, bus: EventBus, clock: Clock): ExternalServices {
  const collection = createCollection(store, COLLECTIONS.externalServices, ExternalServiceSchema)
  const names = createServiceNames(store, clock)
  const now = () => new Date(clock.nowMs()).toISOString()
  const announce = (name: string) => bus.publish({ type: 'service_changed', name } satisfies AppEvent)
  const notFound = (name: string) => new ServiceError('not_found', `no service named ${name}`)

  return {
    async list() {
      return (await collection.list()).map(({ value }) => value).sort((a, b) => (a.service_name < b.service_name ? -1 : 1))
    },
    async get(name) {
      return (await collection.get(name))?.value ?? null
    },
    async create(input, actor) {
      const stamp = now()
      const service: ExternalService = { ...input, created_by: actor, created_at: stamp, updated_at: stamp }
      const claim = await names.claim(service.service_name, 'external')
      if (!claim.held && claim.by === 'docker') throw new ServiceError('conflict', `a Docker service named ${service.service_name} exists (external and Docker services share one namespace)`)
      // A claim held already, or a service stored before names were claimed: the document decides.
      if (!claim.held || (await collection.put(service.service_name, service, { ifAbsent: true })) === null) {
        throw new ServiceError('conflict', `a service named ${service.service_name} already exists`)
      }
      await announce(service.service_name)
      return service
    },
    // Compare-and-set, so two concurrent changes both apply instead of one silently losing.
    async update(name, changes) {
      const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
      for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
        const current = await collection.get(name)
        if (!current) throw notFound(name)
        const next: ExternalService = { ...current.value, ...defined, updated_at: now() }
        if ((await collection.put(name, next, { ifVersion: current.version })) !== null) {
          await announce(name)
          return next
        }
      }
      throw new ServiceError('conflict', `${name} is being changed concurrently; retry`)
    },
    async remove(name) {
      if (!(await collection.del(name))) throw notFound(name)
      await names.releaseKind(name, 'external')
      await announce(name)
    },
  }
}
