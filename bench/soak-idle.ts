/**
 * @module The soak run's idle connections, opened before the measured run and held through it: half over
 * HTTP, half over TLS, each from one of several loopback source addresses (127.0.0.2, .3, …; at most 200
 * from each, under a per-address connection cap of 256).
 *
 * The server closes a connection with no bytes either way for 300 s, and a connection that has not yet
 * sent a request after 10 s; a lone byte between requests starts a request head, which must be complete
 * within 10 s. So a connection that wants to stay open must send whole requests: each "kept" connection
 * sends its first request at once, and then one every KEEP_ALIVE_EVERY_MS (2 minutes, at a random phase),
 * ~17 requests/s among 2,000 connections. A kept connection the server closes anyway is opened again a
 * second later (so the memory at the last minute is measured with as many connections as at the first),
 * and the closure is reported with the connection's age and silence; a request it loses is a failure.
 * A few "silent" connections send one request and then nothing: the server should close them 300 s
 * later, which the report shows.
 */
import { connect as tcpConnect, type Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { mapConcurrently } from './net.ts'
import type { SoakRecord } from './soak-record.ts'
import { describe } from './soak-requests.ts'

export const KEEP_ALIVE_EVERY_MS = 120_000
const PER_SOURCE_ADDRESS = 200
const OPEN_CONCURRENCY = 50
const REQUEST_TIMEOUT_MS = 10_000
const REOPEN_PAUSE_MS = 1_000

export interface IdleOptions {
  readonly httpPort: number
  readonly httpsPort: number
  readonly host: string
  /** Connections kept open with a request every 2 minutes. */
  readonly kept: number
  /** Connections that go silent after one request. */
  readonly silent: number
}

/** A connection the server closed. */
export interface Closure {
  /** Seconds since the connection was opened. */
  readonly ageSec: number
  /** Seconds since bytes last moved on it. */
  readonly quietSec: number
  /** The last answer on it was not a 200 (the server may close after an error answer). */
  readonly isAfterError: boolean
}

export interface IdleReport {
  /** Kept connections open at the end. */
  readonly keptOpen: number
  /** Kept connections the server closed (each was opened again after a second). */
  readonly keptClosures: Closure[]
  readonly silentClosures: Closure[]
  readonly silentOpen: number
}

export interface IdleConnections {
  /** From now on, failures and requests count in the record (opening happens before the run). */
  startCounting(record: SoakRecord): void
  report(): IdleReport
  close(): void
}

interface Held {
  readonly socket: Socket
  readonly openedAtMs: number
  lastActivityMs: number
  lastStatus: number
}

export async function openIdleConnections(options: IdleOptions): Promise<IdleConnections> {
  let record: SoakRecord | null = null
  let isClosing = false
  const keptClosures: Closure[] = []
  const silentClosures: Closure[] = []
  /** The open connection of each index (a kept one closed by the server is replaced). */
  const slots: (Held | null)[] = []
  /** Each kept connection's next keep-alive request. */
  const keepers: ReturnType<typeof setTimeout>[] = []

  /** One request on the connection; a status other than 200 (0: closed or timed out) is thrown. */
  const request = async (connection: Held, path: string) => {
    const began = performance.now()
    connection.lastActivityMs = began
    connection.lastStatus = await exchange(connection.socket, `GET ${path} HTTP/1.1\r\nHost: ${options.host}\r\n\r\n`)
    connection.lastActivityMs = performance.now()
    if (connection.lastStatus !== 200) throw new Error(`status ${connection.lastStatus} for ${path.replace(/-\d+$/, '')}`)
    return performance.now() - began
  }

  const open = async (index: number, isKept: boolean): Promise<void> => {
    const isTls = index % 2 === 1
    const localAddress = `127.0.0.${2 + Math.floor(index / PER_SOURCE_ADDRESS)}`
    const socket = await connectFrom(localAddress, isTls ? options.httpsPort : options.httpPort, isTls ? options.host : null)
    const nowMs = performance.now()
    const connection: Held = { socket, openedAtMs: nowMs, lastActivityMs: nowMs, lastStatus: 0 }
    slots[index] = connection
    socket.once('close', () => {
      if (slots[index] === connection) slots[index] = null
      if (isClosing) return
      const closedAtMs = performance.now()
      const closure = { ageSec: (closedAtMs - connection.openedAtMs) / 1000, quietSec: (closedAtMs - connection.lastActivityMs) / 1000, isAfterError: connection.lastStatus !== 200 }
      ;(isKept ? keptClosures : silentClosures).push(closure)
      // Hold the count: the memory comparison needs the same connections at minute 1 and at the end.
      if (isKept) setTimeout(() => reopen(index), REOPEN_PAUSE_MS)
    })
    await request(connection, `/r/idle-${index}-open`)
  }

  /** A kept connection again; if even the connection fails, later (a refused one has no close event). */
  const reopen = (index: number) => {
    if (isClosing || slots[index]) return
    open(index, true).catch((error) => {
      record?.fail('idle', `reopening: ${describe(error)}`)
      if (!slots[index]) setTimeout(() => reopen(index), REOPEN_PAUSE_MS)
    })
  }

  const keepAlive = (index: number, round: number) => {
    if (isClosing) return
    const connection = slots[index]
    if (connection) {
      request(connection, `/r/idle-${index}-${round}`).then(
        (ms) => record?.request('idle', ms),
        (error) => record?.fail('idle', describe(error)),
      )
    }
    keepers[index] = setTimeout(() => keepAlive(index, round + 1), KEEP_ALIVE_EVERY_MS)
  }

  const total = options.kept + options.silent
  await mapConcurrently(Array.from({ length: total }, (_, index) => index), OPEN_CONCURRENCY, (index) => open(index, index < options.kept))
  for (let index = 0; index < options.kept; index++) keepers[index] = setTimeout(() => keepAlive(index, 1), Math.random() * KEEP_ALIVE_EVERY_MS)

  return {
    startCounting: (into) => void (record = into),
    report() {
      const keptOpen = slots.slice(0, options.kept).filter((slot) => slot).length
      return { keptOpen, keptClosures, silentClosures, silentOpen: slots.slice(options.kept).filter((slot) => slot).length }
    },
    close() {
      isClosing = true
      for (const timer of keepers) clearTimeout(timer)
      for (const connection of slots) connection?.socket.destroy()
    },
  }
}

/** A TCP or TLS connection from the given loopback address; TLS certificates are not checked (self-signed). */
function connectFrom(localAddress: string, port: number, servername: string | null): Promise<Socket> {
  // node:tls takes localAddress (it passes it to net.connect), though its type does not list it.
  const tlsOptions: ConnectionOptions & { localAddress: string } = { host: '127.0.0.1', port, localAddress, servername: servername ?? '', rejectUnauthorized: false }
  return new Promise((resolve, reject) => {
    const socket = servername === null ? tcpConnect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket)) : tlsConnect(tlsOptions, () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Writes one request and reads its response (head + Content-Length body); resolves with the status, 0 on a close or timeout. */
function exchange(socket: Socket, head: string): Promise<number> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0)
    const finish = (status: number) => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', onClose)
      resolve(status)
    }
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const headEnd = received.indexOf('\r\n\r\n')
      if (headEnd === -1) return
      const text = received.subarray(0, headEnd).toString('latin1')
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0)
      if (received.length >= headEnd + 4 + length) finish(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0))
    }
    const onClose = () => finish(0)
    const timer = setTimeout(() => finish(0), REQUEST_TIMEOUT_MS)
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.write(head)
  })
}
