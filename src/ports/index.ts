/** @module Loopback port allocation for the per-hostname proxy instances. */
export { createPortAllocator, PortsExhaustedError, type PortAllocator, type PortAssignment } from './allocator.ts'
export { DEFAULT_PORT_RANGES, preferredPort, type PortKind, type PortRange, type PortRanges } from './range.ts'
