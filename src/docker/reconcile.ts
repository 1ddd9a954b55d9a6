/**
 * @module Keeping stored services true to the engine. At start-up, on every (re)connection and every
 * minute, each stored service is compared with its container; in between, the engine's event stream
 * (this deployment's containers only, by their label: deployment.ts) applies a container's start, death, health change or
 * removal within moments. A container that died is `failed` with its exit code, one deleted behind our
 * back is `missing`; nothing is ever created or recreated here, so a restarted server (or a second node)
 * never makes duplicates.
 *
 * The engine may be absent at start-up or restart later: the stream is reopened with backoff (up to 5 s
 * apart), and the server never waits for it.
 */
import { SERVICE_LABEL } from './container-spec.ts'
import { DEPLOYMENT_LABEL } from './deployment.ts'
import { CHANGE_TIMEOUT_MS } from './lifecycle.ts'
import type { ManagerContext } from './manager-context.ts'
import type { DockerService } from './model.ts'
import { syncStatus } from './status-sync.ts'

export interface Reconciler {
  /** Loads the URLs from the store and follows other nodes' changes, without touching the engine. Idempotent. */
  load(): Promise<void>
  /** load(), then follows the engine from now on; resolves at once (never waits for the engine). */
  start(): Promise<void>
  /** Compares every stored service with the engine now. */
  reconcileAll(): Promise<void>
  stop(): Promise<void>
}

export interface ReconcileTiming {
  readonly periodMs: number
  readonly firstRetryMs: number
  readonly maxRetryMs: number
}

const STOP_WAIT_MS = 1_000

export const DEFAULT_RECONCILE_TIMING: ReconcileTiming = { periodMs: 60_000, firstRetryMs: 250, maxRetryMs: 5_000 }

/**
 * Engine event actions that change what a service's status shows. Not kill or stop: they come before the
 * container has exited (a stop's grace period), and its die follows.
 */
const WATCHED_ACTIONS = /^(start|die|destroy|pause|unpause|restart|oom|health_status)/

interface EngineEvent {
  readonly Type?: string
  readonly Action?: string
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Record<string, string> }
}

export function createReconciler(ctx: ManagerContext, timing: ReconcileTiming = DEFAULT_RECONCILE_TIMING): Reconciler {
  const logger = ctx.logger
  let isRunning = false
  let stream: NodeJS.ReadableStream | null = null
  let periodic: ReturnType<typeof setInterval> | null = null
  let wake: (() => void) | null = null
  let following: Promise<void> | null = null
  let unsubscribe: (() => void) | null = null

  async function reconcileAll(): Promise<void> {
    let services: DockerService[] = []
    await ctx.urls.reload(async () => (services = await ctx.services.list()))
    for (const service of services) {
      // A change in progress on some node owns the document until it ends (or is abandoned).
      if (service.status === 'creating' && ctx.clock.nowMs() - Date.parse(service.updated_at) < CHANGE_TIMEOUT_MS) continue
      try {
        await syncStatus(ctx, service.service_name, service.status === 'creating' ? 'running' : undefined)
      } catch (error) {
        logger.warn('could not reconcile a service', { service: service.service_name, error: String(error) })
      }
    }
  }

  async function onEvent(event: EngineEvent): Promise<void> {
    const name = event.Actor?.Attributes?.[SERVICE_LABEL]
    if (event.Type !== 'container' || !name || !WATCHED_ACTIONS.test(event.Action ?? '')) return
    const service = await ctx.services.get(name)
    // Not ours to judge: an old container of a recreated service, one being deleted, or a change in progress.
    if (!service || service.container_id !== event.Actor?.ID || service.status === 'creating') return
    await syncStatus(ctx, name)
  }

  /** Reads newline-separated JSON events until the stream ends (the engine stopped) or stop() is called. */
  async function consume(events: NodeJS.ReadableStream): Promise<void> {
    let buffered = ''
    // Streaming decode: a label's multi-byte character may be cut between two chunks.
    const decoder = new TextDecoder()
    const pending: EngineEvent[] = []
    await new Promise<void>((resolve) => {
      let draining: Promise<void> = Promise.resolve()
      const drain = () => {
        draining = draining.then(async () => {
          for (let event = pending.shift(); event; event = pending.shift()) {
            await onEvent(event).catch((error) => logger.warn('could not apply an engine event', { action: event?.Action ?? '', error: String(error) }))
          }
        })
      }
      events.on('data', (chunk: Buffer | string) => {
        buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
        let newline = buffered.indexOf('\n')
        while (newline !== -1) {
          const line = buffered.slice(0, newline).trim()
          buffered = buffered.slice(newline + 1)
          if (line) {
            try {
              pending.push(JSON.parse(line) as EngineEvent)
            } catch {
              logger.warn('unreadable engine event', { length: line.length })
            }
          }
          newline = buffered.indexOf('\n')
        }
        drain()
      })
      const finish = () => void draining.then(resolve)
      events.on('end', finish)
      events.on('close', finish)
      events.on('error', finish)
    })
  }

  /** Connects, reconciles, follows; on any failure waits (doubling up to maxRetryMs) and starts over. */
  async function follow(): Promise<void> {
    let retryMs = timing.firstRetryMs
    let wasDown = false
    while (isRunning) {
      try {
        await ctx.engine.ping()
        const deployment = await ctx.deploymentId()
        const events = (await ctx.engine.docker.getEvents({ filters: { type: ['container'], label: [`${DEPLOYMENT_LABEL}=${deployment}`] } })) as NodeJS.ReadableStream
        if (!isRunning) {
          ;(events as unknown as { destroy?: () => void }).destroy?.()
          return
        }
        stream = events
        if (wasDown) logger.info('the Docker engine answers again')
        wasDown = false
        retryMs = timing.firstRetryMs
        // Opened before comparing, so nothing that happens during the comparison is missed.
        const consumed = consume(events)
        await reconcileAll()
        await consumed
        stream = null
        if (isRunning) logger.warn('the Docker engine event stream ended; reconnecting')
      } catch (error) {
        if (!wasDown) logger.warn('the Docker engine does not answer; retrying', { error: String(error) })
        wasDown = true
      }
      if (!isRunning) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryMs)
        wake = () => (clearTimeout(timer), resolve())
      })
      wake = null
      retryMs = Math.min(retryMs * 2, timing.maxRetryMs)
    }
  }

  let loading: Promise<void> | null = null
  function load(): Promise<void> {
    loading ??= (async () => {
      // Other nodes' changes of ports (and external services' names) arrive as service_changed.
      unsubscribe = ctx.bus.subscribe(async (event) => {
        if (event.type !== 'service_changed') return
        const service = await ctx.services.get(event.name)
        if (service) ctx.urls.set(service)
        else ctx.urls.delete(event.name)
      })
      await ctx.urls.reload(() => ctx.services.list()).catch((error) => logger.warn('could not load Docker services from the store', { error: String(error) }))
    })()
    return loading
  }

  return {
    load,
    async start() {
      if (isRunning) return
      isRunning = true
      await load()
      following = follow()
      periodic = setInterval(() => {
        if (stream) reconcileAll().catch((error) => logger.warn('reconcile failed', { error: String(error) }))
      }, timing.periodMs)
      periodic.unref?.()
    },
    reconcileAll,
    async stop() {
      isRunning = false
      unsubscribe?.()
      loading = null
      if (periodic) clearInterval(periodic)
      ;(stream as unknown as { destroy?: () => void } | null)?.destroy?.()
      wake?.()
      // An engine call under way (a ping of an engine that hangs) is not waited for beyond a moment.
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([following, new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))])
      clearTimeout(timer)
    },
  }
}
