/**
 * @module Clients for the edge's public listeners as a test sees them from outside: fetch with a chosen
 * Host or SNI (never pooled, so one Host never rides another's connection), raw TCP and TLS exchanges for
 * byte-level control, an HTTP/1.1 response parser, and a recorder that captures a real TLS ClientHello.
 */
import { connect as tlsConnect, type PeerCertificate } from 'node:tls'

export interface EdgePorts {
  readonly httpPort: number
  readonly httpsPort: number
}

/** One request to the HTTP dispatcher with this Host, on a connection of its own. */
export function viaHttp(edge: EdgePorts, host: string, path = '/', init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${edge.httpPort}${path}`, {
    ...init,
    keepalive: false,
    headers: { ...Object.fromEntries(new Headers(init.headers)), host, connection: 'close' },
  })
}

/** One request to the HTTPS dispatcher with this SNI and Host, on a connection of its own. */
export function viaHttps(edge: EdgePorts, host: string, path = '/', init: RequestInit = {}): Promise<Response> {
  return fetch(`https://127.0.0.1:${edge.httpsPort}${path}`, {
    ...init,
    keepalive: false,
    headers: { ...Object.fromEntries(new Headers(init.headers)), host, connection: 'close' },
    tls: { rejectUnauthorized: false, serverName: host },
  } as RequestInit)
}

export type Scheme = 'http' | 'https'
export const via = (scheme: Scheme) => (scheme === 'http' ? viaHttp : viaHttps)

export interface HttpReply {
  readonly status: number
  /** Lower-cased names; repeated fields joined with ", ". */
  readonly headers: Record<string, string>
  readonly head: string
  readonly body: Uint8Array
  readonly text: string
}

