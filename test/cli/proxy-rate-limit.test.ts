/** `proxy create|update --rate-limit RPS,BURST|none` against a real server: the field the API stores, a usage error before any request, the API's 400. */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { apiJson, createCliRunner, expectFailure, type CliRunner } from './commands-cli.ts'

let edge: TestEdge
let cli: CliRunner

beforeAll(async () => {
  edge = await startTestEdge()
  cli = createCliRunner(edge.server.apiUrl, edge.adminToken)
})
afterAll(async () => {
  cli.cleanup()
  await edge.stop()
})

type Proxy = Record<string, unknown> & { rate_limit: unknown }

describe('proxy --rate-limit', () => {
  test('create sets rate_limit, update changes it, none lifts it', async () => {
    const created = await cli.json<Proxy>(['proxy', 'create', '--hostname', 'limited.example.com', '--target-url', 'http://127.0.0.1:3000', '--rate-limit', '10,20', '--json'])
    expect(created.rate_limit).toEqual({ requests_per_second: 10, burst: 20 })
    const updated = await cli.json<Proxy>(['proxy', 'update', 'limited.example.com', '--rate-limit', ' 0.5 , 5 ', '--json'])
    expect(updated.rate_limit).toEqual({ requests_per_second: 0.5, burst: 5 })
    expect((await apiJson<Proxy>(edge, '/proxy/targets/limited.example.com')).rate_limit).toEqual({ requests_per_second: 0.5, burst: 5 })
    const lifted = await cli.json<Proxy>(['proxy', 'update', 'limited.example.com', '--rate-limit', 'none', '--json'])
    expect(lifted.rate_limit).toBeNull()
  })

  test('a malformed value exits 2 before any request; numbers the API refuses exit 1 with its field', async () => {
    for (const bad of ['10', '10/s,20', 'fast', '10,20,30']) expectFailure(await cli.run(['proxy', 'update', 'limited.example.com', '--rate-limit', bad]), 2, /--rate-limit: expected REQUESTS_PER_SECOND,BURST such as 10,20, or none/)
    expectFailure(await cli.run(['proxy', 'update', 'limited.example.com', '--rate-limit', '10,0.5']), 1, /^oauth-https-proxy: 400 invalid_request: field rate_limit\.burst: expected a whole number of requests/)
    expectFailure(await cli.run(['proxy', 'update', 'limited.example.com', '--rate-limit', '0,5']), 1, /field rate_limit\.requests_per_second: expected more than 0/)
  })
})
