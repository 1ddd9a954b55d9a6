/**
 * @module A minimal HTTP/1.1 client over a raw TCP (or TLS) socket, for backends that want a PROXY
 * protocol header first (haproxy doc/proxy-protocol.txt §1: the header opens the connection, before any
 * application byte). fetch() cannot prefix its connection, so forward() comes here when the proxy's
 * `proxy_protocol` is set. One connection per request, with `Connection: close` (RFC 9112 §9.6): a PROXY
 * header describes one client, and a pooled connection would carry other clients' requests under it.
 */
import { isIP } from 'node:net'
import type { Socket } from 'bun'
import type { ClientInfo } from './client.ts'
import { createBodyDecoder, Http1ProtocolError, parseResponseHead, type BodyDecoder, type ResponseHead } from './http1-response.ts'
import { serializeProxyV1, serializeProxyV2, type ProxyAddresses } from './proxy-protocol.ts'

export type ProxyProtocolVersion = 'v1' | 'v2'

/** An address and port on which a connection arrived or left. */
export interface SocketAddress {
  readonly address: string
  readonly port: number
}

export interface RawRequest {
  /** The full upstream URL: scheme, host and port to dial, and the request target to send. */
  readonly url: URL
  readonly method: string
  /** Already filtered for the hop (buildUpstreamHeaders); framing headers are set here. */
  readonly headers: Headers
  readonly body: ReadableStream<Uint8Array> | null
  /** Bytes written before the request (the PROXY header). */
  readonly preamble: Uint8Array
  readonly signal: AbortSignal
  /** PEM trust anchors for an https backend; default: the runtime's CA store. */
  readonly ca?: string
}

const EMPTY = new Uint8Array(0)
const CRLF = Buffer.from('\r\n')
const LAST_CHUNK = Buffer.from('0\r\n\r\n')
/** Response body bytes buffered toward a slow client before the backend socket is paused. */
const RESPONSE_HIGH_WATER_BYTES = 64 * 1024

/**
 * The PROXY header announcing `client` as the source and the instance as the destination (§2.1, §2.2).
 * tcp6 for an IPv6 client (an IPv4 destination then goes in its mapped form), tcp4 otherwise; a client
 * whose address is unknown is sent as UNKNOWN (v1) or LOCAL (v2), which tells the backend to use the
 * connection's own addresses.
 */
export function buildProxyPreamble(version: ProxyProtocolVersion, client: ClientInfo, instance: SocketAddress): Uint8Array {
  const serialize = version === 'v1' ? serializeProxyV1 : serializeProxyV2
  const sourceFamily = isIP(client.address)
  if (sourceFamily === 0) return serialize(null)
  const family = sourceFamily === 6 ? 'tcp6' : 'tcp4'
  const destination = addressInFamily(instance.address, family)
  if (destination === null) return serialize(null)
  const addresses: ProxyAddresses = { family, sourceAddress: client.address, sourcePort: client.port, destinationAddress: destination, destinationPort: instance.port }
  return serialize(addresses)
}

/** RFC 4291 §2.5.5.2: an IPv4 address inside IPv6 is ::ffff:a.b.c.d, and the mapped form goes back to IPv4. */
function addressInFamily(address: string, family: ProxyAddresses['family']): string | null {
  const kind = isIP(address)
  if (family === 'tcp6') return kind === 6 ? address : kind === 4 ? `::ffff:${address}` : null
  if (kind === 4) return address
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  return mapped && isIP(mapped) === 4 ? mapped : null
}

/**
 * Sends one request and resolves with the response once its head has arrived; the body then streams
 * with backpressure (a slow client pauses the backend socket). Rejects on connection, TLS or framing
 * errors and on abort; after the head, the same failures error the body stream instead.
 */
