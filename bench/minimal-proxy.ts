/**
 * @module The floor of a fetch-based proxy in Bun, run as its own process by the throughput mode: a
 * Bun.serve that forwards each request with fetch and returns the backend's response as it is, with
 * none of our pipeline (no header rewriting, timeout, abort wiring or host checks).
 * Usage: PORT=... TARGET=http://127.0.0.1:N bun bench/minimal-proxy.ts
 */
const target = process.env.TARGET ?? ''
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  fetch(request) {
    const url = new URL(request.url)
    return fetch(`${target}${url.pathname}${url.search}`, { method: request.method, headers: request.headers, body: request.body, decompress: false } as RequestInit)
  },
})
console.log(server.port)
