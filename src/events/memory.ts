/** @module The in-process event bus, for a single node (embedded store). */
import type { Logger } from '../lib/index.ts'
import type { EventBus } from './event.ts'
import { createHandlerList } from './handlers.ts'

export function createMemoryBus(logger: Logger): EventBus {
  const handlers = createHandlerList(logger)
  // A chain keeps delivery in publication order even when publishers do not await each other.
  let chain = Promise.resolve()
  return {
    publish(event) {
      chain = chain.then(() => handlers.deliver(event))
      return chain
    },
    subscribe: (handler) => handlers.add(handler),
    start: async () => {},
    stop: () => chain,
  }
}
