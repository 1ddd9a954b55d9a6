/**
 * `oauth-https-proxy cert …` against a real server process whose production CA is Pebble and whose staging
 * CA refuses: every command with --json compared with the API, --wait through an issuance, a failure (exit 1
 * with the CA's words) and the time limit, export files 0600 (the key only with --include-key and the admin
 * scope), and exit codes 2 (wrong argument), 3 (user token on a write), 4 (missing), 1 (the API's 400).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startCertificateServer, REFUSAL_DETAIL, type CertificateServer } from '../support/certificate-server.ts'
import { waitFor } from '../support/ports.ts'
import { baseEnv, cleanupSpawned, MAIN, REPO_ROOT } from '../support/serve.ts'
import { createCliRunner, expectFailure, type CliRunner } from './commands-cli.ts'

let edge: CertificateServer
let cli: CliRunner
let exportDir: string

beforeAll(async () => {
  edge = await startCertificateServer()
  cli = createCliRunner(edge.url, edge.adminToken)
  exportDir = mkdtempSync(join(tmpdir(), 'ohp-cert-export-'))
}, 60_000)
afterAll(async () => {
  cli?.cleanup()
  rmSync(exportDir, { recursive: true, force: true })
  await edge?.stop()
  await cleanupSpawned()
})

async function apiJson<T = Record<string, unknown>>(path: string): Promise<T> {
  const response = await edge.api('GET', path)
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

const ISSUED_LINE = /^certificate app\.test: issued, valid until \d{4}-\d\d-\d\dT[\d:.]+Z\n$/

describe('create, status, show, list', () => {
  test('create --wait into a pipe: one final line on stderr, then the certificate as a record (no PEM)', async () => {
    const result = await cli.run(['cert', 'create', '--domain', 'app.test', '--domain', 'www.app.test', '--wait'])
    expect(result.code).toBe(0)
    expect(result.stderr).toMatch(ISSUED_LINE)
    expect(result.stdout).toMatch(/^cert_name: +app\.test\n/m)
    expect(result.stdout).toMatch(/^status: +issued$/m)
    expect(result.stdout).toMatch(/^domains: +app\.test, www\.app\.test$/m)
    expect(result.stdout).not.toContain('certificate_pem')
    expect(result.stdout).not.toContain('BEGIN')
  })

  test('create --json without --wait is the API\'s 202 answer: pending, named after the first domain', async () => {
    const created = await cli.json<Record<string, unknown>>(['cert', 'create', '--domain', 'Second.test', '--email', 'ops@example.com', '--json'])
    expect(created).toMatchObject({ cert_name: 'second.test', domains: ['second.test'], status: 'pending', email: 'ops@example.com', staging: false, created_by: 'cert-admin' })
    const waited = await cli.json(['cert', 'status', 'second.test', '--wait=30', '--json'])
    expect(waited).toEqual(await apiJson('/certificates/second.test/status'))
    expect(waited).toMatchObject({ status: 'issued', error: null })
  })

  test('create --cert-name --wait --json prints what GET /certificates/NAME answers once issued', async () => {
    const printed = await cli.json(['cert', 'create', '--cert-name', 'pair', '--domain', 'one.pair.test', '--domain', 'two.pair.test', '--wait', '--json'])
    expect(printed).toEqual(await apiJson('/certificates/pair'))
    expect(printed).toMatchObject({ cert_name: 'pair', status: 'issued', domains: ['one.pair.test', 'two.pair.test'] })
  })

  test('show: --json is the API\'s answer; the record leaves out the PEM; --pem prints only the chain', async () => {
    const [json, record, pem] = await Promise.all([cli.json(['cert', 'show', 'app.test', '--json']), cli.run(['cert', 'show', 'app.test']), cli.run(['cert', 'show', 'app.test', '--pem'])])
    const api = await apiJson<{ certificate_pem: string }>('/certificates/app.test')
    expect(json).toEqual(api)
    expect(record.stdout).toMatch(/^fingerprint_sha256: +[0-9a-f]{64}$/m)
    expect(record.stdout).not.toContain('certificate_pem')
    expect(pem).toEqual({ code: 0, stdout: api.certificate_pem, stderr: '' })
  })

  test('list: NAME DOMAINS STATUS EXPIRES STAGING USED BY; --json the API\'s list; -q the names', async () => {
    await edge.api('POST', '/proxy/targets', { body: { proxy_hostname: 'app.test', target_url: 'http://127.0.0.1:9' } })
    const [table, json, quiet] = await Promise.all([cli.run(['cert', 'list']), cli.json(['cert', 'list', '--json']), cli.run(['cert', 'list', '-q'])])
    expect(json).toEqual(await apiJson('/certificates'))
    expect(quiet.stdout).toBe('app.test\npair\nsecond.test\n')
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['NAME', 'DOMAINS', 'STATUS', 'EXPIRES', 'STAGING', 'USED BY'])
    expect(lines[1]).toMatch(/^app\.test +app\.test, www\.app\.test +issued +\d{4}-\d\d-\d\d \d\d:\d\d +no +app\.test$/)
  })

  test('status without --wait prints the status now', async () => {
    expect(await cli.json(['cert', 'status', 'app.test', '--json'])).toEqual(await apiJson('/certificates/app.test/status'))
    expect((await cli.run(['cert', 'status', 'app.test', '-q'])).stdout).toBe('issued\n')
  })
})

describe('renew and a CA that refuses', () => {
  test('renew --wait -q prints the name after a new certificate is issued', async () => {
    const before = await apiJson<{ serial: string }>('/certificates/app.test')
    const result = await cli.run(['cert', 'renew', 'app.test', '--wait', '-q'])
    expect(result).toEqual({ code: 0, stdout: 'app.test\n', stderr: expect.stringMatching(ISSUED_LINE) })
    expect((await apiJson<{ serial: string }>('/certificates/app.test')).serial).not.toBe(before.serial)
  })

  test('create --staging --wait: the order fails → exit 1 with the CA\'s own words, nothing on stdout', async () => {
    const result = await cli.run(['cert', 'create', '--domain', 'stage.test', '--staging', '--wait'])
    expectFailure(result, 1, new RegExp(`certificate stage\\.test failed: .*${REFUSAL_DETAIL}`))
    expect(await apiJson('/certificates/stage.test/status')).toMatchObject({ status: 'failed' })
  })

  // script(1) gives the child a pseudo-terminal, as a person's shell would.
  test.skipIf(Bun.which('script') === null)('on a terminal --wait shows the order\'s state on one rewritten line, then the outcome', async () => {
    const release = edge.refusingCa.hold()
    const command = [process.execPath, MAIN, 'cert', 'create', '--domain', 'tty.test', '--staging', '--wait', '--url', edge.url, '--token', edge.adminToken].join(' ')
    const proc = Bun.spawn(['script', '-qec', command, '/dev/null'], { cwd: REPO_ROOT, env: { ...baseEnv(), NO_COLOR: '1' }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    let output = ''
    const reading = (async () => {
      for await (const chunk of proc.stdout) output += new TextDecoder().decode(chunk)
    })()
    try {
      await waitFor(() => output.includes('certificate tty.test: pending… '), { what: 'the spinner line', timeoutMs: 15_000 })
    } finally {
      release()
    }
    expect(await proc.exited).toBe(1)
    await reading
    expect(output).toMatch(/\r\x1b\[K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] certificate tty\.test: pending… \d+s/)
    expect(output).toContain(`\r\x1b[Koauth-https-proxy: certificate tty.test failed: `)
    expect(output).toContain(REFUSAL_DETAIL)
  })

  test('--wait=SECONDS is a time limit: an order still pending then → exit 1 naming how to follow it', async () => {
    const release = edge.refusingCa.hold()
    try {
      expect((await cli.run(['cert', 'renew', 'stage.test', '-q'])).code).toBe(0)
      const result = await cli.run(['cert', 'status', 'stage.test', '--wait=1'])
      expectFailure(result, 1, /certificate stage\.test is still pending after 1 s; follow it with: oauth-https-proxy cert status stage\.test --wait$/)
    } finally {
      release()
    }
  })

  test('convert-to-production --wait orders from production, which issues it', async () => {
    const result = await cli.run(['cert', 'convert-to-production', 'stage.test', '--wait', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ cert_name: 'stage.test', status: 'issued', staging: false, directory_url: edge.pebble.directoryUrl })
  })
})

describe('export', () => {
  const modeOf = (path: string) => statSync(path).mode & 0o777

  test('writes NAME.crt (the chain), mode 0600, and no key without --include-key', async () => {
    const result = await cli.run(['cert', 'export', 'app.test', '--output', exportDir])
    expect(result).toEqual({ code: 0, stdout: '', stderr: `wrote ${join(exportDir, 'app.test.crt')} (mode 0600)\n` })
    expect(readdirSync(exportDir)).toEqual(['app.test.crt'])
    expect(modeOf(join(exportDir, 'app.test.crt'))).toBe(0o600)
    expect(readFileSync(join(exportDir, 'app.test.crt'), 'utf8')).toBe((await apiJson<{ certificate_pem: string }>('/certificates/app.test')).certificate_pem)
  })

  test('--include-key also writes NAME.key, mode 0600, the key /private-key answers', async () => {
    const result = await cli.run(['cert', 'export', 'pair', '-o', exportDir, '--include-key'])
    expect(result.code).toBe(0)
    expect(readdirSync(exportDir).sort()).toEqual(['app.test.crt', 'pair.crt', 'pair.key'])
    for (const file of ['pair.crt', 'pair.key']) expect(modeOf(join(exportDir, file))).toBe(0o600)
    expect(readFileSync(join(exportDir, 'pair.key'), 'utf8')).toBe((await apiJson<{ private_key_pem: string }>('/certificates/pair/private-key')).private_key_pem)
    expect(result.stdout + result.stderr).not.toContain('PRIVATE KEY')
  })

  test('--include-key with a user token → exit 3 and nothing written; an unissued certificate → exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ohp-cert-export-user-'))
    try {
      expectFailure(await cli.run(['cert', 'export', 'pair', '-o', dir, '--include-key'], { token: edge.userToken }), 3, /403 insufficient_scope/)
      expect(readdirSync(dir)).toEqual([])
      const release = edge.refusingCa.hold()
      try {
        await cli.run(['cert', 'create', '--domain', 'held.test', '--staging'])
        expectFailure(await cli.run(['cert', 'export', 'held.test', '-o', dir]), 1, /certificate held\.test has no chain yet \(status pending\)/)
      } finally {
        release()
      }
      expect(readdirSync(dir)).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('delete and failures', () => {
  test('delete names the proxies that fall back to their own order (the proxy app.test orders its certificate again); --json prints nothing', async () => {
    const deleted = await cli.run(['cert', 'delete', 'app.test'])
    expect(deleted).toEqual({ code: 0, stdout: '', stderr: 'deleted certificate app.test; the proxies that served it (app.test) fall back to their own certificate order\n' })
    const reordered = await waitFor(async () => {
      const response = await edge.api('GET', '/certificates/app.test')
      return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : null
    }, { what: 'the proxy\'s own order of app.test' })
    expect(reordered).toMatchObject({ cert_name: 'app.test', domains: ['app.test'], created_by: null })
    expect(await cli.run(['cert', 'delete', 'second.test', '--json'])).toEqual({ code: 0, stdout: '', stderr: '' })
    expect((await edge.api('GET', '/certificates/second.test')).status).toBe(404)
  })

  test('wrong arguments exit 2 with one line, before any request', async () => {
    const cases: [string[], RegExp][] = [
      [['cert', 'create'], /--domain/],
      [['cert', 'create', '--domain', 'x.test', '--wait=soon'], /--wait: expected a whole number/],
      [['cert', 'create', '--domain', 'x.test', '--wait=0'], /--wait: expected at least 1 second/],
      [['cert', 'status', 'x.test', '--wait', '5'], /unexpected argument "5"/],
      [['cert', 'show'], /name/i],
      [['cert', 'list', '--bogus'], /unknown flag --bogus/],
      [['cert', 'list', '--json', '-q'], /--json and --quiet cannot be combined/],
      [['cert', 'show', 'pair', '--pem', '--json'], /--pem and --json cannot be combined/],
    ]
    const names = async () => (await apiJson<{ cert_name: string }[]>('/certificates')).map((certificate) => certificate.cert_name)
    const before = await names()
    const results = await Promise.all(cases.map(([args]) => cli.run(args)))
    results.forEach((result, i) => expectFailure(result, 2, cases[i]![1]))
    expect(await names()).toEqual(before)
  })

  test('a missing certificate (4), a user token on a write (3), the API\'s 400 naming the field (1)', async () => {
    const [missing, missingDelete, user, wildcard, email] = await Promise.all([
      cli.run(['cert', 'show', 'nope.test']),
      cli.run(['cert', 'delete', 'nope.test']),
      cli.run(['cert', 'renew', 'pair'], { token: edge.userToken }),
      cli.run(['cert', 'create', '--domain', '*.wild.test']),
      cli.run(['cert', 'create', '--domain', 'x.test', '--email', 'nobody']),
    ])
    expectFailure(missing, 4, /404 not_found: no certificate named nope\.test/)
    expectFailure(missingDelete, 4, /404/)
    expectFailure(user, 3, /403/)
    expectFailure(wildcard, 1, /400 invalid_request: field domains: \*\.wild\.test is a wildcard name: wildcards need the DNS-01 challenge/)
    expectFailure(email, 1, /400 invalid_request: field email: /)
  })
})
