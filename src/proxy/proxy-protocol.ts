/** @module PROXY protocol v1/v2 header codec (haproxy doc/proxy-protocol.txt); pure, no I/O. */
import { isIPv4, isIPv6 } from 'node:net'

export interface ProxyAddresses {
  readonly family: 'tcp4' | 'tcp6'
  readonly sourceAddress: string
  readonly sourcePort: number
  readonly destinationAddress: string
  readonly destinationPort: number
}

export interface ProxyTlv {
  readonly type: number
  readonly value: Uint8Array
}

/** What a complete header said. `local` (v2 LOCAL command, v1 UNKNOWN, or v2 UNSPEC/UNIX families) means: use the real socket addresses. */
export type ProxyHeader =
  | { readonly version: 1 | 2; readonly kind: 'proxy'; readonly addresses: ProxyAddresses; readonly tlvs: readonly ProxyTlv[] }
  | { readonly version: 1 | 2; readonly kind: 'local'; readonly tlvs: readonly ProxyTlv[] }

/** Incremental parse of the bytes received so far on a PROXY-enabled listener. */
export type ParseResult =
  | { readonly status: 'incomplete' } // need more bytes (never guess: a PROXY listener waits for the whole header)
  | { readonly status: 'invalid'; readonly reason: string } // close the connection
  | { readonly status: 'complete'; readonly header: ProxyHeader; readonly headerLength: number } // bytes after headerLength are application data

/** §2.1: "a 108-byte buffer is always enough to store all the line and a trailing zero" — 107 bytes including CRLF. */
export const PROXY_V1_MAX_LENGTH = 107

/** §2.2: `\r\n\r\n\0\r\nQUIT\n`. Internal parsing uses a private copy, so mutating this export changes nothing. */
const SIGNATURE = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a)
export const PROXY_V2_SIGNATURE: Uint8Array = SIGNATURE.slice()

/** §2.2: 16-byte fixed part, then at most 65535 bytes announced by the 2-byte length. */
const V2_FIXED_LENGTH = 16
const V2_MAX_PAYLOAD_LENGTH = 0xffff
/** 16 + maximum 2-byte length; a header can never be longer. */
export const PROXY_MAX_HEADER_LENGTH: number = V2_FIXED_LENGTH + V2_MAX_PAYLOAD_LENGTH

const V1_PREFIX = Uint8Array.from('PROXY ', (c) => c.charCodeAt(0))
const CR = 0x0d
const LF = 0x0a

const incomplete: ParseResult = Object.freeze({ status: 'incomplete' })
const invalid = (reason: string): ParseResult => ({ status: 'invalid', reason })

/** Parses the bytes received so far; call again with the grown buffer while it says 'incomplete'. */
export function parseProxyHeader(bytes: Uint8Array): ParseResult {
  // §2: a receiver MUST NOT guess — reject as soon as the bytes can match neither signature.
  const couldBeV1 = hasPrefix(bytes, V1_PREFIX)
  const couldBeV2 = hasPrefix(bytes, SIGNATURE)
  if (!couldBeV1 && !couldBeV2) return invalid('not a PROXY protocol header')
  if (bytes.length < V1_PREFIX.length) return incomplete // still a prefix of "PROXY " or of the v2 signature
  return couldBeV1 ? parseV1(bytes) : parseV2(bytes)
}

/** True when the available bytes agree with `prefix` (a shorter input agrees with its own length). */
function hasPrefix(bytes: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(bytes.length, prefix.length)
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return false
  return true
}

// ---- v1 (§2.1) ----

function parseV1(bytes: Uint8Array): ParseResult {
  const limit = Math.min(bytes.length, PROXY_V1_MAX_LENGTH)
  for (let i = 0; i < limit; i++) {
    const byte = bytes[i]
    if (byte === LF) return invalid('v1: bare LF; the line MUST end with CRLF')
    if (byte !== CR) continue
    if (i + 1 >= PROXY_V1_MAX_LENGTH) break // CRLF would end past byte 107
    if (i + 1 >= bytes.length) return incomplete
    if (bytes[i + 1] !== LF) return invalid('v1: bare CR; the line MUST end with CRLF')
    return parseV1Line(String.fromCharCode(...bytes.subarray(0, i)), i + 2)
  }
  if (bytes.length >= PROXY_V1_MAX_LENGTH) return invalid('v1: no CRLF within 107 bytes')
  return incomplete
}

