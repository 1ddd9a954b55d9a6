/** @module Free loopback ports for test servers that cannot listen on port 0 themselves. */
import { readFileSync } from 'node:fs'

/**
 * A loopback port nothing listens on, outside the kernel's ephemeral range (ip_local_port_range,
 * 32768-60999 by default). A port the kernel picked for a probe on port 0 is one it also hands to
 * outgoing connections: once the probe let go of it, a client socket could take it before the test
 * server bound it, and the server failed with EADDRINUSE (seen in CI). The kernel never gives out a
 * port outside that range by itself, so only another listener asking for the same one can take it.
 */
const handedOut = new Set<number>()
const HANDED_OUT_MAX = 2_000

export async function freePort(): Promise<number> {
  const [first, last] = portsOutsideEphemeralRange()
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = first + Math.floor(Math.random() * (last - first + 1))
    // Two calls before either port is bound must not get the same one.
    if (handedOut.has(port)) continue
    try {
      Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } }).stop(true)
      if (handedOut.size >= HANDED_OUT_MAX) handedOut.clear()
      handedOut.add(port)
      return port
    } catch {
      // Taken: try another.
    }
  }
  throw new Error(`no free loopback port between ${first} and ${last}`)
}

/** Some 10,000 ports below the ephemeral range, or above it where it starts too low for that (any, if neither). */
function portsOutsideEphemeralRange(): [number, number] {
  let low = 32_768
  let high = 60_999
  try {
    ;[low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number]
  } catch {
    // Not Linux: its defaults.
  }
  if (low > 11_024) return [low - 10_000, low - 1]
  return high < 55_535 ? [high + 1, 65_535] : [1_024, 65_535]
}

/** Polls until check() resolves truthy; fails after timeoutMs. For conditions, never for fixed sleeps. */
export async function waitFor<T>(check: () => Promise<T> | T, { timeoutMs = 10_000, intervalMs = 25, what = 'condition' } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value as NonNullable<T>
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError}` : ''}`)
    await Bun.sleep(intervalMs)
  }
}
