import { describe, expect, test } from 'bun:test'
import {
  PROXY_MAX_HEADER_LENGTH,
  PROXY_V1_MAX_LENGTH,
  PROXY_V2_SIGNATURE,
  parseProxyHeader,
  serializeProxyV1,
  serializeProxyV2,
  type ParseResult,
  type ProxyAddresses,
} from '../../src/proxy/proxy-protocol.ts'

const ascii = (text: string) => new TextEncoder().encode(text)
const hex = (text: string) => Uint8Array.from(text.trim().split(/\s+/), (h) => parseInt(h, 16))
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) (out.set(part, offset), (offset += part.length))
  return out
}
const HTTP_REQUEST = ascii('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n')
const SIG = '0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a'

function expectComplete(result: ParseResult) {
  if (result.status !== 'complete') throw new Error(`expected complete, got ${JSON.stringify(result)}`)
  return result
}
const statusOf = (bytes: Uint8Array) => parseProxyHeader(bytes).status

/** Feeds one byte at a time; every strict prefix must be 'incomplete' and the whole must be `final`. */
function feedByteByByte(bytes: Uint8Array): ParseResult {
  for (let n = 0; n < bytes.length; n++) expect(statusOf(bytes.subarray(0, n))).toBe('incomplete')
  return parseProxyHeader(bytes)
}

describe('constants', () => {
  test('§2.2: v2 signature is \\r\\n\\r\\n\\0\\r\\nQUIT\\n', () => {
    expect(Array.from(PROXY_V2_SIGNATURE)).toEqual(Array.from(hex(SIG)))
    expect(PROXY_V1_MAX_LENGTH).toBe(107)
    expect(PROXY_MAX_HEADER_LENGTH).toBe(16 + 65535)
  })
})

