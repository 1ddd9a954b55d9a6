/**
 * Adversarial review 2: the CLI against a hostile or broken server (a fake API on loopback). Text a server
 * sends must reach the terminal without control characters (an OSC/CSI sequence can retitle the window,
 * clear the screen, or on some terminals write files or fake a prompt); odd answers must fail with one line
 * and a non-zero exit; a token must never be printed nor follow a redirect.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cleanupSpawned, makeTempDir, runCli } from '../support/serve.ts'

/** OSC 0 (set the window title) ended by BEL, then CSI 2J (clear the screen). */
const ESC = '\x1b]0;pwned\x07\x1b[2J'
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/
const TOKEN = 'review2-secret-token-0123456789'

let api: ReturnType<typeof Bun.serve>
let elsewhere: ReturnType<typeof Bun.serve>
let elsewhereRequests: { path: string; authorization: string | null }[] = []
let dir = ''
/** Every request the fake API received: method and path as it arrived. */
let received: string[] = []

const emptyPlan = { create: [], update: [], delete: [], unchanged: 0 }
const routes: Record<string, (request: Request) => Response> = {
  'GET /certificates/evil/status': () => Response.json({ status: 'failed', error: `the CA said ${ESC}no`, not_after: null }),
  'GET /certificates/evil': () =>
    Response.json({ cert_name: 'evil', domains: ['evil.test'], status: 'issued', used_by: [`p${ESC}.test`], certificate_pem: `-----BEGIN CERTIFICATE-----\n${ESC}\n-----END CERTIFICATE-----\n` }),
  'DELETE /certificates/evil': () => new Response(null, { status: 204 }),
  'POST /system/config': () =>
    Response.json({
      dry_run: false,
      changed: true,
      warnings: [`look ${ESC}here`],
      plan: { proxies: { ...emptyPlan, create: [`evil${ESC}.test`] }, routes: emptyPlan, services: { external: emptyPlan }, oauth_clients: emptyPlan },
    }),
  // A captive portal, a login page, the wrong --url: 200 and HTML.
  'GET /proxy/targets': () => new Response('<html><body>Welcome to the hotel Wi-Fi</body></html>', { headers: { 'content-type': 'text/html' } }),
  'GET /certificates': () => new Response('<html><body>Welcome to the hotel Wi-Fi</body></html>', { headers: { 'content-type': 'text/html' } }),
  'GET /certificates/empty': () => new Response('', { status: 200 }),
  // A reverse proxy in front of the API that echoes the request in its error page.
  'GET /certificates/echo': (request) => Response.json({ error: 'invalid_token', error_description: `rejected ${request.headers.get('authorization')}` }, { status: 401 }),
  'GET /certificates/moved': () => new Response(null, { status: 307, headers: { location: `http://127.0.0.1:${elsewhere.port}/certificates/moved` } }),
}

beforeAll(() => {
  dir = makeTempDir('ohp-review2-cli-')
  elsewhere = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      elsewhereRequests.push({ path: new URL(request.url).pathname, authorization: request.headers.get('authorization') })
      return Response.json({ cert_name: 'moved', domains: [], status: 'issued', used_by: [], certificate_pem: null })
    },
  })
  api = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch(request) {
      received.push(`${request.method} ${new URL(request.url).pathname}`)
      const route = routes[`${request.method} ${new URL(request.url).pathname}`]
      return route ? route(request) : Response.json({ error: 'not_found', error_description: 'no such thing' }, { status: 404 })
    },
  })
})
afterAll(async () => {
  api?.stop(true)
  elsewhere?.stop(true)
  await cleanupSpawned()
})

const cli = (args: string[]) =>
  runCli([...args, '--url', `http://127.0.0.1:${api.port}`, '--token', TOKEN], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, NO_COLOR: '1' }, timeoutMs: 15_000 })

