/**
 * @module Giving the event loop a turn in the middle of long work on the thread that serves requests:
 * a promise that an awaited synchronous store answers at once resolves as a microtask, so a loop of
 * them never lets a timer or a socket in.
 */

/** Resolves after the event loop's next turn: timers and sockets get theirs first. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
