/**
 * Adversarial review: a proxy's custom header wins over the client's copy of it, "_" counting as "-"
 * (site.ts: "a client's X_Team must not arrive beside (or as) the proxy's X-Team", because WSGI, PHP and
 * others fold both into HTTP_X_TEAM). The relay folds both sides. The hand-over server folds only the
 * client's names (headers.ts buildUpstreamHeaders: customNames are lower-cased, not folded), so for a
 * custom header *named* with "_" (X_Team) the client's X-Team arrives beside it: the backend reads
 * whichever its framework keeps, and a client can set a header the operator meant to own.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startRawBackend, type RawBackend } from '../fixtures/raw-backends.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { parseResponses, tcpExchange } from '../support/edge-clients.ts'

let edge: TestEdge
let backend: RawBackend

beforeAll(async () => {
  edge = await startTestEdge()
  backend = startRawBackend({ answer: () => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok' })
  await edge.createProxy('underscore.test', backend.url, { custom_headers: { X_Team: 'proxy' } })
  await edge.createProxy('dash.test', backend.url, { custom_headers: { 'X-Team': 'proxy' } })
})
afterAll(async () => {
  await edge.stop()
  backend.stop()
})

/** The X-Team / X_Team fields the backend received for one request, names folded, values in order. */
async function teamFields(version: '1.1' | '1.0', host: string, clientField: string): Promise<string[]> {
  const target = `/${host}/${version}/${clientField.slice(0, 6)}`
  const [reply] = parseResponses(await tcpExchange(edge.httpPort, [`GET ${target} HTTP/${version}\r\nHost: ${host}\r\n${clientField}\r\nConnection: close\r\n\r\n`]))
  expect(reply?.status).toBe(200)
  const request = backend.requests.find((candidate) => candidate.target === target)!
  return request.fields.filter(([name]) => name.toLowerCase().replaceAll('_', '-') === 'x-team').map(([, value]) => value)
}

describe("review: the client's copy of a custom header never arrives beside the proxy's, whatever the spelling", () => {
  for (const [path, version] of [['relay', '1.1'], ['hand-over server', '1.0']] as const) {
    for (const [host, clientField] of [
      ['underscore.test', 'X-Team: client'],
      ['underscore.test', 'X_Team: client'],
      ['dash.test', 'X-Team: client'],
      ['dash.test', 'X_Team: client'],
    ] as const) {
      test(`${path}: ${host} (custom ${host === 'dash.test' ? 'X-Team' : 'X_Team'}), client sends ${clientField} → only the proxy's value`, async () => {
        expect(await teamFields(version, host, clientField)).toEqual(['proxy'])
      })
    }
  }
})
