/**
 * The wider strip list (issue #13), unit by unit: which names belong to a spoofable family (client
 * address, identity, path override), the relay's parser holding client-address lines back from the
 * fields it keeps, the relay putting back only those the proxy trusts, and the hand-over path's header
 * builder doing the same. Every name is tried in three spellings: as documented, lower-case with "_"
 * for "-" (WSGI, PHP and CGI fold it into the same variable, RFC 3875 §4.1.18), and upper-case.
 * Look-alike names that clients legitimately send (CF-Ray, X-Request-Id, X-User-Agent, Remotely) pass.
 */
import { describe, expect, test } from 'bun:test'
import { spoofableFamilyOf, type SpoofableFamily } from '../../src/lib/index.ts'
import { buildUpstreamHeaders, isStrippedRequestHeader } from '../../src/proxy/headers.ts'
import { parseRequestHead } from '../../src/proxy/relay/request-head.ts'
import { withTrustedFields } from '../../src/proxy/relay/upstream-head.ts'
import { CLIENT_ADDRESS, IDENTITY, PATH_OVERRIDES, spellingsOf } from '../e2e/strip-list-names.ts'

/** Names a client may send that look like the ones above. */
const LOOK_ALIKES = ['CF-Ray', 'CF-IPCountry', 'CF-Visitor', 'X-Request-Id', 'X-User-Agent', 'X-Users', 'X-Authorization-Hint', 'Remotely', 'X-Remote', 'X-Forwarded-Ssl-Hint', 'Client-Hint', 'X-Original-Path', 'Accept', 'User-Agent']

const FAMILIES: readonly (readonly [SpoofableFamily, readonly string[]])[] = [
  ['client_address', CLIENT_ADDRESS],
  ['identity', IDENTITY],
  ['path_override', PATH_OVERRIDES],
]
const fold = (name: string) => name.toLowerCase().replaceAll('_', '-')

describe('spoofableFamilyOf: the family of every listed name, in every spelling', () => {
  for (const [family, names] of FAMILIES) {
    test(`${family}: ${names.length} names × 3 spellings`, () => {
      for (const name of names) for (const spelling of spellingsOf(name)) expect({ spelling, family: spoofableFamilyOf(fold(spelling)) }).toEqual({ spelling, family })
    })
  }

  test('look-alikes a client may send belong to no family', () => {
    for (const name of LOOK_ALIKES) expect({ name, family: spoofableFamilyOf(fold(name)) }).toEqual({ name, family: null })
  })
})

describe('isStrippedRequestHeader: a trusted name passes only when it is a client-address name spelled with "-"', () => {
  const trusted = new Set(['cf-connecting-ip', 'x-remote-user', 'x-original-url'])
  test('the trusted client-address name passes; its "_" spelling, untrusted ones and other families do not (even if listed)', () => {
    expect(isStrippedRequestHeader('cf-connecting-ip', false, trusted)).toBe(false)
    expect(isStrippedRequestHeader('cf-connecting-ip', true, trusted)).toBe(true)
    expect(isStrippedRequestHeader('true-client-ip', false, trusted)).toBe(true)
    // The settings refuse these names; the strip decision refuses them again.
    expect(isStrippedRequestHeader('x-remote-user', false, trusted)).toBe(true)
    expect(isStrippedRequestHeader('x-original-url', false, trusted)).toBe(true)
    expect(isStrippedRequestHeader('x-custom', false, new Set())).toBe(false)
  })
})

const bytes = (text: string) => Buffer.from(text, 'latin1')
const NO_NAMES: ReadonlySet<string> = new Set()
const lines = (names: readonly string[]) => names.flatMap((name) => spellingsOf(name).map((spelling, i) => `${spelling}: ${name.toLowerCase()}-${i}\r\n`)).join('')

function parsed(fieldLines: string) {
  const result = parseRequestHead(bytes(`GET / HTTP/1.1\r\nHost: a.test\r\nX-Benign: yes\r\n${fieldLines}CF-Ray: 8a1b\r\n\r\n`), NO_NAMES)
  if (result.status !== 'complete') throw new Error(`expected a complete head, got ${result.status}`)
  return result.head
}

