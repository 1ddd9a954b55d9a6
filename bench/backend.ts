/** @module The benchmark's backend: a keep-alive Bun.serve answering every request with the same 1 KiB. */

export const RESPONSE_BYTES = 1024

export interface Backend {
  readonly port: number
  readonly url: string
  stop(): void
}

export function startBackend(): Backend {
  const body = new Uint8Array(RESPONSE_BYTES).fill(0x61)
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => new Response(body, { headers: { 'content-type': 'text/plain' } }),
  })
  const port = server.port!
  return { port, url: `http://127.0.0.1:${port}`, stop: () => void server.stop(true) }
}
