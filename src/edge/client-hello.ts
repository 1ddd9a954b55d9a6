/** @module Incremental TLS ClientHello parsing: reassembles the first handshake message and extracts its server_name (SNI). */

export type SniResult =
  /** Feed more bytes: call again with the whole buffer received so far. */
  | { readonly status: 'incomplete' }
  /** Not TLS, or a malformed or oversized ClientHello: close the connection. */
  | { readonly status: 'invalid'; readonly reason: string }
  /** `serverName` is lower-cased; null when the ClientHello carries no server_name extension. */
  | { readonly status: 'complete'; readonly serverName: string | null }

const DEFAULT_MAX_BYTES = 16_384
const RECORD_HEADER_BYTES = 5
const HANDSHAKE_HEADER_BYTES = 4
// RFC 5246 §6.2.1 / RFC 8446 §5.1: a TLSPlaintext fragment MUST NOT exceed 2^14 bytes.
const MAX_RECORD_FRAGMENT_BYTES = 16_384
const CONTENT_TYPE_HANDSHAKE = 22
const HANDSHAKE_TYPE_CLIENT_HELLO = 1
const EXTENSION_SERVER_NAME = 0
const NAME_TYPE_HOST_NAME = 0
const MAX_HOSTNAME_BYTES = 253
const MAX_LABEL_BYTES = 63

const INCOMPLETE: SniResult = Object.freeze({ status: 'incomplete' })
const invalid = (reason: string): SniResult => ({ status: 'invalid', reason })

/**
 * Reads the SNI host name from the start of a TLS connection without consuming it.
 *
 * Stateless: pass every byte received so far (from the first byte of the connection). The ClientHello may be
 * fragmented over several handshake records and those records over several TCP reads; the function answers
 * 'incomplete' until the whole message is present. Never throws on hostile input; every length is bounds-checked.
 * Bytes beyond the ClientHello are ignored. `maxBytes` caps how much of the stream may be needed.
 */
export function readClientHelloSni(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_BYTES): SniResult {
  const message = reassembleClientHello(bytes, maxBytes)
  if (!(message instanceof Uint8Array)) return message
  return parseClientHello(message)
}

/** Returns the ClientHello body (after the 4-byte handshake header), or a non-complete result. */
function reassembleClientHello(bytes: Uint8Array, maxBytes: number): Uint8Array | SniResult {
  const limit = Math.min(bytes.length, maxBytes)
  let offset = 0
  let bodyLength = -1 // unknown until the 4-byte handshake header has been seen
  let joined: Uint8Array | null = null // only allocated when the message spans records
  let joinedLength = 0
  let single: Uint8Array | null = null

  while (offset < limit) {
    // RFC 5246 §6.2.1: ContentType type; ProtocolVersion version; uint16 length.
    if (bytes[offset] !== CONTENT_TYPE_HANDSHAKE) {
      // RFC 8446 §5.1: handshake messages MUST NOT be interleaved with other record types.
      return invalid(offset === 0 ? 'not a TLS handshake record' : 'non-handshake record inside the ClientHello')
    }
    if (offset + 1 < limit && bytes[offset + 1] !== 3) return invalid('unsupported record-layer version')
    if (offset + RECORD_HEADER_BYTES > limit) break
    const fragmentLength = readUint16(bytes, offset + 3)
    // RFC 8446 §5.1: zero-length handshake fragments MUST NOT be sent; length MUST NOT exceed 2^14.
    if (fragmentLength === 0) return invalid('zero-length handshake record')
    if (fragmentLength > MAX_RECORD_FRAGMENT_BYTES) return invalid('record exceeds 2^14 bytes')
    const fragmentStart = offset + RECORD_HEADER_BYTES
    const fragment = bytes.subarray(fragmentStart, Math.min(fragmentStart + fragmentLength, limit))

    if (bodyLength < 0 && single === null && joined === null && fragment.length >= HANDSHAKE_HEADER_BYTES) {
      // Fast path: the handshake header sits whole in the first record (the common case).
      const header = parseHandshakeHeader(fragment, maxBytes)
      if (typeof header !== 'number') return header
      bodyLength = header
      if (fragment.length >= HANDSHAKE_HEADER_BYTES + bodyLength) {
        return fragment.subarray(HANDSHAKE_HEADER_BYTES, HANDSHAKE_HEADER_BYTES + bodyLength)
      }
      single = fragment
    } else {
      // Slow path: the message (or its header) spans records; copy fragments into one buffer.
      // Fragments never add up to more than the `limit` bytes they were cut from.
      joined ??= new Uint8Array(limit)
      if (single !== null) {
        joined.set(single, 0)
        joinedLength = single.length
        single = null
      }
      joined.set(fragment, joinedLength)
      joinedLength += fragment.length
      if (bodyLength < 0 && joinedLength >= HANDSHAKE_HEADER_BYTES) {
        const header = parseHandshakeHeader(joined, maxBytes)
        if (typeof header !== 'number') return header
        bodyLength = header
      }
      if (bodyLength >= 0 && joinedLength >= HANDSHAKE_HEADER_BYTES + bodyLength) {
        return joined.subarray(HANDSHAKE_HEADER_BYTES, HANDSHAKE_HEADER_BYTES + bodyLength)
      }
    }
    if (fragment.length < fragmentLength) break // the record itself is still arriving
    offset = fragmentStart + fragmentLength
  }
  return bytes.length >= maxBytes ? invalid('ClientHello exceeds the size limit') : INCOMPLETE
}

