/**
 * The parts behind test/cli/review2-cli.test.ts, one by one: apiPath refuses dot segments, registered
 * tokens never survive printable/sanitize/printJson, a 2xx that is not JSON fails with one line naming
 * URL, status and content type (text only where asked for), listings and records refuse the wrong
 * shape, and the atomic writer leaves no temp file behind on any failure.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  apiPath,
  CliError,
  createApiClient,
  createCredentialStore,
  keepSecret,
  printable,
  printJson,
  printJsonOrTable,
  printRecord,
  redact,
  sanitize,
  writeFileAtomically,
  type Terminal,
} from '../../src/cli/client/index.ts'

let api: ReturnType<typeof Bun.serve>
let home = ''

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'ohp-review2-fixes-'))
  api = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname
      if (path === '/html') return new Response('<html>portal</html>', { headers: { 'content-type': 'text/html' } })
      if (path === '/empty') return new Response('')
      if (path === '/yaml') return new Response('format: x\n', { headers: { 'content-type': 'application/yaml' } })
      if (path === '/gone') return new Response(null, { status: 204 })
      return Response.json({ ok: true })
    },
  })
})
afterAll(() => {
  api?.stop(true)
  rmSync(home, { recursive: true, force: true })
})

const client = () => createApiClient({ url: `http://127.0.0.1:${api.port}`, token: 'fixes-token-0123456789' }, { env: {}, credentials: createCredentialStore({ HOME: home }) })

async function failure(work: () => unknown): Promise<CliError> {
  try {
    await work()
  } catch (error) {
    if (error instanceof CliError) return error
    throw error
  }
  throw new Error('expected a CliError')
}

describe('apiPath', () => {
  test('"", "." and ".." are refused with exit 2; other names are encoded as one segment', async () => {
    for (const name of ['', '.', '..']) expect((await failure(() => apiPath`/certificates/${name}`)).exitCode).toBe(2)
    expect(apiPath`/certificates/${'...'}`).toBe('/certificates/...')
    expect(apiPath`/certificates/${'a/../b'}`).toBe('/certificates/a%2F..%2Fb')
  })
})

describe('tokens are never printed', () => {
  test('a registered token is replaced in printable, sanitize, redact and printJson', () => {
    keepSecret('registered-secret-42')
    keepSecret('short')
    expect(printable('rejected Bearer registered-secret-42')).toBe('rejected Bearer [token]')
    expect(sanitize('x registered-secret-42 y')).toBe('x [token] y')
    expect(redact('a short word')).toBe('a short word')
    let written = ''
    const terminal: Terminal = { write: (text) => void (written += text), isTTY: false, columns: undefined, color: false }
    printJson({ echo: 'registered-secret-42' }, terminal)
    expect(written).not.toContain('registered-secret-42')
  })

  test('the --token of a client is registered as soon as the client exists', () => {
    client()
    expect(printable('Bearer fixes-token-0123456789')).toBe('Bearer [token]')
  })
})

describe('2xx answers must be JSON', () => {
  test('HTML and an empty body fail with exit 1 naming the URL, the status and the content type', async () => {
    const html = await failure(() => client().get('/html'))
    expect([html.exitCode, html.message]).toEqual([1, `unexpected answer from http://127.0.0.1:${api.port}/html: 200 with a body that is not a JSON object or array (text/html)`])
    const empty = await failure(() => client().get('/empty'))
    expect(empty.message).toContain('200 with an empty body')
  })

  test('text is taken where asked for; 204 is null; JSON as it is', async () => {
    expect(await client().get('/yaml', undefined, 'text')).toBe('format: x\n')
    expect((await failure(() => client().get('/yaml'))).exitCode).toBe(1)
    expect(await client().delete('/gone')).toBeNull()
    expect(await client().get('/json')).toEqual({ ok: true })
  })

  test('a listing refuses anything but an array; a record anything but an object', async () => {
    const terminal: Terminal = { write: () => {}, isTTY: false, columns: undefined, color: false }
    for (const value of [{}, 'text', null]) {
      expect((await failure(() => printJsonOrTable(value, [{ key: 'id', header: 'id' }], { terminal }))).message).toContain('expected a list')
      expect((await failure(() => printJsonOrTable(value, [{ key: 'id', header: 'id' }], { terminal, json: true }))).exitCode).toBe(1)
    }
    for (const value of [[], 'text', null]) expect((await failure(() => printRecord(value as never, { terminal }))).message).toContain('expected an object')
  })
})

describe('writeFileAtomically', () => {
  test('a failed write leaves no temp file behind', async () => {
    const dir = mkdtempSync(join(home, 'write-'))
    const error = await failure(() => writeFileAtomically(join(dir, 'x.crt'), Symbol('not text') as never, 0o600))
    expect(error.message).toStartWith(`cannot write ${join(dir, 'x.crt')}`)
    expect(readdirSync(dir)).toEqual([])
  })

  test('a failed rename leaves no temp file behind', async () => {
    const dir = mkdtempSync(join(home, 'rename-'))
    // The target is a non-empty directory: rename fails after the temp file was written.
    mkdtempSync(join(dir, 'x.crt'))
    const target = readdirSync(dir)[0]!
    writeFileAtomically(join(dir, target, 'inner'), 'x', 0o600)
    await failure(() => writeFileAtomically(join(dir, target), 'text', 0o600))
    expect(readdirSync(dir)).toEqual([target])
  })
})
