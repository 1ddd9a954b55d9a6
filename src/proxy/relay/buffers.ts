/**
 * @module Byte handling on the relay's hot path, without allocating where it can be avoided: a scratch
 * buffer to put a head and body bytes together for one write, and range copies instead of views.
 */

export const EMPTY = Buffer.alloc(0)

/**
 * Where a head and the body bytes after it are put together for one write. socket.write copies what it
 * takes and the relay copies what it does not (to a pending buffer), so the scratch is free again as
 * soon as write returns. Never keep a reference to it.
 */
const SCRATCH_BYTES = 64 * 1024
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES)

/** Puts `head` and bytes[start, end) together in the scratch (or, when they do not fit, a new buffer). */
export function assemble(head: string, bytes: Buffer, start: number, end: number): Buffer {
  const total = head.length + end - start
  const target = total > SCRATCH_BYTES ? Buffer.allocUnsafe(total) : scratch
  target.write(head, 0, 'latin1')
  if (end > start) bytes.copy(target, head.length, start, end)
  return target
}

/**
 * A real copy of bytes[start, end). Buffer#copy, not subarray: a view of a buffer the runtime handed to
 * a data callback makes the engine copy that whole buffer into the garbage-collected heap first, which
 * more than doubled the relay's garbage per request (bench/README.md).
 */
export function copyRange(bytes: Buffer, start: number, end: number): Buffer {
  if (end <= start) return EMPTY
  const copy = Buffer.allocUnsafe(end - start)
  bytes.copy(copy, 0, start, end)
  return copy
}