/** Every HTTP/1.1 response in the bytes, in order (Content-Length, chunked, or up to the end); throws if one is cut short. */
export function parseResponses(bytes: Uint8Array): HttpReply[] {
  const replies: HttpReply[] = []
  const latin1 = Buffer.from(bytes).toString('latin1')
  let at = 0
  while (at < latin1.length) {
    const headEnd = latin1.indexOf('\r\n\r\n', at)
    if (headEnd === -1) throw new Error(`incomplete response head: ${JSON.stringify(latin1.slice(at, at + 200))}`)
    const head = latin1.slice(at, headEnd)
    const [statusLine, ...lines] = head.split('\r\n')
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? NaN)
    if (Number.isNaN(status)) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`)
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value
    }
    let cursor = headEnd + 4
    let body: Uint8Array
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const parts: Uint8Array[] = []
      for (;;) {
        const sizeEnd = latin1.indexOf('\r\n', cursor)
        if (sizeEnd === -1) throw new Error('incomplete chunked body')
        const size = parseInt(latin1.slice(cursor, sizeEnd), 16)
        cursor = sizeEnd + 2
        if (size === 0) {
          const end = latin1.indexOf('\r\n', cursor)
          if (end === -1) throw new Error('incomplete chunked body')
          // No trailers are expected: the last chunk is followed by CRLF.
          cursor = end + 2
          break
        }
        if (cursor + size + 2 > bytes.length) throw new Error('incomplete chunk')
        parts.push(bytes.subarray(cursor, cursor + size))
        cursor += size + 2
      }
      body = Buffer.concat(parts)
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length'])
      if (cursor + length > bytes.length) throw new Error(`incomplete body: ${bytes.length - cursor} of ${length} bytes`)
      body = bytes.subarray(cursor, cursor + length)
      cursor += length
    } else {
      body = bytes.subarray(cursor)
      cursor = latin1.length
    }
    replies.push({ status, headers, head, body, text: Buffer.from(body).toString('utf8') })
    at = cursor
  }
  return replies
}

export interface ExchangeOptions {
  /** Pause between chunks, so each reaches the peer in a read of its own. */
  readonly pauseMs?: number
  readonly timeoutMs?: number
}

/** Writes the chunks over plain TCP and collects every byte until the peer closes. */
export async function tcpExchange(port: number, chunks: readonly (string | Uint8Array)[], options: ExchangeOptions = {}): Promise<Uint8Array> {
  const received: Uint8Array[] = []
  const { promise: closed, resolve } = Promise.withResolvers<void>()
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data: (_socket, bytes) => void received.push(bytes.slice()),
      close: () => resolve(),
      error: () => resolve(),
    },
  })
  socket.setNoDelay(true)
  for (const chunk of chunks) {
    socket.write(chunk)
    if (options.pauseMs) await Bun.sleep(options.pauseMs)
  }
  await withTimeout(closed, options.timeoutMs ?? 5_000, () => socket.terminate(), 'the peer to close the connection')
  return Buffer.concat(received)
}

export interface TlsExchange {
  readonly certificate: PeerCertificate
  readonly bytes: Uint8Array
}

/** A TLS connection with this SNI to the HTTPS dispatcher; writes the request and reads until close. */
export function tlsExchange(port: number, servername: string, request: string, timeoutMs = 5_000): Promise<TlsExchange> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false })
    const received: Buffer[] = []
    let certificate: PeerCertificate | null = null
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`TLS exchange with ${servername} timed out`))), timeoutMs)
    socket.once('secureConnect', () => {
      certificate = socket.getPeerCertificate()
      socket.write(request)
    })
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.once('error', (error) => (clearTimeout(timer), reject(error)))
    socket.once('close', () => {
      clearTimeout(timer)
      if (!certificate) return reject(new Error(`the connection for ${servername} closed before the handshake completed`))
      resolve({ certificate, bytes: Buffer.concat(received) })
    })
  })
}

/** GET path with this Host over a TLS connection with this SNI; the peer certificate and the reply. */
export async function httpsGet(port: number, servername: string, path = '/', host = servername): Promise<{ certificate: PeerCertificate; reply: HttpReply }> {
  const { certificate, bytes } = await tlsExchange(port, servername, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
  const [reply] = parseResponses(bytes)
  if (!reply) throw new Error('no response')
  return { certificate, reply }
}

/** Resolves with the TLS error when the handshake for this SNI fails; rejects if it succeeds. */
export function tlsHandshakeError(port: number, servername: string | undefined, timeoutMs = 5_000): Promise<Error> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), rejectUnauthorized: false })
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('handshake neither failed nor succeeded'))), timeoutMs)
    socket.once('secureConnect', () => (clearTimeout(timer), socket.destroy(), reject(new Error(`handshake for ${servername} succeeded`))))
    socket.once('error', (error) => (clearTimeout(timer), socket.destroy(), resolve(error)))
    socket.once('close', () => (clearTimeout(timer), resolve(new Error('closed during the handshake'))))
  })
}

/**
 * The first TLS record a real client (node:tls) sends for this SNI (undefined: no SNI), captured by a
 * listener that never answers. The record is the whole ClientHello. With maxVersion TLSv1.2 the server's
 * answer carries its certificate in the clear, so a replay shows which instance answered.
 */
export async function captureClientHello(servername: string | undefined, maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3'): Promise<Uint8Array> {
  let buffered = new Uint8Array(0)
  const { promise: captured, resolve } = Promise.withResolvers<Uint8Array>()
  const recorder = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      data(socket, bytes) {
        buffered = Buffer.concat([buffered, bytes])
        if (buffered.length < 5) return
        const recordLength = (buffered[3]! << 8) | buffered[4]!
        if (buffered.length >= 5 + recordLength) {
          resolve(buffered.slice(0, 5 + recordLength))
          socket.terminate()
        }
      },
    },
  })
  const client = tlsConnect({ host: '127.0.0.1', port: recorder.port, ...(servername ? { servername } : {}), maxVersion, rejectUnauthorized: false })
  client.on('error', () => {})
  try {
    return await withTimeout(captured, 5_000, () => {}, 'a ClientHello')
  } finally {
    client.destroy()
    recorder.stop(true)
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void, what: string): Promise<T> {
  let timer: Timer | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => (onTimeout(), reject(new Error(`timed out waiting for ${what}`))), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** A plain TCP connection the test drives step by step: write, wait for bytes, watch for the close. */
export interface RawConnection {
  write(bytes: string | Uint8Array): void
  /** Writes the bytes in pieces of `size`, pausing between them so each arrives in a read of its own. */
  trickle(bytes: string | Uint8Array, size: number, pauseMs: number): Promise<void>
  /** Everything received so far. */
  received(): Uint8Array
  /** Resolves once at least n bytes have arrived (rejects if the peer closes first). */
  waitForBytes(n: number, timeoutMs?: number): Promise<Uint8Array>
  readonly closed: Promise<void>
  isClosed(): boolean
  close(): void
}

export async function openRaw(port: number): Promise<RawConnection> {
  let buffered: Uint8Array = new Uint8Array(0)
  let isClosed = false
  const waiters = new Set<() => void>()
  const { promise: closed, resolve: markClosed } = Promise.withResolvers<void>()
  const onClose = () => {
    isClosed = true
    markClosed()
    for (const wake of waiters) wake()
  }
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_socket, bytes) {
        buffered = Buffer.concat([buffered, bytes])
        for (const wake of waiters) wake()
      },
      close: onClose,
      error: onClose,
    },
  })
  socket.setNoDelay(true)
  const toBytes = (bytes: string | Uint8Array) => (typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes)
  return {
    write: (bytes) => void socket.write(bytes),
    async trickle(bytes, size, pauseMs) {
      const all = toBytes(bytes)
      for (let at = 0; at < all.length && !isClosed; at += size) {
        socket.write(all.subarray(at, at + size))
        await Bun.sleep(pauseMs)
      }
    },
    received: () => buffered,
    waitForBytes(n, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`timed out waiting for ${n} bytes (got ${buffered.length})`))), timeoutMs)
        const check = () => {
          if (buffered.length >= n) return void (clearTimeout(timer), waiters.delete(check), resolve(buffered))
          if (isClosed) return void (clearTimeout(timer), waiters.delete(check), reject(new Error(`closed after ${buffered.length} bytes, wanted ${n}`)))
        }
        waiters.add(check)
        check()
      })
    },
    closed,
    isClosed: () => isClosed,
    close: () => socket.terminate(),
  }
}

/** A WebSocket client through the edge whose frames and close are queued for the test to await. */
export interface TestWebSocket {
  readonly socket: WebSocket
  /** The next frame received (text as string, binary as ArrayBuffer). */
  next(timeoutMs?: number): Promise<string | ArrayBuffer>
  readonly closed: Promise<{ code: number; reason: string }>
}

/** Opens ws:// or wss:// to the dispatcher with this Host (and SNI); rejects if the upgrade fails. */
export async function openWebSocket(edge: EdgePorts, scheme: Scheme, host: string, protocols: string[] = [], path = '/'): Promise<TestWebSocket> {
  const url = scheme === 'http' ? `ws://127.0.0.1:${edge.httpPort}${path}` : `wss://127.0.0.1:${edge.httpsPort}${path}`
  const options: Bun.WebSocketOptions = { headers: { host }, protocols, tls: { rejectUnauthorized: false, serverName: host } }
  // The DOM typing of WebSocket (lib "dom") hides Bun's options overload.
  const socket = new WebSocket(url, options as unknown as string[])
  socket.binaryType = 'arraybuffer'
  const frames: (string | ArrayBuffer)[] = []
  const waiting: ((frame: string | ArrayBuffer) => void)[] = []
  socket.addEventListener('message', (event) => {
    const frame = event.data as string | ArrayBuffer
    const waiter = waiting.shift()
    if (waiter) waiter(frame)
    else frames.push(frame)
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })))
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true })
    socket.addEventListener('error', () => reject(new Error(`WebSocket to ${host} over ${scheme} failed to open`)), { once: true })
  })
  return {
    socket,
    closed,
    next(timeoutMs = 5_000) {
      const queued = frames.shift()
      if (queued !== undefined) return Promise.resolve(queued)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no WebSocket frame in time')), timeoutMs)
        waiting.push((frame) => (clearTimeout(timer), resolve(frame)))
      })
    },
  }
}

