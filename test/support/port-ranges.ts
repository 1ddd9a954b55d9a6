/**
 * @module Instance port ranges of their own for a test edge, so that several edges (in this process, or
 * another test run on the machine) never compete for the default 12000/13000 ranges.
 */

/** Ports above the defaults and below the usual Linux ephemeral range (32768-60999). */
const LOWEST_BASE = 14_000
const HIGHEST_BASE = 32_000

/** PROXY_HTTP_PORTS and PROXY_HTTPS_PORTS of `size` ports each, side by side, every one free (bindable without reusePort) right now. */
export function isolatedPortRanges(size = 16): { PROXY_HTTP_PORTS: string; PROXY_HTTPS_PORTS: string } {
  for (;;) {
    const first = LOWEST_BASE + Math.floor(Math.random() * (HIGHEST_BASE - LOWEST_BASE))
    if (!isFree(first, first + 2 * size - 1)) continue
    return { PROXY_HTTP_PORTS: `${first}-${first + size - 1}`, PROXY_HTTPS_PORTS: `${first + size}-${first + 2 * size - 1}` }
  }
}

function isFree(first: number, last: number): boolean {
  for (let port = first; port <= last; port++) {
    try {
      Bun.listen({ hostname: '127.0.0.1', port, socket: { data() {} } }).stop(true)
    } catch {
      return false
    }
  }
  return true
}