describe('PROXY v1 (§2.1)', () => {
  test('v1: accepts TCP4 and leaves the bytes after CRLF as application data', () => {
    const line = ascii('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n')
    const { header, headerLength } = expectComplete(parseProxyHeader(concat(line, HTTP_REQUEST)))
    expect(headerLength).toBe(line.length)
    expect(header).toEqual({
      version: 1,
      kind: 'proxy',
      tlvs: [],
      addresses: { family: 'tcp4', sourceAddress: '192.168.0.1', sourcePort: 56324, destinationAddress: '192.168.0.11', destinationPort: 443 },
    })
  })

  test('v1: accepts TCP6 and outputs canonical compressed lowercase addresses', () => {
    const { header } = expectComplete(parseProxyHeader(ascii('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::ffff:192.0.2.1 0 65535\r\n')))
    expect(header.kind === 'proxy' && header.addresses).toEqual({
      family: 'tcp6', sourceAddress: '2001:db8::1', sourcePort: 0, destinationAddress: '::ffff:192.0.2.1', destinationPort: 65535,
    })
  })

  test('v1: UNKNOWN means use the real connection endpoints, ignoring the rest of the line', () => {
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN 1.2.3.4 garbage !@#\r\n']) {
      const { header, headerLength } = expectComplete(parseProxyHeader(concat(ascii(line), HTTP_REQUEST)))
      expect(header).toEqual({ version: 1, kind: 'local', tlvs: [] })
      expect(headerLength).toBe(line.length)
    }
  })

  test('v1: the longest valid line is exactly 107 bytes and is accepted', () => {
    const v6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'
    const line = ascii(`PROXY UNKNOWN ${v6} ${v6} 65535 65535\r\n`)
    expect(line.length).toBe(107)
    expect(expectComplete(parseProxyHeader(line)).headerLength).toBe(107)
  })

  test('v1: rejects a line without CRLF within 107 bytes', () => {
    const filler = (n: number) => ascii('PROXY UNKNOWN '.padEnd(n, 'x'))
    expect(statusOf(filler(106))).toBe('incomplete')
    expect(statusOf(filler(107))).toBe('invalid')
    expect(statusOf(filler(108))).toBe('invalid')
    expect(statusOf(concat(filler(106), ascii('\r')))).toBe('invalid') // CRLF would end at byte 108
    expect(statusOf(concat(filler(105), ascii('\r')))).toBe('incomplete') // LF may still arrive as byte 107
    expect(statusOf(concat(filler(105), ascii('\r\n')))).toBe('complete')
  })

  test('v1: rejects a bare LF or a bare CR', () => {
    expect(parseProxyHeader(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'))).toEqual({ status: 'invalid', reason: expect.stringContaining('bare LF') })
    expect(parseProxyHeader(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX'))).toEqual({ status: 'invalid', reason: expect.stringContaining('bare CR') })
    expect(statusOf(ascii('PROXY UNKNOWN\n'))).toBe('invalid')
    expect(statusOf(ascii('PROXY \r\r\n'))).toBe('invalid')
  })

  test('v1: rejects leading zeros in octets and ports, accepts a lone 0 port', () => {
    expect(statusOf(ascii('PROXY TCP4 192.168.001.1 192.168.0.11 56324 443\r\n'))).toBe('invalid')
    expect(statusOf(ascii('PROXY TCP4 192.168.0.1 010.168.0.11 56324 443\r\n'))).toBe('invalid')
    expect(statusOf(ascii('PROXY TCP4 192.168.0.1 192.168.0.11 056324 443\r\n'))).toBe('invalid')
    expect(statusOf(ascii('PROXY TCP4 192.168.0.1 192.168.0.11 56324 0443\r\n'))).toBe('invalid')
    expect(statusOf(ascii('PROXY TCP4 192.168.0.1 192.168.0.11 00 443\r\n'))).toBe('invalid')
    expect(statusOf(ascii('PROXY TCP6 ::1 ::ffff:10.0.0.01 1 2\r\n'))).toBe('invalid')
    expect(statusOf(ascii('PROXY TCP4 192.168.0.1 192.168.0.11 0 0\r\n'))).toBe('complete')
  })

  test('v1: rejects ports above 65535 and non-decimal ports', () => {
    for (const port of ['65536', '99999', '100000', '-1', '+1', '1e3', '0x1', ' 1', '']) {
      expect(statusOf(ascii(`PROXY TCP4 1.2.3.4 5.6.7.8 ${port} 443\r\n`))).toBe('invalid')
    }
    expect(statusOf(ascii('PROXY TCP4 1.2.3.4 5.6.7.8 65535 443\r\n'))).toBe('complete')
  })

  test('v1: rejects family/address mismatches', () => {
    expect(statusOf(ascii('PROXY TCP4 ::1 ::1 1 2\r\n'))).toBe('invalid')
    expect(statusOf(ascii('PROXY TCP4 1.2.3.4 ::1 1 2\r\n'))).toBe('invalid')
    expect(statusOf(ascii('PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n'))).toBe('invalid')
    expect(statusOf(ascii('PROXY TCP6 ::1 5.6.7.8 1 2\r\n'))).toBe('invalid')
  })

  test('v1: rejects anything but "PROXY TCP4|TCP6 src dst sport dport" with single spaces', () => {
    for (const line of [
      'PROXY TCP4  1.2.3.4 5.6.7.8 1 2', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ', 'PROXY TCP4 1.2.3.4 5.6.7.8 1',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3', 'PROXY tcp4 1.2.3.4 5.6.7.8 1 2', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2',
      'PROXY TCP4\t1.2.3.4 5.6.7.8 1 2', 'PROXY TCP6 fe80::1%eth0 ::1 1 2', 'PROXY TCP4 1.2.3 5.6.7.8 1 2',
      'PROXY TCP4 256.2.3.4 5.6.7.8 1 2', 'PROXY TCP6 1::2::3 ::1 1 2', 'PROXY ', 'PROXY UNKNOWNX', 'PROXY  UNKNOWN',
    ]) expect([line, statusOf(ascii(`${line}\r\n`))]).toEqual([line, 'invalid'])
  })

  test('v1: incremental feeding byte by byte stays incomplete until CRLF', () => {
    const line = ascii('PROXY TCP6 2001:db8::1 2001:db8::2 1234 443\r\n')
    expect(expectComplete(feedByteByByte(line)).headerLength).toBe(line.length)
  })
})

describe('early rejection: a PROXY listener never guesses (§2)', () => {
  test('rejects "GET / HTTP/1.1" after the first byte that cannot match', () => {
    expect(statusOf(new Uint8Array(0))).toBe('incomplete')
    expect(statusOf(ascii('G'))).toBe('invalid')
    expect(statusOf(HTTP_REQUEST)).toBe('invalid')
    expect(statusOf(hex('16 03 01 02 00'))).toBe('invalid') // a TLS ClientHello
  })

  test('rejects at the first byte that differs from "PROXY " or the v2 signature', () => {
    expect(statusOf(ascii('PROX'))).toBe('incomplete')
    expect(statusOf(ascii('PROXX'))).toBe('invalid')
    expect(statusOf(ascii('PROXY'))).toBe('incomplete')
    expect(statusOf(ascii('PROXY\r\n'))).toBe('invalid')
    const signature = hex(SIG)
    for (let n = 1; n <= 12; n++) expect(statusOf(signature.subarray(0, n))).toBe('incomplete')
    expect(statusOf(hex('0d 0a 0d 0a 00 0d 0a 51 55 49 54 0d'))).toBe('invalid')
    expect(statusOf(hex('0d 0a 0d 0a 0d 0a'))).toBe('invalid')
  })
})

describe('PROXY v2 (§2.2): proxy_protocol_tlv_validation.vtc', () => {
  const header = `${SIG} 21 11 00 14 7F 00 00 01 7F 00 00 01 00 2A 05 39`
  const localhost: ProxyAddresses = { family: 'tcp4', sourceAddress: '127.0.0.1', sourcePort: 42, destinationAddress: '127.0.0.1', destinationPort: 1337 }

  test('vtc c1: a valid header with an AUTHORITY TLV "12345" is accepted', () => {
    const result = expectComplete(parseProxyHeader(concat(hex(`${header} 02 00 05 31 32 33 34 35`), HTTP_REQUEST)))
    expect(result.headerLength).toBe(36)
    expect(result.header).toEqual({ version: 2, kind: 'proxy', addresses: localhost, tlvs: [{ type: 0x02, value: ascii('12345') }] })
  })

  test('vtc c2: a TLV after the declared length is ignored and left as application data', () => {
    const bytes = concat(hex(`${header} 02 00 05 31 32 33 34 35 02 00 05 35 34 33 32 31`), HTTP_REQUEST)
    const result = expectComplete(parseProxyHeader(bytes))
    expect(result.headerLength).toBe(36)
    expect(result.header.tlvs).toEqual([{ type: 0x02, value: ascii('12345') }])
    expect(Array.from(bytes.subarray(36, 44))).toEqual(Array.from(hex('02 00 05 35 34 33 32 31')))
  })

  test('vtc c3: a TLV whose length overruns the header is invalid', () => {
    const bytes = concat(hex(`${header} 02 00 0A 31 32 33 34 35 31 32 33 34 35`), HTTP_REQUEST)
    expect(parseProxyHeader(bytes)).toEqual({ status: 'invalid', reason: expect.stringContaining('TLV') })
  })

  test('vtc c4: TLVs that do not end exactly at the header end are invalid', () => {
    const bytes = hex(`${header} 02 00 04 31 32 33 34`) // 19 of the 20 declared bytes
    expect(statusOf(bytes)).toBe('incomplete') // the 20th byte has not arrived yet
    expect(statusOf(concat(bytes, HTTP_REQUEST))).toBe('invalid') // 'G' is a partial TLV
  })
})

describe('PROXY v2 (§2.2)', () => {
  test('v2: accepts TCP6 with canonical address text', () => {
    const bytes = hex(`${SIG} 21 21 00 24 20 01 0d b8 00 00 00 00 00 01 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 ff ff c0 00 02 01 d4 31 01 bb`)
    const { header } = expectComplete(parseProxyHeader(bytes))
    expect(header.kind === 'proxy' && header.addresses).toEqual({
      family: 'tcp6', sourceAddress: '2001:db8::1:0:0:1', sourcePort: 54321, destinationAddress: '::ffff:192.0.2.1', destinationPort: 443,
    })
  })

  test('v2: IPv6 text follows RFC 5952 §4 (longest run, first on tie, no single-group "::")', () => {
    const format = (words: string) => {
      const block = concat(hex(words), hex('00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00'))
      const { header } = expectComplete(parseProxyHeader(concat(hex(`${SIG} 21 21 00 24`), block)))
      return header.kind === 'proxy' ? [header.addresses.sourceAddress, header.addresses.destinationAddress] : []
    }
    expect(format('20 01 0d b8 00 00 00 01 00 01 00 01 00 01 00 01')).toEqual(['2001:db8:0:1:1:1:1:1', '::'])
    expect(format('20 01 0d b8 00 00 00 00 00 01 00 00 00 00 00 01')).toEqual(['2001:db8::1:0:0:1', '::'])
    expect(format('20 01 00 00 00 00 00 01 00 00 00 00 00 00 00 01')).toEqual(['2001:0:0:1::1', '::'])
    expect(format('00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01')).toEqual(['::1', '::'])
    expect(format('fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00')).toEqual(['fe80::', '::'])
    expect(format('AB CD 00 00 00 00 00 00 00 00 00 00 00 00 EF 01')).toEqual(['abcd::ef01', '::'])
  })

  test('v2: LOCAL command means use the real endpoints, even with an address block', () => {
    expect(expectComplete(parseProxyHeader(hex(`${SIG} 20 00 00 00`))).header).toEqual({ version: 2, kind: 'local', tlvs: [] })
    const withBlock = expectComplete(parseProxyHeader(hex(`${SIG} 20 11 00 0c 7F 00 00 01 7F 00 00 01 00 2A 05 39`)))
    expect(withBlock).toEqual({ status: 'complete', headerLength: 28, header: { version: 2, kind: 'local', tlvs: [] } })
  })

  test('v2: UNSPEC and UNIX families mean use the real endpoints, TLVs after the 216-byte UNIX block', () => {
    expect(expectComplete(parseProxyHeader(hex(`${SIG} 21 00 00 03 04 00 00`))).header)
      .toEqual({ version: 2, kind: 'local', tlvs: [{ type: 4, value: new Uint8Array(0) }] })
    for (const family of [0x31, 0x32]) {
      const bytes = concat(hex(`${SIG} 21 ${family.toString(16)} 00 db`), new Uint8Array(216).fill(0x61), hex('04 00 00'))
      expect(expectComplete(parseProxyHeader(bytes))).toEqual({
        status: 'complete', headerLength: 16 + 219, header: { version: 2, kind: 'local', tlvs: [{ type: 4, value: new Uint8Array(0) }] },
      })
    }
  })

  test('v2: rejects UDP (0x12, 0x22) and unknown families', () => {
    for (const family of ['12', '22', '01', '13', '41', 'ff']) {
      expect(statusOf(hex(`${SIG} 21 ${family} 00 24 ${'00 '.repeat(36)}`))).toBe('invalid')
      expect(statusOf(hex(`${SIG} 21 ${family}`))).toBe('invalid') // rejected before the length arrives
    }
  })

  test('v2: rejects version nibble other than 2 and commands other than LOCAL/PROXY', () => {
    for (const versionCommand of ['11', '10', '31', '01', '22', '2f']) {
      expect(statusOf(hex(`${SIG} ${versionCommand} 11 00 0c ${'00 '.repeat(12)}`))).toBe('invalid')
      expect(statusOf(hex(`${SIG} ${versionCommand}`))).toBe('invalid')
    }
  })

  test('v2: rejects a declared length shorter than the address block', () => {
    expect(statusOf(hex(`${SIG} 21 11 00 0b ${'00 '.repeat(11)}`))).toBe('invalid')
    expect(statusOf(hex(`${SIG} 21 21 00 0c ${'00 '.repeat(12)}`))).toBe('invalid')
    expect(statusOf(hex(`${SIG} 21 31 00 d7`))).toBe('invalid')
    expect(statusOf(hex(`${SIG} 21 11 00 00`))).toBe('invalid')
  })

  test('v2: a huge declared length with incomplete data is incomplete, never a guess', () => {
    const start = hex(`${SIG} 21 11 ff ff 7F 00 00 01 7F 00 00 01 00 2A 05 39`)
    expect(statusOf(start)).toBe('incomplete')
    const almost = concat(start, new Uint8Array(65535 - 12 - 1).fill(0))
    expect(almost.length).toBe(PROXY_MAX_HEADER_LENGTH - 1)
    expect(statusOf(almost)).toBe('incomplete')
    // completed with 65523 zero bytes = 21841 TLVs of type 0, length 0
    const { header, headerLength } = expectComplete(parseProxyHeader(concat(almost, new Uint8Array(1))))
    expect(headerLength).toBe(PROXY_MAX_HEADER_LENGTH)
    expect(header.tlvs.length).toBe(65523 / 3)
  })

  test('v2: incremental feeding byte by byte stays incomplete until the declared length', () => {
    const bytes = hex(`${SIG} 21 11 00 14 7F 00 00 01 7F 00 00 01 00 2A 05 39 02 00 05 31 32 33 34 35`)
    expect(expectComplete(feedByteByByte(bytes)).headerLength).toBe(bytes.length)
  })

  test('v2: TLV values are copies, not views of the caller buffer', () => {
    const bytes = hex(`${SIG} 20 00 00 04 e0 00 01 7a`)
    const { header } = expectComplete(parseProxyHeader(bytes))
    bytes[19] = 0
    expect(Array.from(header.tlvs[0]?.value ?? [])).toEqual([0x7a])
  })

  test('hostile inputs: random bytes after the signature never throw and never overrun', () => {
    let seed = 0x2545f491
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff
    const seen = { incomplete: 0, invalid: 0, complete: 0 }
    for (let round = 0; round < 3000; round++) {
      const body = Uint8Array.from({ length: random() % 64 }, random)
      if (round % 3 === 0 && body.length > 0) body[0] = [0x20, 0x21][random() % 2] ?? 0x21
      if (round % 3 === 0 && body.length > 1) body[1] = [0x00, 0x11, 0x21][random() % 3] ?? 0x11
      if (round % 3 === 0 && body.length > 3) body[2] = 0
      if (round % 3 === 0 && body.length > 3) body[3] = Math.max(0, body.length - 4 - (random() % 3)) // declared ≈ available
      if (round % 6 === 0 && body.length > 7) body.fill(0, 4) // zero TLVs are valid (type 0, length 0)
      const bytes = concat(hex(SIG), body)
      const result = parseProxyHeader(bytes)
      seen[result.status]++
      if (result.status === 'complete') {
        expect(result.headerLength).toBeLessThanOrEqual(bytes.length)
        // more bytes never change a complete verdict
        expect(parseProxyHeader(concat(bytes, body))).toEqual(result)
      }
      if (result.status === 'invalid') expect(statusOf(concat(bytes, body))).toBe('invalid')
    }
    for (const count of Object.values(seen)) expect(count).toBeGreaterThan(50)
  })
})

describe('serialization round trips', () => {
  const tcp4: ProxyAddresses = { family: 'tcp4', sourceAddress: '203.0.113.7', sourcePort: 51000, destinationAddress: '10.0.0.1', destinationPort: 443 }
  const tcp6: ProxyAddresses = { family: 'tcp6', sourceAddress: '2001:db8::7', sourcePort: 0, destinationAddress: '::ffff:10.0.0.1', destinationPort: 65535 }
  const tlvs = [{ type: 0x02, value: ascii('example.test') }, { type: 0xe0, value: new Uint8Array(300).fill(7) }]

  test('v1: serialize → parse returns the same addresses for tcp4 and tcp6', () => {
    for (const addresses of [tcp4, tcp6]) {
      const bytes = serializeProxyV1(addresses)
      expect(expectComplete(parseProxyHeader(bytes))).toEqual({ status: 'complete', headerLength: bytes.length, header: { version: 1, kind: 'proxy', addresses, tlvs: [] } })
    }
    expect(new TextDecoder().decode(serializeProxyV1(tcp4))).toBe('PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n')
  })

  test('v1: null serializes to "PROXY UNKNOWN\\r\\n"', () => {
    expect(new TextDecoder().decode(serializeProxyV1(null))).toBe('PROXY UNKNOWN\r\n')
    expect(expectComplete(parseProxyHeader(serializeProxyV1(null))).header.kind).toBe('local')
  })

  test('v1: serialization canonicalizes IPv6 text', () => {
    const line = serializeProxyV1({ ...tcp6, sourceAddress: '2001:DB8:0:0:0:0:0:7' })
    expect(new TextDecoder().decode(line)).toBe('PROXY TCP6 2001:db8::7 ::ffff:10.0.0.1 0 65535\r\n')
  })

  test('v2: serialize → parse returns the same addresses and TLVs for tcp4 and tcp6', () => {
    for (const addresses of [tcp4, tcp6]) {
      for (const withTlvs of [[], tlvs]) {
        const bytes = serializeProxyV2(addresses, withTlvs)
        expect(Array.from(bytes.subarray(0, 14))).toEqual([...PROXY_V2_SIGNATURE, 0x21, addresses.family === 'tcp4' ? 0x11 : 0x21])
        expect(parseProxyHeader(concat(bytes, HTTP_REQUEST))).toEqual({
          status: 'complete', headerLength: bytes.length, header: { version: 2, kind: 'proxy', addresses, tlvs: withTlvs },
        })
      }
    }
  })

  test('v2: vtc c1 bytes are reproduced exactly', () => {
    const bytes = serializeProxyV2(
      { family: 'tcp4', sourceAddress: '127.0.0.1', sourcePort: 42, destinationAddress: '127.0.0.1', destinationPort: 1337 },
      [{ type: 0x02, value: ascii('12345') }],
    )
    expect(Array.from(bytes)).toEqual(Array.from(hex(`${SIG} 21 11 00 14 7F 00 00 01 7F 00 00 01 00 2A 05 39 02 00 05 31 32 33 34 35`)))
  })

  test('v2: null serializes to the LOCAL command with UNSPEC family', () => {
    expect(Array.from(serializeProxyV2(null))).toEqual(Array.from(hex(`${SIG} 20 00 00 00`)))
    const withTlv = serializeProxyV2(null, [{ type: 0x04, value: new Uint8Array(0) }])
    expect(expectComplete(parseProxyHeader(withTlv)).header).toEqual({ version: 2, kind: 'local', tlvs: [{ type: 4, value: new Uint8Array(0) }] })
  })

  test('serializers reject invalid addresses, ports, TLV types and oversize headers', () => {
    expect(() => serializeProxyV1({ ...tcp4, sourceAddress: '::1' })).toThrow(RangeError)
    expect(() => serializeProxyV1({ ...tcp6, destinationAddress: '10.0.0.1' })).toThrow(RangeError)
    expect(() => serializeProxyV2({ ...tcp4, sourceAddress: '010.0.0.1' })).toThrow(RangeError)
    expect(() => serializeProxyV2({ ...tcp4, sourcePort: 65536 })).toThrow(RangeError)
    expect(() => serializeProxyV1({ ...tcp4, destinationPort: 1.5 })).toThrow(RangeError)
    expect(() => serializeProxyV2(null, [{ type: 256, value: new Uint8Array(0) }])).toThrow(RangeError)
    expect(() => serializeProxyV2(tcp4, [{ type: 1, value: new Uint8Array(65535 - 12 - 2) }])).toThrow(RangeError)
    expect(serializeProxyV2(tcp4, [{ type: 1, value: new Uint8Array(65535 - 12 - 3) }]).length).toBe(PROXY_MAX_HEADER_LENGTH)
  })
})
