/**
 * @module HTTP/1.1 response parsing for the raw-socket forwarder (RFC 9112): the response head, the
 * body's framing (§6.3), and incremental body decoders (Content-Length, chunked §7.1, read-to-close).
 * Pure, no I/O. Strict where leniency would let a backend smuggle or desynchronise: anything doubtful is
 * refused, and the forwarder answers 502 (§6.3 item 5: "MUST … respond to the user agent with a 502").
 */

export type BodyFraming =
  | { readonly kind: 'none' } // HEAD, 1xx, 204, 304 (§6.3 item 1)
  | { readonly kind: 'length'; readonly bytes: number } // Content-Length (§6.3 item 6)
  | { readonly kind: 'chunked' } // Transfer-Encoding: chunked (§6.3 item 4, §7.1)
  | { readonly kind: 'close' } // neither: the body ends when the connection does (§6.3 item 8)

export interface ResponseHead {
  readonly minorVersion: 0 | 1
  readonly status: number
  readonly statusText: string
  readonly headers: Headers
  readonly framing: BodyFraming
}

export type HeadParseResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'invalid'; readonly reason: string }
  | { readonly status: 'complete'; readonly head: ResponseHead; readonly headLength: number } // bytes after headLength are body

/** A backend broke HTTP/1.1 framing; the exchange is over and the client gets a 502. */
export class Http1ProtocolError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'Http1ProtocolError'
  }
}

/** Status line plus header fields; larger heads are refused rather than buffered without bound. */
export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024
/** A chunk-size line with its extensions (CVE-2023-39326-style extension floods end here). */
export const MAX_CHUNK_LINE_BYTES = 4096
/** All trailer fields of one message together; they are read and discarded. */
export const MAX_TRAILER_BYTES = 16 * 1024
/** 13 hex digits = 2^52, still an exact JavaScript number. */
const MAX_CHUNK_SIZE_DIGITS = 13

const CR = 0x0d
const LF = 0x0a