/** RFC 8446 §4: HandshakeType msg_type; uint24 length. Returns the body length. */
function parseHandshakeHeader(header: Uint8Array, maxBytes: number): number | SniResult {
  // RFC 8446 §4.1.1: the ClientHello is the first message the client sends.
  if (header[0] !== HANDSHAKE_TYPE_CLIENT_HELLO) return invalid('first handshake message is not a ClientHello')
  const bodyLength = ((header[1] ?? 0) << 16) | ((header[2] ?? 0) << 8) | (header[3] ?? 0)
  if (HANDSHAKE_HEADER_BYTES + bodyLength > maxBytes) return invalid('ClientHello exceeds the size limit')
  return bodyLength
}

/** RFC 8446 §4.1.2 (and RFC 5246 §7.4.1.2): walks the ClientHello body to the server_name extension. */
function parseClientHello(body: Uint8Array): SniResult {
  const end = body.length
  // legacy_version: RFC 8446 §4.1.2 fixes it at 0x0303; any SSL 3.x/TLS 1.x major version is accepted here.
  if (end < 2 || body[0] !== 3) return invalid('ClientHello legacy_version is not 3.x')
  let offset = 2 + 32 // legacy_version, random[32]
  if (offset + 1 > end) return invalid('ClientHello truncated before legacy_session_id')
  const sessionIdLength = body[offset] ?? 0
  if (sessionIdLength > 32) return invalid('legacy_session_id longer than 32 bytes')
  offset += 1 + sessionIdLength
  if (offset + 2 > end) return invalid('ClientHello truncated before cipher_suites')
  const cipherSuitesLength = readUint16(body, offset)
  // CipherSuite cipher_suites<2..2^16-2>: two bytes per suite.
  if (cipherSuitesLength < 2 || cipherSuitesLength % 2 !== 0) return invalid('malformed cipher_suites')
  offset += 2 + cipherSuitesLength
  if (offset + 1 > end) return invalid('ClientHello truncated before legacy_compression_methods')
  const compressionLength = body[offset] ?? 0
  if (compressionLength < 1) return invalid('empty legacy_compression_methods')
  offset += 1 + compressionLength
  if (offset > end) return invalid('ClientHello truncated in legacy_compression_methods')
  // RFC 5246 §7.4.1.2: a TLS 1.2 ClientHello may end here, with no extensions at all.
  if (offset === end) return { status: 'complete', serverName: null }
  if (offset + 2 > end) return invalid('ClientHello truncated before extensions')
  const extensionsEnd = offset + 2 + readUint16(body, offset)
  if (extensionsEnd !== end) return invalid('extensions length does not match the ClientHello length')
  offset += 2

  let serverName: string | null = null
  let sawServerName = false
  while (offset < extensionsEnd) {
    if (offset + 4 > extensionsEnd) return invalid('truncated extension header')
    const type = readUint16(body, offset)
    const dataEnd = offset + 4 + readUint16(body, offset + 2)
    if (dataEnd > extensionsEnd) return invalid('extension overruns the extensions block')
    if (type === EXTENSION_SERVER_NAME) {
      // RFC 8446 §4.2: there MUST NOT be more than one extension of the same type.
      if (sawServerName) return invalid('duplicate server_name extension')
      sawServerName = true
      const name = parseServerNameList(body, offset + 4, dataEnd)
      if (typeof name !== 'string' && name !== null) return name
      serverName = name
    }
    offset = dataEnd
  }
  return { status: 'complete', serverName }
}

/** RFC 6066 §3: ServerName server_name_list<1..2^16-1>; returns the host_name entry (or null if none). */
function parseServerNameList(body: Uint8Array, start: number, end: number): string | null | SniResult {
  if (start + 2 > end) return invalid('truncated server_name list')
  const listEnd = start + 2 + readUint16(body, start)
  if (listEnd !== end || listEnd === start + 2) return invalid('malformed server_name list length')
  let offset = start + 2
  let hostName: string | null = null
  while (offset < listEnd) {
    if (offset + 3 > listEnd) return invalid('truncated server_name entry')
    const nameType = body[offset]
    const nameEnd = offset + 3 + readUint16(body, offset + 1)
    if (nameEnd > listEnd) return invalid('server_name entry overruns its list')
    // Unknown name types are skipped (treated as opaque<1..2^16-1>, as Go's crypto/tls does).
    if (nameType === NAME_TYPE_HOST_NAME) {
      // RFC 6066 §3: the list MUST NOT contain more than one name of the same name_type.
      if (hostName !== null) return invalid('more than one host_name in server_name')
      const name = decodeHostName(body, offset + 3, nameEnd)
      if (name === null) return invalid('server_name host_name is not a valid DNS name')
      hostName = name
    }
    offset = nameEnd
  }
  return hostName
}

/**
 * RFC 6066 §3: HostName is an ASCII DNS hostname "without a trailing dot"; literal IP addresses are not permitted.
 * Accepts only [A-Za-z0-9.-] (lower-cased on the way out), at most 253 bytes, labels of 1..63 bytes
 * (RFC 1035 §2.3.4). A single trailing dot is tolerated and dropped, as Go's crypto/tls does.
 */
function decodeHostName(bytes: Uint8Array, start: number, end: number): string | null {
  if (end > start && bytes[end - 1] === 0x2e) end -= 1
  const length = end - start
  if (length < 1 || length > MAX_HOSTNAME_BYTES) return null
  let name = ''
  let labelLength = 0
  for (let i = start; i < end; i++) {
    let code = bytes[i] ?? 0
    if (code >= 0x41 && code <= 0x5a) code += 0x20 // A-Z → a-z
    if (code === 0x2e) {
      if (labelLength === 0) return null
      labelLength = 0
    } else if ((code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2d) {
      if (++labelLength > MAX_LABEL_BYTES) return null
    } else {
      return null
    }
    name += String.fromCharCode(code)
  }
  return name
}

function readUint16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0)
}
