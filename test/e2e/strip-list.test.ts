/**
 * Issue #13's acceptance for the strip list: every client-address header (CF-Connecting-IP,
 * True-Client-IP, X-Client-IP, X-Cluster-Client-IP, Fastly-Client-IP, …), identity header (X-Remote-User,
 * X-User, X-Forwarded-Preferred-Username, Remote-*, X-Auth-Request-*, X-Webauth-*, …) and path override
 * (X-Original-URL, X-Rewrite-URL), in three spellings (as documented; lower-case with "_", which WSGI,
 * PHP and CGI read as the same variable, RFC 3875 §4.1.18; upper-case), is stripped on the relay, on
 * the hand-over server (HTTP/1.0 on a connection already handed over, checked through the edge's
 * handoffs count), over HTTP and HTTPS, and on WebSocket upgrades (RFC 6455 §4.1). A proxy's
 * trusted_request_headers lets exactly those names through, spelled with "-", as the client sent them,
 * and only for requests that came through a load balancer in PROXY_PROTOCOL_TRUSTED (here 127.0.0.9,
 * sending PROXY v1): the same headers sent straight from any other address are stripped. A PUT changes
 * the list for the next request.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { inTurnOn, openClient, startRawBackend, type RawBackend, type RawClientSource, type RawRequest } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import type { Scheme } from '../support/edge-clients.ts'
import { waitFor } from '../support/ports.ts'
import { CLIENT_ADDRESS, IDENTITY, PATH_OVERRIDES, spellingsOf } from './strip-list-names.ts'

const ALL = [...CLIENT_ADDRESS, ...IDENTITY, ...PATH_OVERRIDES]
const fold = (name: string) => name.trim().toLowerCase().replaceAll('_', '-')
const LISTED = new Set(ALL.map(fold))
const SPELLINGS = ['as documented', 'lower-case with "_"', 'upper-case'] as const

/** One field line per listed name in spelling `s`, each value naming its header and spelling (spoof:<name>:<s>). */
const spoofLines = (names: readonly string[], s: number) => names.map((name) => `${spellingsOf(name)[s]}: spoof:${fold(name)}:${s}\r\n`).join('')
/** Every spelling of each name, in turn. */
const allSpellings = (names: readonly string[]) => [0, 1, 2].map((s) => spoofLines(names, s)).join('')

/** The listed fields a backend received, as [folded name, value]; "name: a, b" (the hand-over path joins repeats) is split again. */
function listedAt(fields: readonly (readonly [string, string])[]): string[][] {
  return fields.filter(([name]) => LISTED.has(fold(name))).flatMap(([name, value]) => value.split(', ').map((one) => [fold(name), one]))
}

let edge: TestEdge
let backend: RawBackend
let wsBackend: ReturnType<typeof Bun.serve>
/** The upgrade requests the WebSocket backend accepted, as its runtime gives their headers. */
const upgrades: [string, string][][] = []
/** The same proxies on an edge with PROXY_PROTOCOL_TRUSTED=127.0.0.9/32: a load balancer there, anyone else straight. */
let balanced: TestEdge

const PLAIN = 'plain.test'
const CDN = 'cdn.test'
const LIVE = 'live.test'
const WS = 'ws.test'
const WS_CDN = 'ws-cdn.test'
const TRUSTED = ['CF-Connecting-IP', 'True-Client-IP']
/** The load balancer in PROXY_PROTOCOL_TRUSTED, in front of a client at 198.51.100.7. */
const BALANCER: RawClientSource = { localAddress: '127.0.0.9', proxyHeader: 'PROXY TCP4 198.51.100.7 127.0.0.1 40000 443\r\n' }
/**
 * How a request reaches an edge: `plain` to the edge that trusts no peer; to the balanced one, through
 * the trusted balancer or `direct` from an address in no trusted list (closed with a reset: the HTTPS
 * listener of an edge with trusted peers pipes to its TLS terminator and lingers on a FIN).
 */
type Sender = 'plain' | 'balancer' | 'direct'
const DIRECT: RawClientSource = { localAddress: '127.0.0.1' }
const edgeOf = (sender: Sender) => (sender === 'plain' ? edge : balanced)
const sourceOf = (sender: Sender) => (sender === 'plain' ? undefined : sender === 'balancer' ? BALANCER : DIRECT)
/** That listener's pipe is a hand-off of its own: one more on HTTPS to the balanced edge. */
const pipedHandoffs = (scheme: Scheme, sender: Sender) => (sender !== 'plain' && scheme === 'https' ? 1 : 0)

async function ok(response: Promise<Response>, status = 200): Promise<unknown> {
  const answered = await response
  if (answered.status !== status) throw new Error(`expected ${status}, got ${answered.status} ${await answered.text()}`)
  return answered.json()
}