function parseV1Line(line: string, headerLength: number): ParseResult {
  const fields = line.split(' ') // §2.1: fields are separated by exactly one space
  if (fields[1] === 'UNKNOWN') {
    // §2.1: with UNKNOWN the receiver MUST ignore anything before CRLF and use the real connection endpoints.
    return { status: 'complete', header: { version: 1, kind: 'local', tlvs: [] }, headerLength }
  }
  const [, protocol, source, destination, sourcePort, destinationPort, ...rest] = fields
  if (protocol !== 'TCP4' && protocol !== 'TCP6') return invalid('v1: protocol MUST be TCP4, TCP6 or UNKNOWN')
  if (destinationPort === undefined || rest.length > 0) return invalid('v1: expected exactly "PROXY proto src dst sport dport"')
  const family = protocol === 'TCP4' ? 'tcp4' : 'tcp6'
  const sourceBytes = parseAddress(family, source ?? '')
  const destinationBytes = parseAddress(family, destination ?? '')
  if (!sourceBytes || !destinationBytes) return invalid(`v1: address is not a valid ${protocol} address`)
  const sourcePortNumber = parseV1Port(sourcePort ?? '')
  const destinationPortNumber = parseV1Port(destinationPort)
  if (sourcePortNumber === null || destinationPortNumber === null) return invalid('v1: port MUST be 0-65535 without leading zeros')
  const addresses: ProxyAddresses = {
    family,
    sourceAddress: formatAddress(sourceBytes),
    sourcePort: sourcePortNumber,
    destinationAddress: formatAddress(destinationBytes),
    destinationPort: destinationPortNumber,
  }
  return { status: 'complete', header: { version: 1, kind: 'proxy', addresses, tlvs: [] }, headerLength }
}

function parseV1Port(text: string): number | null {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return null
  const port = Number(text)
  return port <= 0xffff ? port : null
}

// ---- v2 (§2.2) ----

function parseV2(bytes: Uint8Array): ParseResult {
  if (bytes.length < SIGNATURE.length + 1) return incomplete
  const versionCommand = bytes[12] ?? 0
  if (versionCommand >> 4 !== 2) return invalid('v2: version MUST be 2')
  const command = versionCommand & 0x0f
  if (command !== 0x0 && command !== 0x1) return invalid('v2: command MUST be LOCAL (0) or PROXY (1)')
  if (bytes.length < V2_FIXED_LENGTH - 2) return incomplete
  const familyProtocol = bytes[13] ?? 0
  const blockLength = addressBlockLength(familyProtocol)
  if (blockLength === null) return invalid(`v2: unsupported address family/protocol 0x${familyProtocol.toString(16).padStart(2, '0')}`)
  if (bytes.length < V2_FIXED_LENGTH) return incomplete
  const payloadLength = ((bytes[14] ?? 0) << 8) | (bytes[15] ?? 0)
  if (payloadLength < blockLength) return invalid('v2: length is shorter than the address block')
  const headerLength = V2_FIXED_LENGTH + payloadLength
  if (bytes.length < headerLength) return incomplete
  // §2.2.7: TLVs fill the rest of the declared length; bytes after it are application data.
  const tlvs = parseTlvs(bytes.subarray(V2_FIXED_LENGTH + blockLength, headerLength))
  if (!tlvs) return invalid('v2: TLVs do not end exactly at the end of the header')
  // §2.2: LOCAL → real endpoints, address block ignored; UNSPEC/UNIX → receiver uses real endpoints too.
  const block = bytes.subarray(V2_FIXED_LENGTH, V2_FIXED_LENGTH + blockLength)
  const addresses = command === 0x1 ? decodeInetBlock(familyProtocol, block) : null
  const header: ProxyHeader = addresses
    ? { version: 2, kind: 'proxy', addresses, tlvs }
    : { version: 2, kind: 'local', tlvs }
  return { status: 'complete', header, headerLength }
}

