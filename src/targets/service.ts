/**
 * @module Creating, changing and deleting proxy targets. Every change is stored first and then
 * announced (proxy_created / proxy_updated / proxy_deleted), so the edge of every node applies it
 * without a restart; the edge's periodic reconcile repairs any event that was missed.
 */
import * as v from 'valibot'
import type { AppEvent, EventBus } from '../events/index.ts'
import type { Clock } from '../lib/index.ts'
import { COLLECTIONS, createCollection, type Store } from '../store/index.ts'
import { TargetError } from './errors.ts'
import { CreateProxyTargetSchema, ProxyTargetSchema, type CreateProxyTarget, type ProxyTarget, type UpdateProxyTarget } from './model.ts'

export interface ProxyTargets {
  list(): Promise<ProxyTarget[]>
  get(hostname: string): Promise<ProxyTarget | null>
  /** Throws TargetError('conflict') when the hostname exists. */
  create(input: CreateProxyTarget, actor: string | null): Promise<ProxyTarget>
  /** Applies every field given; throws TargetError('not_found'). */
  update(hostname: string, changes: UpdateProxyTarget): Promise<ProxyTarget>
  /** Throws TargetError('not_found'). */
  remove(hostname: string): Promise<void>
  /** Creates the target, with the schema's defaults, only when the hostname is free; for built-in proxies such as localhost. */
  ensure(input: v.InferInput<typeof CreateProxyTargetSchema>): Promise<void>
}

const MAX_UPDATE_ATTEMPTS = 5

export function createProxyTargets(store: Store, bus: EventBus, clock: Clock): ProxyTargets {
  const collection = createCollection(store, COLLECTIONS.proxyTargets, ProxyTargetSchema)
  const now = () => new Date(clock.nowMs()).toISOString()
  const announce = (event: AppEvent) => bus.publish(event)

  const create = async (input: CreateProxyTarget, actor: string | null): Promise<ProxyTarget | null> => {
    const stamp = now()
    const target: ProxyTarget = { ...input, created_by: actor, created_at: stamp, updated_at: stamp, config_version: 1 }
    if ((await collection.put(target.proxy_hostname, target, { ifAbsent: true })) === null) return null
    await announce({ type: 'proxy_created', hostname: target.proxy_hostname })
    return target
  }

  return {
    async list() {
      return (await collection.list()).map(({ value }) => value)
    },
    async get(hostname) {
      return (await collection.get(hostname))?.value ?? null
    },
    async create(input, actor) {
      const target = await create(input, actor)
      if (!target) throw new TargetError('conflict', `a proxy for ${input.proxy_hostname} already exists`)
      return target
    },
    async ensure(input) {
      await create(v.parse(CreateProxyTargetSchema, input), 'system')
    },
    async update(hostname, changes) {
      // Compare-and-set, so two concurrent updates both apply instead of one silently losing.
      for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
        const current = await collection.get(hostname)
        if (!current) throw new TargetError('not_found', `no proxy for ${hostname}`)
        const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
        const next: ProxyTarget = { ...current.value, ...defined, updated_at: now(), config_version: current.value.config_version + 1 }
        if ((await collection.put(hostname, next, { ifVersion: current.version })) !== null) {
          await announce({ type: 'proxy_updated', hostname })
          return next
        }
      }
      throw new TargetError('conflict', `${hostname} is being changed concurrently; retry`)
    },
    async remove(hostname) {
      if (!(await collection.del(hostname))) throw new TargetError('not_found', `no proxy for ${hostname}`)
      await announce({ type: 'proxy_deleted', hostname })
    },
  }
}
