/**
 * @module The benchmark's backend: a keep-alive Bun.serve answering every request with the same 1 KiB.
 * It counts what it received, so the bench can show where requests came from: the relay's upstream head
 * (src/proxy/relay/upstream-head.ts) never has a Connection field, while a handed-over request reaches
 * an http backend through the raw client with `connection: close` (src/proxy/raw-forward.ts) and nginx
 * sends none either (`proxy_set_header Connection ""`).
 */

export const RESPONSE_BYTES = 1024

/** Requests received since the backend started. */
export interface BackendTally {
  readonly requests: number
  /** Requests with a Connection field: none comes from our relay. */
  readonly withConnectionField: number
  /** Requests whose path starts with the given prefix (a route's target path). */
  readonly underPrefix: number
}

export interface Backend {
  readonly port: number
  readonly url: string
  tally(): BackendTally
  stop(): void
}

/** `countedPrefix`: the path prefix whose requests tally().underPrefix counts. */
export function startBackend(countedPrefix = '/'): Backend {
  const body = new Uint8Array(RESPONSE_BYTES).fill(0x61)
  let requests = 0
  let withConnectionField = 0
  let underPrefix = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      requests += 1
      if (request.headers.has('connection')) withConnectionField += 1
      // request.url is absolute, its authority taken from Host: the path starts at the first "/" after "http://".
      const url = request.url
      if (url.startsWith(countedPrefix, url.indexOf('/', 7))) underPrefix += 1
      return new Response(body, { headers: { 'content-type': 'text/plain' } })
    },
  })
  const port = server.port!
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    tally: () => ({ requests, withConnectionField, underPrefix }),
    stop: () => void server.stop(true),
  }
}