describe('server text never carries a control sequence to the terminal', () => {
  test('cert status --wait: a failed order\'s error (the CA\'s words, relayed by the server)', async () => {
    const result = await cli(['cert', 'status', 'evil', '--wait=2'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('the CA said')
    expect(CONTROL.test(result.stderr)).toBe(false)
  })

  test('cert delete: the proxies named in used_by', async () => {
    const result = await cli(['cert', 'delete', 'evil'])
    expect(result.code).toBe(0)
    expect(CONTROL.test(result.stderr)).toBe(false)
  })

  test('system config import: the plan\'s ids (table and --quiet) and the warnings', async () => {
    const file = join(dir, 'doc.json')
    writeFileSync(file, JSON.stringify({ format: 'oauth-https-proxy/config', version: 1 }))
    for (const extra of [[], ['--quiet']]) {
      const result = await cli(['system', 'config', 'import', file, ...extra])
      expect(result.code).toBe(0)
      expect([extra.join(' '), CONTROL.test(result.stdout), CONTROL.test(result.stderr)]).toEqual([extra.join(' '), false, false])
    }
  })

  test('cert show --pem: a "chain" that is not PEM (control characters) is refused rather than printed', async () => {
    const result = await cli(['cert', 'show', 'evil', '--pem'])
    expect(CONTROL.test(result.stdout.replaceAll('\n', ''))).toBe(false)
  })
})

describe('odd answers fail with one line and a non-zero exit', () => {
  test('200 with an HTML page to a listing → exit 1 naming the answer, not "no proxies" with exit 0', async () => {
    // printJsonOrTable treats any non-array as no rows: a script running `proxy list --quiet` behind a captive
    // portal (or with a wrong --url) learns "there are none" and exit 0.
    for (const args of [['proxy', 'list'], ['proxy', 'list', '--quiet'], ['cert', 'list']]) {
      const result = await cli(args)
      expect([args.join(' '), result.code]).toEqual([args.join(' '), 1])
    }
  })

  test('200 with an empty body where a record is expected → one line, no stack trace', async () => {
    const result = await cli(['cert', 'show', 'empty'])
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).not.toContain('TypeError')
  })
})

describe('tokens', () => {
  test('an error that echoes the Authorization header does not print the token', async () => {
    const result = await cli(['cert', 'show', 'echo'])
    expect(result.code).toBe(3)
    expect(result.stdout + result.stderr).not.toContain(TOKEN)
  })

  test('held up: a redirect to another address is not followed (the token stays with the server it was given for)', async () => {
    elsewhereRequests = []
    const result = await cli(['cert', 'show', 'moved'])
    expect(result.code).not.toBe(0)
    expect(elsewhereRequests).toEqual([])
  })
})

describe('names that are dot segments', () => {
  test('cert show|delete|export and proxy delete with "." or ".." → exit 2 before any request (the URL parser turns them into another endpoint)', async () => {
    // apiPath leaves "." and ".." as they are and fetch resolves them: `cert show .` printed the whole list
    // (GET /certificates/) with exit 0, `cert delete .` sent DELETE /certificates/, `cert export .` crashed
    // with a TypeError and left a 0-byte temp file, `proxy delete ..` sent DELETE /proxy/.
    for (const args of [['cert', 'show', '.'], ['cert', 'delete', '.'], ['cert', 'export', '.', '-o', dir], ['proxy', 'delete', '..'], ['cert', 'show', '..']]) {
      received = []
      const result = await cli(args)
      expect([args.join(' '), result.code, received]).toEqual([args.join(' '), 2, []])
    }
  })
})

describe('held up: YAML given to system config import', () => {
  test('a billion-laughs file → exit 1 with one line, nothing sent', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`)
    const file = join(dir, 'bomb.yaml')
    writeFileSync(file, `format: oauth-https-proxy/config\nversion: 1\n${levels.join('\n')}\n`)
    received = []
    const result = await cli(['system', 'config', 'import', file])
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(received).toEqual([])
  })
})
