/**
 * trusted_request_headers as a proxy setting (issue #13): only client-address headers may be listed —
 * identity headers (X-Auth-*, Remote-*, X-Forwarded-User, …), path overrides and the forwarding fields
 * the edge itself sets never — and a bad name is a 400 naming the field; names are stored lower-case.
 * It is a proxy field like any other, so POST and PUT /proxy/targets, the configuration export and
 * import, and `oauth-https-proxy proxy create|update --trusted-request-headers` all carry it; the PUT
 * keeps its 401/403/404 answers (RFC 6750 §3.1).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createCliRunner, expectFailure, type CliRunner } from '../cli/commands-cli.ts'
import { exportDocument, importDocument, tokenWith } from '../support/configured-edge.ts'
import { startTestEdge, type TestEdge } from '../support/edge.ts'
import { CLIENT_ADDRESS, IDENTITY, PATH_OVERRIDES } from './strip-list-names.ts'

let edge: TestEdge
let other: TestEdge
let cli: CliRunner

beforeAll(async () => {
  ;[edge, other] = await Promise.all([startTestEdge(), startTestEdge()])
  cli = createCliRunner(edge.server.apiUrl, edge.adminToken)
})
afterAll(async () => {
  cli.cleanup()
  await Promise.all([edge.stop(), other.stop()])
})

type Proxy = { proxy_hostname: string; trusted_request_headers: string[] } & Record<string, unknown>
const BACKEND = 'http://127.0.0.1:9'
const FIELD = 'field trusted_request_headers'
const describeError = async (response: Response) => ((await response.json()) as { error_description: string }).error_description
const get = async (hostname: string) => (await (await edge.api('GET', `/proxy/targets/${hostname}`)).json()) as Proxy

/** Lists that must be refused, with why. */
const REFUSED: readonly (readonly [string, unknown])[] = [
  ...IDENTITY.map((name) => [`identity header ${name}`, [name]] as const),
  ...PATH_OVERRIDES.map((name) => [`path override ${name}`, [name]] as const),
  ...['X-Forwarded-For', 'X-Real-IP', 'Forwarded', 'X-Forwarded-Proto', 'X-Forwarded-Host'].map((name) => [`forwarding field ${name} (the edge sets it)`, [name]] as const),
  ['a client-address name spelled with "_" (a CDN never sends it so)', ['CF_Connecting_IP']],
  ['a trusted name beside an identity one', ['CF-Connecting-IP', 'X-Remote-User']],
  ['an unrelated header', ['X-Custom']],
  ['an empty name', ['']],
  ['a name that is not a string', [7]],
  ['a string instead of a list', 'CF-Connecting-IP'],
  ['null', null],
  ['more names than the family has', Array.from({ length: CLIENT_ADDRESS.length + 1 }, () => 'CF-Connecting-IP')],
]

describe('POST and PUT /proxy/targets', () => {
  test('the default is the empty list; names are stored lower-case', async () => {
    await edge.createProxy('default.example.com', BACKEND)
    expect((await get('default.example.com')).trusted_request_headers).toEqual([])
    await edge.createProxy('cdn.example.com', BACKEND, { trusted_request_headers: ['CF-Connecting-IP', 'true-client-ip'] })
    expect((await get('cdn.example.com')).trusted_request_headers).toEqual(['cf-connecting-ip', 'true-client-ip'])
  })

  test('every client-address header may be trusted, in any case', async () => {
    const response = await edge.api('PUT', '/proxy/targets/cdn.example.com', { trusted_request_headers: CLIENT_ADDRESS.map((name) => name.toUpperCase()) })
    expect(response.status).toBe(200)
    expect(((await response.json()) as Proxy).trusted_request_headers).toEqual(CLIENT_ADDRESS.map((name) => name.toLowerCase()))
  })

  test('anything else → 400 naming trusted_request_headers, on POST and PUT; a refused PUT changes nothing', async () => {
    await edge.api('PUT', '/proxy/targets/cdn.example.com', { trusted_request_headers: ['CF-Connecting-IP'] })
    for (const [why, list] of REFUSED) {
      const created = await edge.api('POST', '/proxy/targets', { proxy_hostname: 'refused.example.com', target_url: BACKEND, trusted_request_headers: list })
      expect({ why, status: created.status }).toEqual({ why, status: 400 })
      expect({ why, error: (await describeError(created)).slice(0, FIELD.length) }).toEqual({ why, error: FIELD })
      const updated = await edge.api('PUT', '/proxy/targets/cdn.example.com', { trusted_request_headers: list })
      expect({ why, status: updated.status }).toEqual({ why, status: 400 })
      expect({ why, error: (await describeError(updated)).slice(0, FIELD.length) }).toEqual({ why, error: FIELD })
    }
    expect((await edge.api('GET', '/proxy/targets/refused.example.com')).status).toBe(404)
    expect((await get('cdn.example.com')).trusted_request_headers).toEqual(['cf-connecting-ip'])
  })

  test('the refusal says which name and what may be listed instead', async () => {
    const response = await edge.api('PUT', '/proxy/targets/cdn.example.com', { trusted_request_headers: ['X-Remote-User'] })
    const error = await describeError(response)
    expect(error).toContain('"X-Remote-User" cannot be trusted')
    expect(error).toContain('cf-connecting-ip')
  })

  test('RFC 6750 §3.1: the PUT without a token → 401, with a user-scope token → 403; an unknown proxy → 404', async () => {
    const body = JSON.stringify({ trusted_request_headers: ['CF-Connecting-IP'] })
    const put = (headers: Record<string, string>, hostname = 'cdn.example.com') => fetch(`${edge.server.apiUrl}/proxy/targets/${hostname}`, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body })
    expect((await put({})).status).toBe(401)
    expect((await put({ authorization: `Bearer ${await tokenWith(edge, ['user'])}` })).status).toBe(403)
    expect((await put({ authorization: `Bearer ${edge.adminToken}` }, 'missing.example.com')).status).toBe(404)
  })
})