/** Address block size for the 13th byte, or null if this TCP edge refuses it (§2.2: UDP makes no sense on a stream listener). */
function addressBlockLength(familyProtocol: number): number | null {
  switch (familyProtocol) {
    case 0x00: return 0 // UNSPEC
    case 0x11: return 12 // TCP over IPv4: 4 + 4 + 2 + 2
    case 0x21: return 36 // TCP over IPv6: 16 + 16 + 2 + 2
    case 0x31: // UNIX stream
    case 0x32: return 216 // UNIX datagram: 108 + 108
    default: return null // includes 0x12/0x22 (UDP)
  }
}

function decodeInetBlock(familyProtocol: number, block: Uint8Array): ProxyAddresses | null {
  const addressLength = familyProtocol === 0x11 ? 4 : familyProtocol === 0x21 ? 16 : 0
  if (addressLength === 0) return null
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength)
  return {
    family: addressLength === 4 ? 'tcp4' : 'tcp6',
    sourceAddress: formatAddress(block.subarray(0, addressLength)),
    destinationAddress: formatAddress(block.subarray(addressLength, 2 * addressLength)),
    sourcePort: view.getUint16(2 * addressLength),
    destinationPort: view.getUint16(2 * addressLength + 2),
  }
}

/** §2.2.7: each TLV is type (1 byte), length (2 bytes big-endian), value; null if the area is not exactly a TLV sequence. */
function parseTlvs(area: Uint8Array): ProxyTlv[] | null {
  const tlvs: ProxyTlv[] = []
  let offset = 0
  while (offset < area.length) {
    if (area.length - offset < 3) return null // a partial TLV header: does not end at the header end
    const valueLength = ((area[offset + 1] ?? 0) << 8) | (area[offset + 2] ?? 0)
    const end = offset + 3 + valueLength
    if (end > area.length) return null // overruns the declared length
    tlvs.push({ type: area[offset] ?? 0, value: area.slice(offset + 3, end) })
    offset = end
  }
  return tlvs
}

// ---- serialization ----

/** v1 text line; null → "PROXY UNKNOWN\r\n". Throws RangeError on addresses or ports invalid for the family. */
export function serializeProxyV1(addresses: ProxyAddresses | null): Uint8Array {
  if (!addresses) return new TextEncoder().encode('PROXY UNKNOWN\r\n')
  const { family, sourcePort, destinationPort } = addresses
  const source = formatAddress(requireAddress(family, addresses.sourceAddress))
  const destination = formatAddress(requireAddress(family, addresses.destinationAddress))
  const protocol = family === 'tcp4' ? 'TCP4' : 'TCP6'
  const line = `PROXY ${protocol} ${source} ${destination} ${requirePort(sourcePort)} ${requirePort(destinationPort)}\r\n`
  return new TextEncoder().encode(line)
}

/** v2 binary header (PROXY, TCP4/TCP6) with TLVs appended; null → LOCAL/UNSPEC. Throws RangeError on invalid input. */
export function serializeProxyV2(addresses: ProxyAddresses | null, tlvs: readonly ProxyTlv[] = []): Uint8Array {
  const block = addresses ? encodeInetBlock(addresses) : new Uint8Array(0)
  const tlvLength = tlvs.reduce((sum, tlv) => sum + 3 + tlv.value.length, 0)
  const payloadLength = block.length + tlvLength
  if (payloadLength > V2_MAX_PAYLOAD_LENGTH) throw new RangeError('PROXY v2 header longer than 65535 bytes after the fixed part')
  const out = new Uint8Array(V2_FIXED_LENGTH + payloadLength)
  const view = new DataView(out.buffer)
  out.set(SIGNATURE, 0)
  out[12] = addresses ? 0x21 : 0x20 // version 2, command PROXY or LOCAL
  out[13] = !addresses ? 0x00 : addresses.family === 'tcp4' ? 0x11 : 0x21
  view.setUint16(14, payloadLength)
  out.set(block, V2_FIXED_LENGTH)
  let offset = V2_FIXED_LENGTH + block.length
  for (const tlv of tlvs) {
    if (!Number.isInteger(tlv.type) || tlv.type < 0 || tlv.type > 0xff) throw new RangeError(`invalid TLV type ${tlv.type}`)
    out[offset] = tlv.type
    view.setUint16(offset + 1, tlv.value.length)
    out.set(tlv.value, offset + 3)
    offset += 3 + tlv.value.length
  }
  return out
}

