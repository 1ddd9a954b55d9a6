/**
 * @module The worker side of `serve --workers N` (workers.ts is the primary's): a worker knows itself by
 * the variable the primary sets and by its IPC channel, is a node of its own (NODE_ID plus `-w<index>`),
 * and reaches the other workers' events through the primary when they share the embedded store.
 */
import type { Config } from '../config/index.ts'
import { createChannelBus, type BusMessage, type EventBus } from '../events/index.ts'
import type { Logger } from '../lib/index.ts'

/** Set by the primary in each worker's environment: its index, from 1. Not a setting: nothing else sets it. */
export const WORKER_ENV = 'OAUTH_HTTPS_PROXY_WORKER'

/** How often a worker checks that its primary still runs (an orphan drains and exits). */
const PRIMARY_CHECK_MS = 1_000

export interface WorkerLink {
  readonly index: number
  /** The worker's configuration: the primary's, with a node id of its own. */
  configFor(config: Config): Config
  /** The bus through the primary (embedded store); with Redis each worker is a node on the stream and needs none. */
  bus(config: Config, logger: Logger): EventBus | undefined
  /** Tells the primary this worker serves. */
  ready(): void
  /** Resolves if the primary process goes away (killed): the worker then shuts down too. */
  readonly primaryGone: Promise<void>
}

/** This process's link to its primary, or null when it is not a worker. */
export function workerLink(env: Record<string, string | undefined>): WorkerLink | null {
  const index = Number(env[WORKER_ENV])
  const send = process.send?.bind(process)
  if (!Number.isInteger(index) || index < 1 || !send) return null
  const primaryPid = process.ppid
  const gone: (() => void)[] = []
  const primaryGone = new Promise<void>((resolve) => {
    // Bun emits no 'disconnect' when the parent dies; its orphans are re-parented, which ppid shows.
    const timer = setInterval(() => {
      if (process.ppid === primaryPid) return
      clearInterval(timer)
      for (const listener of gone) listener()
      resolve()
    }, PRIMARY_CHECK_MS)
    timer.unref()
  })
  const trySend = (message: BusMessage | { type: 'ready' }) => {
    try {
      return send(message)
    } catch {
      return false
    }
  }
  return {
    index,
    configFor: (config) => ({ ...config, nodeId: workerNodeId(config.nodeId, index) }),
    bus(config, logger) {
      if (config.redisUrl) return undefined
      return createChannelBus({
        channel: { send: trySend, onMessage: (listener) => void process.on('message', listener), onClose: (listener) => void gone.push(listener) },
        self: workerNodeId(config.nodeId, index),
        logger,
      })
    },
    ready: () => void trySend({ type: 'ready' }),
    primaryGone,
  }
}

/** NODE_ID-w<index>, within NODE_ID's 64 characters. */
export function workerNodeId(nodeId: string, index: number): string {
  const suffix = `-w${index}`
  return `${nodeId.slice(0, 64 - suffix.length)}${suffix}`
}