/**
 * Sends the requests on one keep-alive connection, each only after the previous response is complete
 * (no pipelining: Bun.serve closes a connection that pipelines behind an async handler, oven-sh/bun#38128).
 * Returns every response once the peer closes; the last request should carry Connection: close.
 */
export async function inTurn(port: number, requests: readonly string[], timeoutMs = 5_000): Promise<HttpReply[]> {
  const connection = await openRaw(port)
  for (const [index, request] of requests.entries()) {
    connection.write(request)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        if (parseResponses(connection.received()).length > index) break
      } catch {
        // Not complete yet.
      }
      if (connection.isClosed() || Date.now() > deadline) throw new Error(`no complete response ${index + 1}: ${JSON.stringify(Buffer.from(connection.received()).toString('latin1'))}`)
      await connection.waitForBytes(connection.received().length + 1, Math.max(deadline - Date.now(), 1)).catch(() => {})
    }
  }
  await connection.closed
  return parseResponses(connection.received())
}

/**
 * RFC 8446 §6: exactly one fatal (level 2) alert record and nothing else, which is how the edge refuses a
 * handshake for a name it has no certificate for (the TLS engine's alert is internal_error, 80).
 */
export function isOnlyFatalAlert(bytes: Uint8Array): boolean {
  return bytes.length === 7 && bytes[0] === 0x15 && bytes[1] === 0x03 && bytes[3] === 0x00 && bytes[4] === 0x02 && bytes[5] === 0x02
}
