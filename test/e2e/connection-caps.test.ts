/**
 * The connection caps (#13) on a real server: MAX_CONNECTIONS_PER_ADDRESS holds against 1,000
 * connections from one address while a second address is still served, MAX_CONNECTIONS holds across
 * addresses, connections over a cap are closed at once and counted in
 * ohp_connections_refused_total{reason}, the connections already open are never dropped, and a place
 * is given back when its connection closes. Behind a trusted load balancer the cap applies to the
 * client its PROXY header names, never to the balancer itself.
 *
 * Clients bind 127.0.0.2, 127.0.0.3, … as their source address (all of 127.0.0.0/8 is loopback on
 * Linux), so the edge keeps listening on 127.0.0.1 alone.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { connect, type Socket } from 'node:net'
import { connect as connectTls, type TLSSocket } from 'node:tls'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { waitFor } from '../support/ports.ts'
import { parseExposition, sumOf } from '../logs/metrics-text.ts'

const HOST = 'caps.test'
/** Long enough that no admitted connection is closed by the read deadline while a test runs. */
const EDGE_TIMINGS = { readDeadlineMs: 120_000 }

/** A client connection held open; `closed` settles when the edge (or the test) closes it. */
interface Held {
  readonly socket: Socket
  readonly isClosed: () => boolean
  readonly closed: Promise<void>
}

function hold(port: number, localAddress: string, first?: string): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress })
    let isClosed = false
    const closed = new Promise<void>((done) => socket.once('close', () => ((isClosed = true), done())))
    socket.on('error', () => {}) // a refusal may arrive as a reset; 'close' follows either way
    socket.once('connect', () => {
      if (first !== undefined) socket.write(first)
      resolve({ socket, isClosed: () => isClosed, closed })
    })
    socket.once('close', () => reject(new Error('closed before connecting')))
  })
}

/** Opens `count` connections from one address, `batch` at a time (the listen backlog is finite). */
async function holdMany(port: number, localAddress: string, count: number, first?: string, batch = 50): Promise<Held[]> {
  const held: Held[] = []
  for (let i = 0; i < count; i += batch) {
    held.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => hold(port, localAddress, first)))))
  }
  return held
}

/** Sends one request on an open connection and reads to its end: the status, or 0 when it closed without an answer. */
async function requestOn(held: Held, path = '/'): Promise<number> {
  const chunks: Buffer[] = []
  held.socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  if (!held.isClosed()) held.socket.write(`GET ${path} HTTP/1.1\r\nhost: ${HOST}\r\nconnection: close\r\n\r\n`)
  await held.closed
  const statusLine = /^HTTP\/1\.1 (\d{3}) /.exec(Buffer.concat(chunks).toString('latin1'))
  return statusLine ? Number(statusLine[1]) : 0
}

/** One request over a fresh connection from `localAddress`; 0 when the edge closed it without an answer. */
async function requestFrom(port: number, localAddress: string): Promise<number> {
  return requestOn(await hold(port, localAddress))
}

async function settled(held: readonly Held[], expectedClosed: number): Promise<void> {
  await waitFor(() => held.filter((h) => h.isClosed()).length >= expectedClosed, { what: `${expectedClosed} refused connections closed` })
  // A little longer: nothing more may close (the admitted connections are never dropped).
  await Bun.sleep(300)
}

async function scrapeRefused(edge: TestEdge, reason: 'global' | 'per_address'): Promise<number> {
  const response = await fetch(`${edge.server.apiUrl}/metrics`)
  expect(response.status).toBe(200)
  return sumOf(parseExposition(await response.text()), 'ohp_connections_refused_total', { reason })
}

let backend: Server<undefined>

beforeAll(() => {
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('served by the backend') })
})

afterAll(() => {
  backend?.stop(true)
})

