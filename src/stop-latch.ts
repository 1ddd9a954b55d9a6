/**
 * @module Stop signals that arrive while `serve` is still loading its modules (up to a second on a busy
 * host, before any handler of its own exists) are held here instead of killing the process by their
 * default action: a supervisor's SIGTERM during start-up then means the same clean stop as later.
 * No imports, so the entry point can install it before it loads anything else.
 */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const

let latched: NodeJS.Signals | null = null
const hold = (signal: NodeJS.Signals) => {
  latched ??= signal
}

export function latchStopSignals(): void {
  for (const signal of STOP_SIGNALS) process.on(signal, hold)
}

/** Stops holding signals (call once the real handlers listen); answers the first one held, if any. */
export function releaseStopSignals(): NodeJS.Signals | null {
  for (const signal of STOP_SIGNALS) process.off(signal, hold)
  return latched
}