function encodeInetBlock(addresses: ProxyAddresses): Uint8Array {
  const source = requireAddress(addresses.family, addresses.sourceAddress)
  const destination = requireAddress(addresses.family, addresses.destinationAddress)
  const block = new Uint8Array(2 * source.length + 4)
  block.set(source, 0)
  block.set(destination, source.length)
  const view = new DataView(block.buffer)
  view.setUint16(2 * source.length, requirePort(addresses.sourcePort))
  view.setUint16(2 * source.length + 2, requirePort(addresses.destinationPort))
  return block
}

function requireAddress(family: ProxyAddresses['family'], text: string): Uint8Array {
  const bytes = parseAddress(family, text)
  if (!bytes) throw new RangeError(`not a valid ${family} address: ${JSON.stringify(text)}`)
  return bytes
}

function requirePort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`port out of range 0-65535: ${port}`)
  return port
}

// ---- address text <-> bytes ----

/** Strict textual address → bytes: dotted quad without leading zeros, or RFC 4291 §2.2 IPv6 without a zone id. */
function parseAddress(family: ProxyAddresses['family'], text: string): Uint8Array | null {
  return family === 'tcp4' ? (isIPv4(text) ? parseIpv4(text) : null) : isIPv6(text) ? parseIpv6(text) : null
}

function parseIpv4(text: string): Uint8Array | null {
  const octets = text.split('.')
  if (octets.length !== 4) return null
  const bytes = new Uint8Array(4)
  for (const [i, octet] of octets.entries()) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(octet) || Number(octet) > 255) return null // no leading zeros (they read as octal elsewhere)
    bytes[i] = Number(octet)
  }
  return bytes
}

function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::') // RFC 4291 §2.2 form 2: at most one "::"
  if (halves.length > 2) return null
  const isCompressed = halves.length === 2
  const head = parseIpv6Words(halves[0] ?? '', !isCompressed)
  const tail = isCompressed ? parseIpv6Words(halves[1] ?? '', true) : []
  if (!head || !tail) return null
  const zeroCount = 8 - head.length - tail.length
  if (isCompressed ? zeroCount < 1 : zeroCount !== 0) return null
  const words = [...head, ...new Array<number>(zeroCount).fill(0), ...tail]
  const bytes = new Uint8Array(16)
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8
    bytes[2 * i + 1] = word & 0xff
  })
  return bytes
}

/** Colon-separated hex groups; only the last group of the address may be a dotted quad (RFC 4291 §2.2 form 3). */
function parseIpv6Words(part: string, mayEndInIpv4: boolean): number[] | null {
  if (part === '') return []
  const groups = part.split(':')
  const words: number[] = []
  for (const [i, group] of groups.entries()) {
    if (mayEndInIpv4 && i === groups.length - 1 && group.includes('.')) {
      const v4 = parseIpv4(group)
      if (!v4) return null
      words.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0))
    } else if (/^[0-9a-fA-F]{1,4}$/.test(group)) words.push(parseInt(group, 16))
    else return null
  }
  return words
}

/** IPv4 dotted quad, or RFC 5952 §4 canonical IPv6 (lowercase, longest zero run ≥ 2 compressed, §5 mapped form). */
function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.')
  const words = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0))
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${bytes.subarray(12).join('.')}`
  let bestStart = -1
  let bestLength = 1 // §4.2.2: a single 16-bit 0 field is not shortened
  for (let i = 0; i < 8; ) {
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i] // §4.2.3: first of equal runs wins
    i = j === i ? i + 1 : j
  }
  const hex = words.map((w) => w.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}