export function rawFetch(request: RawRequest): Promise<Response> {
  const { url, signal } = request
  const isTls = url.protocol === 'https:'
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  const port = Number(url.port) || (isTls ? 443 : 80)
  const bodyLength = request.body === null ? null : contentLengthOf(request.headers)

  return new Promise<Response>((resolve, reject) => {
    let socket: Socket<undefined> | null = null
    let received: Uint8Array = EMPTY // response bytes not yet consumed by the head parser
    let decoder: BodyDecoder | null = null
    let output: ReadableStreamDefaultController<Uint8Array> | null = null
    let isFinished = false
    let pendingWrite: { bytes: Uint8Array; resolve: () => void; reject: (error: Error) => void } | null = null
    let bodyReader: ReadableStreamDefaultReader<Uint8Array> | null = null

    /** Ends the exchange; an error before the head rejects, after it errors the body stream. */
    const finish = (error: Error | null) => {
      if (isFinished) return
      isFinished = true
      signal.removeEventListener('abort', onAbort)
      pendingWrite?.reject(error ?? new Error('exchange finished'))
      pendingWrite = null
      void bodyReader?.cancel().catch(() => {})
      if (error) socket?.terminate()
      else socket?.end()
      if (!decoder) return reject(error ?? new Http1ProtocolError('backend closed the connection before a response head'))
      if (error) output?.error(error)
      else output?.close()
    }
    const onAbort = () => finish(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)))
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })

    /** Resolves once every byte is handed to the socket; a short write waits for drain. */
    const write = (bytes: Uint8Array) =>
      new Promise<void>((resolveWrite, rejectWrite) => {
        if (isFinished || !socket) return rejectWrite(new Error('connection closed'))
        const written = socket.write(bytes)
        if (written >= bytes.length) return resolveWrite()
        pendingWrite = { bytes: bytes.subarray(Math.max(written, 0)), resolve: resolveWrite, reject: rejectWrite }
      })

    const sendRequest = async () => {
      await write(concat(request.preamble, Buffer.from(requestHead(request, url, bodyLength), 'latin1')))
      if (!request.body) return
      bodyReader = request.body.getReader()
      let sentBytes = 0
      for (;;) {
        const { done, value } = await bodyReader.read()
        if (done) break
        if (value.length === 0) continue
        sentBytes += value.length
        if (bodyLength !== null && sentBytes > bodyLength) throw new Error('request body longer than its Content-Length')
        // RFC 9112 §7.1: chunk = chunk-size CRLF chunk-data CRLF.
        await write(bodyLength === null ? concat(Buffer.from(`${value.length.toString(16)}\r\n`), value, CRLF) : value)
      }
      if (bodyLength !== null && sentBytes !== bodyLength) throw new Error('request body shorter than its Content-Length')
      if (bodyLength === null) await write(LAST_CHUNK)
    }

    const startResponse = (head: ResponseHead) => {
      decoder = createBodyDecoder(head.framing)
      // RFC 9110 §15.3.6: 205 has no content, and Fetch refuses a body with it; the connection closes anyway.
      const hasBody = !decoder.isComplete && head.status !== 205
      const body = hasBody
        ? new ReadableStream<Uint8Array>(
            {
              start: (controller) => void (output = controller),
              pull: () => void socket?.resume(),
              cancel: () => finish(new Error('client went away')),
            },
            new ByteLengthQueuingStrategy({ highWaterMark: RESPONSE_HIGH_WATER_BYTES }),
          )
        : null
      resolve(new Response(body, { status: head.status, statusText: head.statusText, headers: head.headers }))
      if (!hasBody) finish(null)
    }

    /** Head parsing until the final response, then body decoding. */
    const onBytes = (bytes: Uint8Array) => {
      if (decoder) return deliver(bytes)
      received = concat(received, bytes)
      for (;;) {
        const parsed = parseResponseHead(received, request.method)
        if (parsed.status === 'incomplete') return
        if (parsed.status === 'invalid') return finish(new Http1ProtocolError(parsed.reason))
        received = received.subarray(parsed.headLength)
        const { status } = parsed.head
        // RFC 9110 §15.2: 1xx are interim; 101 is refused because no Upgrade was ever offered.
        if (status === 101) return finish(new Http1ProtocolError('101 Switching Protocols without an Upgrade request'))
        if (status < 200) continue
        // The Response constructor takes 200-599 only (Fetch §"Response class"); the parser allows no other.
        try {
          startResponse(parsed.head)
        } catch (error) {
          decoder = null // nothing was resolved: reject
          return finish(error as Error)
        }
        const rest = received
        received = EMPTY
        if (rest.length > 0 && !isFinished) deliver(rest)
        return
      }
    }

    const deliver = (bytes: Uint8Array) => {
      if (isFinished || !decoder || !output) return
      try {
        for (const chunk of decoder.push(bytes)) output.enqueue(chunk)
      } catch (error) {
        return finish(error as Error)
      }
      if (decoder.isComplete) return finish(null)
      if ((output.desiredSize ?? 1) <= 0) socket?.pause()
    }

    const onClosed = (error: Error | null) => {
      if (isFinished) return
      if (error || !decoder) return finish(error)
      try {
        decoder.end()
      } catch (framingError) {
        return finish(framingError as Error)
      }
      finish(null)
    }

    const begin = () => {
      sendRequest().catch((error: Error) => {
        // A backend may answer (e.g. 413) and close before reading the whole upload: that is not an error.
        if (!decoder) finish(error)
      })
    }

    Bun.connect<undefined>({
      hostname,
      port,
      // RFC 6066 §3: literal IP addresses are not sent as SNI; the certificate is then checked against the IP.
      // An empty tls object would mean plain TCP; rejectUnauthorized is explicit so it never is.
      tls: isTls ? { rejectUnauthorized: true, ...(isIP(hostname) ? {} : { serverName: hostname }), ...(request.ca ? { ca: request.ca } : {}) } : undefined,
      socket: {
        open(connected) {
          socket = connected
        },
        handshake(_socket, isSuccess, authorizationError) {
          // Bun reports verification here; writing before it would go nowhere.
          if (!isSuccess || authorizationError) return finish(new Error(`TLS: ${authorizationError?.message ?? 'handshake failed'}`))
          begin()
        },
        data: (_socket, bytes) => onBytes(bytes),
        drain(connected) {
          if (!pendingWrite) return
          const { bytes, resolve: resolveWrite } = pendingWrite
          const written = connected.write(bytes)
          if (written < bytes.length) pendingWrite.bytes = bytes.subarray(Math.max(written, 0))
          else {
            pendingWrite = null
            resolveWrite()
          }
        },
        end: () => onClosed(null),
        close: (_socket, error) => onClosed(error ?? null),
        error: (_socket, error) => onClosed(error),
      },
    }).then(
      (connected) => {
        socket = connected
        if (isFinished) return connected.terminate()
        if (!isTls) begin()
      },
      (error: Error) => finish(error),
    )
  })
}

/** Request line and header section (RFC 9112 §3, §5); the body's framing is decided here, not by the client. */
function requestHead(request: RawRequest, url: URL, bodyLength: number | null): string {
  let head = `${request.method} ${url.pathname}${url.search} HTTP/1.1\r\n`
  for (const [name, value] of request.headers) {
    if (name === 'content-length' || name === 'transfer-encoding' || name === 'connection') continue
    head += `${name}: ${value}\r\n`
  }
  if (request.body !== null) head += bodyLength === null ? 'transfer-encoding: chunked\r\n' : `content-length: ${bodyLength}\r\n`
  return `${head}connection: close\r\n\r\n`
}

/** RFC 9110 §8.6; the instance's server has already validated it, so only its presence matters here. */
function contentLengthOf(headers: Headers): number | null {
  const value = headers.get('content-length')
  return value !== null && /^[0-9]+$/.test(value.trim()) ? Number(value.trim()) : null
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    joined.set(part, offset)
    offset += part.length
  }
  return joined
}