/** RFC 9110 §5.1 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** RFC 9110 §5.5: field-value is VCHAR, obs-text, SP and HTAB; every other control character is refused. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
/** RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]; the second SP is often missing when the phrase is. */
const STATUS_LINE = /^HTTP\/1\.([01]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/
/** RFC 9112 §7.1: chunk-size [ chunk-ext ], chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ). */
const CHUNK_LINE = /^([0-9A-Fa-f]+)[ \t]*(;[\t\x20-\x7e\x80-\xff]*)?$/

const incomplete: HeadParseResult = Object.freeze({ status: 'incomplete' })
const invalid = (reason: string): HeadParseResult => ({ status: 'invalid', reason })

/**
 * Parses the response head from the bytes received so far. A 1xx head is returned like any other
 * (its framing is 'none'); the caller skips it and parses again from headLength.
 */
export function parseResponseHead(bytes: Uint8Array, requestMethod: string): HeadParseResult {
  const end = findHeadEnd(bytes)
  if (typeof end === 'string') return invalid(end)
  if (end === -1) return bytes.length >= MAX_RESPONSE_HEAD_BYTES ? invalid('response head larger than 64 KiB') : incomplete
  // Latin-1: every byte is one character, so obs-text survives into the Headers object unchanged.
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1').split('\r\n')
  const statusMatch = STATUS_LINE.exec(lines[0] ?? '')
  if (!statusMatch) return invalid('malformed status line')
  const minorVersion = statusMatch[1] === '0' ? 0 : 1
  const status = Number(statusMatch[2])
  if (status < 100 || status > 599) return invalid(`status code ${status} is outside 100-599`)

  const headers = new Headers()
  const contentLengths: string[] = []
  const transferCodings: string[] = []
  for (const line of lines.slice(1)) {
    // RFC 9112 §5.2: a proxy MUST either reject obs-fold with a 502 or unfold it; this one rejects.
    if (line.startsWith(' ') || line.startsWith('\t')) return invalid('obsolete line folding')
    const colon = line.indexOf(':')
    const name = colon === -1 ? '' : line.slice(0, colon)
    // RFC 9112 §5.1: no whitespace is allowed between the field name and the colon.
    if (!TOKEN.test(name)) return invalid('malformed header field name')
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')
    if (!FIELD_VALUE.test(value)) return invalid(`control character in the ${name} field value`)
    const lower = name.toLowerCase()
    if (lower === 'content-length') contentLengths.push(...value.split(','))
    if (lower === 'transfer-encoding') transferCodings.push(...value.split(','))
    headers.append(name, value)
  }

  const framing = framingOf(requestMethod, status, minorVersion, contentLengths, transferCodings)
  if (typeof framing === 'string') return invalid(framing)
  // §6.3 item 3: Transfer-Encoding overrides Content-Length, and a forwarder MUST remove the latter.
  if (framing.kind === 'chunked') headers.delete('content-length')
  return { status: 'complete', head: { minorVersion, status, statusText: statusMatch[3] ?? '', headers, framing }, headLength: end + 4 }
}

/** Index of the CRLFCRLF ending the head, -1 if not there yet, or the reason the bytes can never be a head. */
function findHeadEnd(bytes: Uint8Array): number | string {
  const limit = Math.min(bytes.length, MAX_RESPONSE_HEAD_BYTES)
  for (let i = 0; i < limit; i++) {
    const byte = bytes[i]
    if (byte === LF && (i === 0 || bytes[i - 1] !== CR)) return 'bare LF in the response head'
    if (byte !== CR) continue
    if (i + 1 >= limit) break
    if (bytes[i + 1] !== LF) return 'bare CR in the response head'
    if (i + 3 < limit && bytes[i + 2] === CR && bytes[i + 3] === LF) return i
  }
  return -1
}

/** RFC 9112 §6.3, items 1 to 8, in that order: the framing, or why the head is refused. */
export function framingOf(method: string, status: number, minorVersion: 0 | 1, contentLengths: string[], transferCodings: string[]): BodyFraming | string {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return { kind: 'none' }
  const codings = transferCodings.map((coding) => coding.trim().toLowerCase()).filter(Boolean)
  if (transferCodings.length > 0) {
    // §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (minorVersion === 0) return 'Transfer-Encoding in an HTTP/1.0 response'
    // §6.3 item 4 would read other codings to close; a transfer coding the client never asked for (TE is
    // stripped) cannot be passed on as content, so anything but exactly "chunked" is refused.
    if (codings.length !== 1 || codings[0] !== 'chunked') return `unsupported transfer coding "${codings.join(', ')}"`
    return { kind: 'chunked' }
  }
  if (contentLengths.length > 0) {
    // §6.3 item 5 and RFC 9110 §8.6: repeated values are acceptable only if they are all the same number.
    const values = new Set(contentLengths.map((value) => value.trim()))
    const [only] = values
    if (values.size !== 1 || only === undefined || !/^[0-9]{1,15}$/.test(only)) return 'invalid Content-Length'
    return { kind: 'length', bytes: Number(only) }
  }
  return { kind: 'close' }
}

/** Turns framed body bytes into content bytes, incrementally. */
export interface BodyDecoder {
  /** Decodes more received bytes into content (fresh copies); throws Http1ProtocolError on a framing error. Bytes after the end are ignored. */
  push(bytes: Uint8Array): Uint8Array[]
  /** The message body has ended (always true for 'none'). */
  readonly isComplete: boolean
  /** The connection closed: completes a read-to-close body, and throws if the framing said more was due. */
  end(): void
}

export function createBodyDecoder(framing: BodyFraming): BodyDecoder {
  switch (framing.kind) {
    case 'none':
      return { push: () => [], isComplete: true, end: () => {} }
    case 'length':
      return createLengthDecoder(framing.bytes)
    case 'close':
      return createCloseDecoder()
    case 'chunked':
      return createChunkedDecoder()
  }
}

function createLengthDecoder(totalBytes: number): BodyDecoder {
  let remainingBytes = totalBytes
  return {
    push(bytes) {
      if (remainingBytes === 0 || bytes.length === 0) return []
      const take = Math.min(remainingBytes, bytes.length)
      remainingBytes -= take
      return [copyOf(bytes, 0, take)]
    },
    get isComplete() {
      return remainingBytes === 0
    },
    end() {
      // §8: a message with fewer octets than its Content-Length is incomplete.
      if (remainingBytes > 0) throw new Http1ProtocolError(`connection closed ${remainingBytes} bytes before the end of the body`)
    },
  }
}

function createCloseDecoder(): BodyDecoder {
  let isClosed = false
  return {
    push: (bytes) => (isClosed || bytes.length === 0 ? [] : [copyOf(bytes, 0, bytes.length)]),
    get isComplete() {
      return isClosed
    },
    end() {
      isClosed = true
    },
  }
}

type ChunkState = 'size' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'done'

/** Finds the end of a chunked body (RFC 9112 §7.1) without copying it: data ranges are reported, not returned. */
export interface ChunkedScanner {
  /**
   * Scans bytes from `from` on, calling onData for each range of chunk data. Returns the index just past the
   * body's end, or -1 when every byte was consumed and more are due. Throws Http1ProtocolError on bad framing.
   */
  scan(bytes: Uint8Array, from: number, onData?: (start: number, end: number) => void): number
  readonly isComplete: boolean
  /** The index in the last scan's bytes where the trailer section began (after the last chunk), or -1 if not there. */
  readonly trailerFrom: number
  /** The trailer section had begun before the last scan. */
  readonly wasInTrailer: boolean
}

/** RFC 9112 §7.1 chunked-body; chunk extensions are ignored (§7.1.1) and trailers discarded (§7.1.2). */
export function createChunkedScanner(): ChunkedScanner {
  let state: ChunkState = 'size'
  let line = '' // the size line or trailer line being read, without its CRLF
  let isLineCrSeen = false
  let remainingChunkBytes = 0
  let trailerBytes = 0
  let trailerFrom = -1
  let wasInTrailer = false

  /** Feeds one byte of a CRLF-terminated line; returns the line when it is complete. */
  const lineByte = (byte: number, maxBytes: number, what: string): string | null => {
    if (isLineCrSeen) {
      if (byte !== LF) throw new Http1ProtocolError(`bare CR in a ${what}`)
      isLineCrSeen = false
      const done = line
      line = ''
      return done
    }
    if (byte === CR) {
      isLineCrSeen = true
      return null
    }
    if (byte === LF) throw new Http1ProtocolError(`bare LF in a ${what}`)
    if (line.length >= maxBytes) throw new Http1ProtocolError(`${what} longer than ${maxBytes} bytes`)
    line += String.fromCharCode(byte)
    return null
  }

  const startChunk = (sizeLine: string) => {
    const match = CHUNK_LINE.exec(sizeLine)
    if (!match) throw new Http1ProtocolError('malformed chunk-size line')
    const digits = (match[1] ?? '').replace(/^0+(?=.)/, '')
    if (digits.length > MAX_CHUNK_SIZE_DIGITS) throw new Http1ProtocolError('chunk size too large')
    remainingChunkBytes = parseInt(digits, 16)
    state = remainingChunkBytes === 0 ? 'trailer' : 'data'
  }

  return {
    scan(bytes, from, onData) {
      wasInTrailer = state === 'trailer' || state === 'done'
      trailerFrom = -1
      let i = from
      while (i < bytes.length && state !== 'done') {
        if (state === 'data') {
          const take = Math.min(remainingChunkBytes, bytes.length - i)
          onData?.(i, i + take)
          i += take
          remainingChunkBytes -= take
          if (remainingChunkBytes === 0) state = 'data-cr'
          continue
        }
        const byte = bytes[i++]!
        if (state === 'data-cr' || state === 'data-lf') {
          // Chunk data MUST be followed by exactly CRLF: anything else is the classic desync vector.
          if (byte !== (state === 'data-cr' ? CR : LF)) throw new Http1ProtocolError('chunk data not followed by CRLF')
          state = state === 'data-cr' ? 'data-lf' : 'size'
        } else if (state === 'size') {
          const sizeLine = lineByte(byte, MAX_CHUNK_LINE_BYTES, 'chunk-size line')
          if (sizeLine !== null) startChunk(sizeLine)
          if ((state as ChunkState) === 'trailer') trailerFrom = i
        } else {
          trailerBytes++
          if (trailerBytes > MAX_TRAILER_BYTES) throw new Http1ProtocolError(`trailer section longer than ${MAX_TRAILER_BYTES} bytes`)
          const trailerLine = lineByte(byte, MAX_TRAILER_BYTES, 'trailer line')
          if (trailerLine === '') state = 'done'
          else if (trailerLine !== null && (trailerLine.startsWith(' ') || trailerLine.startsWith('\t') || !TOKEN.test(trailerLine.slice(0, Math.max(trailerLine.indexOf(':'), 0))))) {
            throw new Http1ProtocolError('malformed trailer field')
          }
        }
      }
      return state === 'done' ? i : -1
    },
    get isComplete() {
      return state === 'done'
    },
    get trailerFrom() {
      return trailerFrom
    },
    get wasInTrailer() {
      return wasInTrailer
    },
  }
}

function createChunkedDecoder(): BodyDecoder {
  const scanner = createChunkedScanner()
  return {
    push(bytes) {
      const out: Uint8Array[] = []
      scanner.scan(bytes, 0, (start, end) => out.push(copyOf(bytes, start, end)))
      return out
    },
    get isComplete() {
      return scanner.isComplete
    },
    end() {
      if (!scanner.isComplete) throw new Http1ProtocolError('connection closed before the last chunk')
    },
  }
}

/** A real copy: on a Node Buffer (what sockets deliver) `slice` is a view, and the runtime may reuse the memory. */
function copyOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end))
}