describe('the relay parser (RFC 9112 §5): spoofable lines never reach keptFields', () => {
  for (const [family, names] of FAMILIES) {
    test(`${family}: every name in three spellings is left out; the benign fields around them stay, in order`, () => {
      const head = parsed(lines(names))
      expect(head.keptFields).toBe('X-Benign: yes\r\nCF-Ray: 8a1b\r\n')
    })
  }

  test('client-address lines spelled with "-" are held back as sent (for a proxy that trusts them); "_" spellings are not', () => {
    const head = parsed(lines(CLIENT_ADDRESS))
    const expected = CLIENT_ADDRESS.flatMap((name) => [`${name}: ${name.toLowerCase()}-0\r\n`, `${name.toUpperCase()}: ${name.toLowerCase()}-2\r\n`]).join('')
    expect(head.clientAddressFields).toBe(expected)
  })

  test('identity and path-override lines are never held back', () => {
    expect(parsed(lines([...IDENTITY, ...PATH_OVERRIDES])).clientAddressFields).toBe('')
  })

  test('RFC 9110 §7.6.1: a client-address field named in Connection is hop-by-hop, held back from nobody', () => {
    const head = parsed('Connection: CF-Connecting-IP\r\nCF-Connecting-IP: 203.0.113.9\r\nTrue-Client-IP: 203.0.113.8\r\n')
    expect(head.clientAddressFields).toBe('True-Client-IP: 203.0.113.8\r\n')
  })
})

describe('withTrustedFields: what the relay puts back after the decision', () => {
  const held = 'CF-Connecting-IP: 203.0.113.9\r\nTrue-Client-IP: 203.0.113.8\r\ncf-connecting-ip: 203.0.113.7\r\n'
  test('only the trusted names, every line of them, as sent, after the kept fields', () => {
    expect(withTrustedFields('X-A: 1\r\n', held, new Set(['cf-connecting-ip']))).toBe('X-A: 1\r\nCF-Connecting-IP: 203.0.113.9\r\ncf-connecting-ip: 203.0.113.7\r\n')
  })
  test('nothing trusted or nothing held: the kept fields themselves', () => {
    const kept = 'X-A: 1\r\n'
    expect(withTrustedFields(kept, held, new Set())).toBe(kept)
    expect(withTrustedFields(kept, '', new Set(['cf-connecting-ip']))).toBe(kept)
  })
})

describe('buildUpstreamHeaders (the hand-over path and WebSocket upgrades)', () => {
  const client = { address: '198.51.100.4', port: 4000, isTls: false, isViaTrustedProxy: false }
  /** The same client as a trusted load balancer (PROXY_PROTOCOL_TRUSTED) names it. */
  const balanced = { ...client, isViaTrustedProxy: true }
  const incoming = () => {
    const headers = new Headers({ 'x-benign': 'yes', 'cf-ray': '8a1b' })
    for (const name of [...CLIENT_ADDRESS, ...IDENTITY, ...PATH_OVERRIDES]) for (const [i, spelling] of spellingsOf(name).entries()) headers.append(spelling, `${name.toLowerCase()}-${i}`)
    return headers
  }
  const build = (trustedHeaders?: ReadonlySet<string>, from = balanced) => buildUpstreamHeaders(incoming(), { client: from, requestHost: 'a.test', upstreamHost: 'a.test', customHeaders: {}, trustedHeaders })
  const spoofableNamesIn = (headers: Headers) => [...headers.keys()].filter((name) => spoofableFamilyOf(fold(name)) !== null)

  test('none of the three families in any spelling; the benign fields stay', () => {
    const headers = build()
    expect(spoofableNamesIn(headers)).toEqual([])
    expect([headers.get('x-benign'), headers.get('cf-ray')]).toEqual(['yes', '8a1b'])
  })

  test('through a trusted load balancer a trusted list lets exactly its names through, "-" spellings only, values as sent', () => {
    const headers = build(new Set(['cf-connecting-ip', 'true-client-ip']))
    expect(spoofableNamesIn(headers).sort()).toEqual(['cf-connecting-ip', 'true-client-ip'])
    expect(headers.get('cf-connecting-ip')).toBe('cf-connecting-ip-0, cf-connecting-ip-2')
    expect(headers.get('true-client-ip')).toBe('true-client-ip-0, true-client-ip-2')
  })

  test('from a client that did not come through a trusted load balancer the trusted list lets nothing through', () => {
    expect(spoofableNamesIn(build(new Set(['cf-connecting-ip', 'true-client-ip']), client))).toEqual([])
  })

  test("a custom header of the same name wins over a trusted client's", () => {
    const headers = buildUpstreamHeaders(incoming(), { client: balanced, requestHost: 'a.test', upstreamHost: 'a.test', customHeaders: { 'CF-Connecting-IP': 'ours' }, trustedHeaders: new Set(['cf-connecting-ip']) })
    expect(headers.get('cf-connecting-ip')).toBe('ours')
  })
})