beforeAll(async () => {
  ;[edge, balanced] = await Promise.all([startTestEdge(), startTestEdge({ PROXY_PROTOCOL_TRUSTED: '127.0.0.9/32' })])
  backend = startRawBackend({ answer: () => 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok' })
  wsBackend = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request, server) {
      upgrades.push([...request.headers])
      return server.upgrade(request, { data: undefined }) ? undefined : new Response('websocket only', { status: 426 })
    },
    websocket: { message: (ws, message) => void ws.send(message) },
  })
  for (const target of [edge, balanced]) {
    await target.createProxy(PLAIN, backend.url)
    await target.createProxy(LIVE, backend.url)
    await target.createProxy(CDN, backend.url, { trusted_request_headers: TRUSTED })
    await target.createProxy(WS, `http://127.0.0.1:${wsBackend.port}`)
    await target.createProxy(WS_CDN, `http://127.0.0.1:${wsBackend.port}`, { trusted_request_headers: TRUSTED })
    await target.server.edge.reconcile()
  }
})
afterAll(async () => {
  await Promise.all([edge.stop(), balanced.stop()])
  backend.stop()
  wsBackend.stop(true)
})

type Path = 'relay' | 'hand-over'
const PATHS: readonly Path[] = ['relay', 'hand-over']
const SCHEMES: readonly Scheme[] = ['http', 'https']

/**
 * One GET /strip with `lines` on a connection of its own: HTTP/1.1 on the relay (which keeps the
 * connection: handoffs stays 0); on the hand-over path, HTTP/1.0 after an absolute-form request
 * (RFC 9112 §3.2.2) that only the hand-over server reads, which hands the connection over (handoffs 1).
 * Answers the request as the backend received it.
 */
async function send(scheme: Scheme, host: string, path: Path, lines: string, sender: Sender = 'plain'): Promise<RawRequest> {
  const before = backend.requests.length
  const target = edgeOf(sender)
  const stats = () => target.server.edge.stats()
  const piped = pipedHandoffs(scheme, sender)
  await waitFor(() => stats().handoffs === 0, { timeoutMs: 3_000, what: `earlier hand-overs to end (${JSON.stringify(stats())})` })
  const client = await openClient(target, scheme, host, sourceOf(sender))
  try {
    if (path === 'hand-over') {
      const [carried] = await inTurnOn(client, [`GET ${scheme}://${host}/carrier HTTP/1.1\r\nHost: ${host}\r\n\r\n`])
      expect(carried!.status).toBe(200)
      expect({ path, handoffs: stats().handoffs }).toEqual({ path, handoffs: piped + 1 })
    }
    const version = path === 'relay' ? '1.1' : '1.0'
    const [reply] = await inTurnOn(client, [`GET /strip HTTP/${version}\r\nHost: ${host}\r\nX-Benign: kept\r\n${lines}CF-Ray: 8a1b-LHR\r\n\r\n`])
    expect(reply!.status).toBe(200)
    if (path === 'relay') expect({ path, handoffs: stats().handoffs }).toEqual({ path, handoffs: piped })
  } finally {
    client.close()
  }
  const arrived = backend.requests.slice(before).filter((request) => request.target === '/strip')
  expect(arrived).toHaveLength(1)
  return arrived[0]!
}

const valueOf = (request: RawRequest, name: string) => request.fields.filter(([field]) => fold(field) === name).map(([, value]) => value).join(', ')

describe('every listed header, in three spellings, is stripped', () => {
  for (const scheme of SCHEMES) {
    for (const path of PATHS) {
      for (const [s, spelling] of SPELLINGS.entries()) {
        test(`${scheme}, ${path}: ${ALL.length} names ${spelling} — none reaches the backend; the benign fields do`, async () => {
          const arrived = await send(scheme, PLAIN, path, spoofLines(ALL, s))
          expect(listedAt(arrived.fields)).toEqual([])
          expect(arrived.head).not.toContain('spoof:')
          expect([valueOf(arrived, 'x-benign'), valueOf(arrived, 'cf-ray')]).toEqual(['kept', '8a1b-LHR'])
        })
      }
    }
  }
})

