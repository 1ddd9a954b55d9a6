/**
 * @module The stored Docker services (`services/docker/<name>`). Every change after creation is a
 * compare-and-set, so two nodes that watch the same engine (and both see a container die) or an API
 * call racing the reconciler each apply their change to the latest document instead of overwriting it.
 */
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'
import { DockerServiceSchema, type DockerService } from './model.ts'
import { DockerServiceError } from './service-error.ts'

export interface DockerServiceStore {
  list(): Promise<DockerService[]>
  get(name: string): Promise<DockerService | null>
  /** Stores a new service; false when one of that name is stored already. */
  insert(service: DockerService): Promise<boolean>
  /**
   * Applies change to the current document until it is written unchanged by anyone else in between.
   * change returns the next document, or null to write nothing. Resolves to what is stored afterwards
   * (null when there is no such service). Throws DockerServiceError('conflict') when writers keep winning.
   */
  change(name: string, change: (current: DockerService) => DockerService | null): Promise<DockerService | null>
  /** Deletes the document; false when there was none. */
  remove(name: string): Promise<boolean>
}

const MAX_ATTEMPTS = 10

export function createDockerServiceStore(store: Store): DockerServiceStore {
  const collection = createCollection(store, COLLECTIONS.dockerServices, DockerServiceSchema)
  return {
    async list() {
      return (await collection.list()).map(({ value }) => value).sort((a, b) => (a.service_name < b.service_name ? -1 : 1))
    },
    async get(name) {
      return (await collection.get(name))?.value ?? null
    },
    async insert(service) {
      return (await collection.put(service.service_name, service, { ifAbsent: true })) !== null
    },
    async change(name, change) {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const current = await collection.get(name)
        if (!current) return null
        const next = change(current.value)
        if (next === null) return current.value
        if ((await collection.put(name, next, { ifVersion: current.version })) !== null) return next
      }
      throw new DockerServiceError('conflict', `${name} is being changed concurrently; retry`)
    },
    remove: (name) => collection.del(name),
  }
}
