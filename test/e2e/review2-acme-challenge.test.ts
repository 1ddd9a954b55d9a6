/**
 * Adversarial review 2: the HTTP-01 answer (decide.ts challengeAnswer, relay.ts requestLineOf) against
 * request-target and Host tricks. The edge must answer a pending key authorization only for
 * `GET|HEAD /.well-known/acme-challenge/<token>` on the challenge's own host (RFC 8555 §8.3), and nothing
 * a client sends may make it answer on another host or with another body.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { createChallengeStore, type ChallengeStore } from '../../src/certs/index.ts'
import { startTaggedBackend } from '../fixtures/backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { parseResponses, tcpExchange } from '../support/edge-clients.ts'

let edge: TestEdge
let backend: Server<undefined>
let challenges: ChallengeStore
const TOKEN = 'rev2_0123456789abcdefABCDEF-xyz'
const KEY_AUTHORIZATION = `${TOKEN}.thumbprint-of-the-account-key`
const PATH = `/.well-known/acme-challenge/${TOKEN}`

beforeAll(async () => {
  edge = await startTestEdge()
  backend = startTaggedBackend('backend')
  const url = `http://127.0.0.1:${backend.port}`
  await edge.createProxy('a.test', url)
  await edge.createProxy('b.test', url)
  challenges = createChallengeStore(edge.server.store, edge.server.bus)
  await challenges.set({ token: TOKEN, key_authorization: KEY_AUTHORIZATION, domain: 'a.test' }, 600)
})
afterAll(async () => {
  await challenges?.clear(TOKEN)
  await edge?.stop()
  backend?.stop(true)
})

const send = async (head: string) => {
  const replies = parseResponses(await tcpExchange(edge.httpPort, [head], { timeoutMs: 3_000 }))
  return replies[0] ?? { status: 0, text: '', headers: {} as Record<string, string> }
}
const answered = (reply: { status: number; text: string }) => reply.status === 200 && reply.text === KEY_AUTHORIZATION

describe('held up: equivalent spellings of the challenge\'s own host are answered, others are not', () => {
  test('Host with upper case, a trailing dot or a port → the key authorization (the same name)', async () => {
    for (const host of ['A.TEST', 'a.test.', 'a.test:80', 'a.test.:8080']) {
      expect([host, answered(await send(`GET ${PATH} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`))]).toEqual([host, true])
    }
  })

  test('another proxy\'s host, a sub-domain, a suffix or a host-less HTTP/1.0 request → never the key authorization', async () => {
    for (const host of ['b.test', 'x.a.test', 'a.test.evil', 'a.tes']) {
      expect([host, answered(await send(`GET ${PATH} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`))]).toEqual([host, false])
    }
    expect(answered(await send(`GET ${PATH} HTTP/1.0\r\n\r\n`))).toBe(false)
  })

  test('POST, a longer path, an encoded slash or a token with a suffix → decided like any request', async () => {
    const cases = [
      `POST ${PATH} HTTP/1.1\r\nHost: a.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      `GET ${PATH}/x HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`,
      `GET /.well-known/acme-challenge%2F${TOKEN} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`,
      `GET ${PATH}%00 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`,
    ]
    for (const request of cases) expect([request.split('\r\n')[0], answered(await send(request))]).toEqual([request.split('\r\n')[0], false])
  })

  test('HEAD → 200 without the body; a query string is ignored (RFC 8555 §8.3 names the path)', async () => {
    const raw = Buffer.from(await tcpExchange(edge.httpPort, [`HEAD ${PATH} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`], { timeoutMs: 3_000 })).toString('latin1')
    expect(raw.startsWith('HTTP/1.1 200')).toBe(true)
    expect(raw.slice(raw.indexOf('\r\n\r\n') + 4)).toBe('')
    expect(answered(await send(`GET ${PATH}?x=1 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`))).toBe(true)
  })

  test('absolute-form naming the challenge\'s host → answered (HTTP/1.1 and HTTP/1.0)', async () => {
    expect(answered(await send(`GET http://a.test${PATH} HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`))).toBe(true)
    expect(answered(await send(`GET http://a.test${PATH} HTTP/1.0\r\nHost: a.test\r\n\r\n`))).toBe(true)
  })
})

describe('RFC 9112 §3.2.2: in absolute-form the authority is the target host, whatever Host says', () => {
  test('absolute-form naming another host (b.test) with Host: a.test → never a.test\'s key authorization', async () => {
    // The relay's hand-over path answers challenges from requestLineOf (authority dropped) and the lenient
    // reader's Host: a request for b.test got a.test's key authorization.
    for (const version of ['1.1', '1.0']) {
      const reply = await send(`GET http://b.test${PATH} HTTP/${version}\r\nHost: a.test\r\nConnection: close\r\n\r\n`)
      expect([version, answered(reply)]).toEqual([version, false])
    }
  })

  test('absolute-form naming the challenge\'s host (a.test) with Host: b.test → answered, or refused; never b.test\'s backend', async () => {
    const reply = await send(`GET http://a.test${PATH} HTTP/1.1\r\nHost: b.test\r\nConnection: close\r\n\r\n`)
    expect(reply.text).not.toBe('backend')
  })
})