describe("a proxy's trusted_request_headers lets exactly those through, from a trusted load balancer only", () => {
  /** What cdn.test's backend must get: the trusted names, "-" spellings (0 and 2) only, in order. */
  const expected = TRUSTED.flatMap((name) => [0, 2].map((s) => [fold(name), `spoof:${fold(name)}:${s}`])).sort()

  for (const scheme of SCHEMES) {
    for (const path of PATHS) {
      test(`${scheme}, ${path}: through the balancer, CF-Connecting-IP and True-Client-IP as sent; their "_" spellings, the other client-address names, identity and path overrides not`, async () => {
        const arrived = await send(scheme, CDN, path, allSpellings(ALL), 'balancer')
        expect(listedAt(arrived.fields).sort()).toEqual(expected)
        expect([valueOf(arrived, 'x-benign'), valueOf(arrived, 'cf-ray')]).toEqual(['kept', '8a1b-LHR'])
        // The client is the one the balancer's PROXY header names.
        expect(valueOf(arrived, 'x-real-ip')).toBe('198.51.100.7')
      })

      test(`${scheme}, ${path}: the same spoofed headers sent straight from an address outside PROXY_PROTOCOL_TRUSTED, or to an edge with no trusted peers, get none of them through`, async () => {
        for (const sender of ['direct', 'plain'] as const) {
          const arrived = await send(scheme, CDN, path, allSpellings(ALL), sender)
          expect({ sender, listed: listedAt(arrived.fields) }).toEqual({ sender, listed: [] })
          expect(arrived.head).not.toContain('spoof:')
          expect(valueOf(arrived, 'x-real-ip')).toBe('127.0.0.1')
        }
      })

      test(`${scheme}, ${path}: the same request through the balancer to a proxy that trusts nothing gets none of them`, async () => {
        const arrived = await send(scheme, PLAIN, path, allSpellings(ALL), 'balancer')
        expect(listedAt(arrived.fields)).toEqual([])
      })
    }
  }

  test('PUT /proxy/targets/{h} changes the list for the next request, on both paths; an empty list strips them again', async () => {
    const lines = allSpellings(CLIENT_ADDRESS)
    for (const path of PATHS) expect({ path, listed: listedAt((await send('http', LIVE, path, lines, 'balancer')).fields) }).toEqual({ path, listed: [] })

    const updated = (await ok(balanced.api('PUT', `/proxy/targets/${LIVE}`, { trusted_request_headers: ['Fastly-Client-IP', 'X-Client-IP'] }))) as { trusted_request_headers: string[] }
    expect(updated.trusted_request_headers).toEqual(['fastly-client-ip', 'x-client-ip'])
    await balanced.server.edge.reconcile()
    const admitted = ['fastly-client-ip', 'x-client-ip'].flatMap((name) => [0, 2].map((s) => [name, `spoof:${name}:${s}`])).sort()
    for (const path of PATHS) expect({ path, listed: listedAt((await send('http', LIVE, path, lines, 'balancer')).fields).sort() }).toEqual({ path, listed: admitted })

    await ok(balanced.api('PUT', `/proxy/targets/${LIVE}`, { trusted_request_headers: [] }))
    await balanced.server.edge.reconcile()
    for (const path of PATHS) expect({ path, listed: listedAt((await send('http', LIVE, path, lines, 'balancer')).fields) }).toEqual({ path, listed: [] })
  })
})

describe('WebSocket upgrades (RFC 6455 §4.1): the upgrade request is stripped the same way', () => {
  const upgradeRequest = (host: string, lines: string) =>
    `GET /socket HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Benign: kept\r\n${lines}\r\n`

  /** Sends the upgrade, expects 101, and answers the headers the backend's upgrade request carried. */
  async function upgrade(scheme: Scheme, host: string, lines: string, sender: Sender = 'plain'): Promise<[string, string][]> {
    const before = upgrades.length
    const client = await openClient(edgeOf(sender), scheme, host, sourceOf(sender))
    try {
      client.write(upgradeRequest(host, lines))
      const head = await client.until((bytes) => {
        const text = Buffer.from(bytes).toString('latin1')
        const end = text.indexOf('\r\n\r\n')
        return end !== -1 && text.slice(0, end)
      }, 'the upgrade answer')
      expect(head).toStartWith('HTTP/1.1 101 ')
    } finally {
      client.close()
    }
    expect(upgrades.length).toBe(before + 1)
    return upgrades.at(-1)!
  }

  for (const scheme of SCHEMES) {
    for (const [s, spelling] of SPELLINGS.entries()) {
      test(`${scheme}: ${ALL.length} names ${spelling} — none reaches the backend's upgrade request`, async () => {
        const arrived = await upgrade(scheme, WS, spoofLines(ALL, s))
        expect(listedAt(arrived)).toEqual([])
        expect(arrived.find(([name]) => name === 'x-benign')?.[1]).toBe('kept')
      })
    }

    test(`${scheme}: a proxy trusting CF-Connecting-IP and True-Client-IP passes exactly those ("-" spellings) through the balancer, none straight from an untrusted address`, async () => {
      const arrived = await upgrade(scheme, WS_CDN, allSpellings(ALL), 'balancer')
      expect(listedAt(arrived).sort()).toEqual(TRUSTED.flatMap((name) => [0, 2].map((s) => [fold(name), `spoof:${fold(name)}:${s}`])).sort())
      expect(listedAt(await upgrade(scheme, WS_CDN, allSpellings(ALL), 'direct'))).toEqual([])
      expect(listedAt(await upgrade(scheme, WS_CDN, allSpellings(ALL), 'plain'))).toEqual([])
    })
  }
})
