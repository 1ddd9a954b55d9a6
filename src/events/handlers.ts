/** @module The subscriber list both bus adapters share: ordered delivery, one failing handler never stops the others. */
import type { Logger } from '../lib/index.ts'
import type { AppEvent, EventHandler } from './event.ts'

export function createHandlerList(logger: Logger) {
  const handlers = new Set<EventHandler>()
  return {
    add(handler: EventHandler): () => void {
      handlers.add(handler)
      return () => void handlers.delete(handler)
    },
    async deliver(event: AppEvent): Promise<void> {
      for (const handler of [...handlers]) {
        try {
          await handler(event)
        } catch (error) {
          logger.error('event handler failed', { event: event.type, error: String(error) })
        }
      }
    },
  }
}