async function startEdge(env: Record<string, string> = {}): Promise<TestEdge> {
  const edge = await startTestEdge({ METRICS_TRUSTED: '127.0.0.1/32', ...env }, EDGE_TIMINGS)
  await edge.createProxy(HOST, `http://127.0.0.1:${backend.port}`)
  await waitFor(async () => (await requestFrom(edge.httpPort, '127.0.0.9')) === 200, { what: 'the proxy serving' })
  return edge
}

describe('MAX_CONNECTIONS_PER_ADDRESS at its default (256)', () => {
  let edge: TestEdge
  beforeAll(async () => {
    edge = await startEdge()
  }, 30_000)
  afterAll(async () => {
    await edge?.stop()
  })

  test('1,000 connections from 127.0.0.2: 256 stay open and are served, 744 are closed at once and counted; 127.0.0.3 is still served', async () => {
    const flood = await holdMany(edge.httpPort, '127.0.0.2', 1_000)
    await settled(flood, 744)
    const open = flood.filter((h) => !h.isClosed())
    expect(open.length).toBe(256)
    expect(edge.server.edge.stats().refused).toEqual({ global: 0, per_address: 744 })
    expect(await scrapeRefused(edge, 'per_address')).toBe(744)
    expect(await scrapeRefused(edge, 'global')).toBe(0)

    // A second address is served while the first is at its cap; the first gets no more.
    expect(await requestFrom(edge.httpPort, '127.0.0.3')).toBe(200)
    expect(await requestFrom(edge.httpPort, '127.0.0.2')).toBe(0)
    expect(edge.server.edge.stats().refused.per_address).toBe(745)

    // The connections already open were never dropped: every one of them is served.
    const statuses = await Promise.all(open.map((held) => requestOn(held)))
    expect(statuses.filter((status) => status === 200).length).toBe(256)

    // Their places were given back as they closed.
    expect(await requestFrom(edge.httpPort, '127.0.0.2')).toBe(200)
    expect(edge.server.edge.stats().refused.per_address).toBe(745)
  }, 60_000)
})

describe('MAX_CONNECTIONS', () => {
  let edge: TestEdge
  beforeAll(async () => {
    edge = await startEdge({ MAX_CONNECTIONS: '40', MAX_CONNECTIONS_PER_ADDRESS: '30' })
  }, 30_000)
  afterAll(async () => {
    await edge?.stop()
  })

  test('holds across addresses: past 40 open connections in all, every new one is closed and counted as global; one over its address cap counts as per_address', async () => {
    const first = await holdMany(edge.httpPort, '127.0.0.2', 30)
    const second = await holdMany(edge.httpPort, '127.0.0.3', 20)
    await settled(second, 10)
    expect(first.filter((h) => h.isClosed()).length).toBe(0)
    expect(second.filter((h) => !h.isClosed()).length).toBe(10)
    expect(edge.server.edge.stats().refused).toEqual({ global: 10, per_address: 0 })
    expect(await requestFrom(edge.httpPort, '127.0.0.4')).toBe(0)
    expect(await requestFrom(edge.httpPort, '127.0.0.2')).toBe(0)
    expect(edge.server.edge.stats().refused).toEqual({ global: 11, per_address: 1 })
    expect(await scrapeRefused(edge, 'global')).toBe(11)

    // Open ones are served; once one closes, a newcomer gets its place.
    expect(await requestOn(second.find((h) => !h.isClosed())!)).toBe(200)
    expect(await requestFrom(edge.httpPort, '127.0.0.4')).toBe(200)
    for (const held of [...first, ...second]) held.socket.destroy()
  }, 30_000)
})