describe('configuration export and import', () => {
  test('the export carries the list and an import on another server sets it', async () => {
    await edge.api('PUT', '/proxy/targets/cdn.example.com', { trusted_request_headers: ['CF-Connecting-IP', 'Fastly-Client-IP'] })
    const document = (await exportDocument(edge)) as { proxies: Proxy[] }
    expect(document.proxies.find((proxy) => proxy.proxy_hostname === 'cdn.example.com')?.trusted_request_headers).toEqual(['cf-connecting-ip', 'fastly-client-ip'])
    const imported = await importDocument(other, document)
    expect(imported.status).toBe(200)
    const copy = (await (await other.api('GET', '/proxy/targets/cdn.example.com')).json()) as Proxy
    expect(copy.trusted_request_headers).toEqual(['cf-connecting-ip', 'fastly-client-ip'])
  })

  test('an import listing an identity header → 400 naming its path, and nothing changes', async () => {
    const document = (await exportDocument(edge)) as { proxies: Proxy[] }
    const index = document.proxies.findIndex((proxy) => proxy.proxy_hostname === 'cdn.example.com')
    document.proxies[index]!.trusted_request_headers = ['CF-Connecting-IP', 'X-Forwarded-User']
    const response = await importDocument(other, document)
    expect(response.status).toBe(400)
    expect(await describeError(response)).toContain(`proxies[${index}].trusted_request_headers[1]`)
    expect(((await (await other.api('GET', '/proxy/targets/cdn.example.com')).json()) as Proxy).trusted_request_headers).toEqual(['cf-connecting-ip', 'fastly-client-ip'])
  })
})

describe('oauth-https-proxy proxy create|update --trusted-request-headers', () => {
  test('create sends the list (comma-separated and repeated)', async () => {
    const created = await cli.json<Proxy>(['proxy', 'create', '--hostname', 'cli.example.com', '--target-url', BACKEND, '--trusted-request-headers', 'CF-Connecting-IP,True-Client-IP', '--trusted-request-headers', 'Fastly-Client-IP', '--json'])
    expect(created.trusted_request_headers).toEqual(['cf-connecting-ip', 'true-client-ip', 'fastly-client-ip'])
  })

  test('update replaces the list; "none" empties it; other settings stay', async () => {
    const updated = await cli.json<Proxy>(['proxy', 'update', 'cli.example.com', '--trusted-request-headers', 'X-Client-IP', '--json'])
    expect(updated).toMatchObject({ trusted_request_headers: ['x-client-ip'], target_url: BACKEND })
    const emptied = await cli.json<Proxy>(['proxy', 'update', 'cli.example.com', '--trusted-request-headers', 'none', '--json'])
    expect(emptied.trusted_request_headers).toEqual([])
  })

  test("an identity header → exit 1 with the API's 400 naming the field", async () => {
    expectFailure(await cli.run(['proxy', 'update', 'cli.example.com', '--trusted-request-headers', 'X-Remote-User']), 1, /^oauth-https-proxy: 400 invalid_request: field trusted_request_headers/)
    expect((await get('cli.example.com')).trusted_request_headers).toEqual([])
  })
})
