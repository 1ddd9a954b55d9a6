/** @module Configuration-change events: the typed union and its two buses. */
export { EventSchema, type AppEvent, type EventBus, type EventHandler, type EventType } from './event.ts'
export { createMemoryBus } from './memory.ts'
export { createRedisBus, type RedisBusOptions } from './redis-streams.ts'
export { BusMessageSchema, createChannelBus, type BusChannel, type BusMessage, type ChannelBusOptions } from './channel-bus.ts'