describe('behind a trusted load balancer (PROXY_PROTOCOL_TRUSTED=127.0.0.1/32, MAX_CONNECTIONS_PER_ADDRESS=20)', () => {
  let edge: TestEdge
  beforeAll(async () => {
    edge = await startEdge({ PROXY_PROTOCOL_TRUSTED: '127.0.0.1/32', MAX_CONNECTIONS_PER_ADDRESS: '20' })
  }, 30_000)
  afterAll(async () => {
    await edge?.stop()
  })

  const proxyV1 = (client: string) => `PROXY TCP4 ${client} 127.0.0.1 40000 80\r\n`

  test("http: the balancer's own address is not capped; each client its PROXY header names is, once the header is read", async () => {
    // 30 connections from the balancer: more than the cap, and none closed before its header says who it carries.
    const balanced = await holdMany(edge.httpPort, '127.0.0.1', 30)
    await Bun.sleep(300)
    expect(balanced.filter((h) => h.isClosed()).length).toBe(0)

    for (const held of balanced.slice(0, 25)) held.socket.write(proxyV1('203.0.113.7'))
    for (const held of balanced.slice(25)) held.socket.write(proxyV1('203.0.113.8'))
    await settled(balanced, 5)
    expect(balanced.slice(0, 25).filter((h) => h.isClosed()).length).toBe(5)
    expect(balanced.slice(25).filter((h) => h.isClosed()).length).toBe(0)
    expect(edge.server.edge.stats().refused).toEqual({ global: 0, per_address: 5 })

    // Every connection admitted is served, for either client.
    const statuses = await Promise.all(balanced.filter((h) => !h.isClosed()).map((held) => requestOn(held)))
    expect(statuses).toEqual(new Array(25).fill(200))
  }, 30_000)

  test('https: the cap holds on the PROXY-fed listener, and the TLS terminator behind it (fed on loopback) caps nothing itself', async () => {
    const refusedBefore = edge.server.edge.stats().refused.per_address
    // 25 TLS sessions open at once through the balancer, each for another client: past the cap for
    // 127.0.0.1 if the terminator counted its loopback peer, which it must not.
    const sessions = await Promise.all(Array.from({ length: 25 }, (_, i) => tlsThroughBalancer(edge.httpsPort, `198.51.100.${i + 1}`)))
    expect(sessions.filter((tls) => tls !== null).length).toBe(25)
    expect(await Promise.all(sessions.map((tls) => requestOnTls(tls!)))).toEqual(new Array(25).fill(200))
    // 21 for one client: the 21st is closed before its ClientHello is read.
    const oneClient = await holdMany(edge.httpsPort, '127.0.0.1', 21, proxyV1('198.51.100.200'))
    await settled(oneClient, 1)
    expect(oneClient.filter((h) => h.isClosed()).length).toBe(1)
    expect(edge.server.edge.stats().refused.per_address).toBe(refusedBefore + 1)
    for (const held of oneClient) held.socket.destroy()
  }, 30_000)
})

/** A TLS session carried by a PROXY v1 header naming `client`, from the balancer's address, once its handshake is done; null if it failed. */
async function tlsThroughBalancer(port: number, client: string): Promise<TLSSocket | null> {
  const raw = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1' })
  await new Promise((resolve) => raw.once('connect', resolve))
  raw.write(`PROXY TCP4 ${client} 127.0.0.1 40000 443\r\n`)
  const tls = connectTls({ socket: raw, servername: HOST, rejectUnauthorized: false })
  return new Promise((resolve) => {
    tls.once('error', () => resolve(null))
    tls.once('close', () => resolve(null))
    tls.once('secureConnect', () => resolve(tls))
  })
}

/** One request on an open TLS session, read to its end: the status, or 0 without an answer. */
async function requestOnTls(tls: TLSSocket): Promise<number> {
  const chunks: Buffer[] = []
  const closed = new Promise<void>((resolve) => {
    tls.on('error', () => resolve())
    tls.on('close', () => resolve())
  })
  tls.on('data', (chunk: Buffer) => chunks.push(chunk))
  tls.write(`GET / HTTP/1.1\r\nhost: ${HOST}\r\nconnection: close\r\n\r\n`)
  await closed
  const statusLine = /^HTTP\/1\.1 (\d{3}) /.exec(Buffer.concat(chunks).toString('latin1'))
  return statusLine ? Number(statusLine[1]) : 0
}
