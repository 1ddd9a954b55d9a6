/**
 * Issue #12 acceptance, secrets: a bearer token (a valid one for a protected proxy, and one for an open
 * proxy), a cookie, `?access_token=` (RFC 6750 §2.3, which says not to put tokens in URLs because they
 * end up in logs) and an OAuth redirect's `code` and `state` (RFC 6749 §4.1.2, §10.5) are sent through
 * the edge on both paths of a real server process with ACCESS_LOG=stdout and LOG_LEVEL=debug; then every
 * log endpoint, stdout, stderr and the store's files are searched for the values: none is found, while
 * the requests themselves are (so the search looked in the right places).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseResponses, tcpExchange } from '../support/edge-clients.ts'
import { freePort, waitFor } from '../support/ports.ts'
import { cleanupSpawned, MAIN, REPO_ROOT, runCli, serveEnv } from '../support/serve.ts'
import { EMBEDDED_STORE_FILES } from '../../src/store/index.ts'
import { LOG_FILE } from '../../src/store/log-chunks.ts'

const RUN = crypto.randomUUID().slice(0, 8)
const SECRETS = {
  bearerOpen: `sekret-bearer-${RUN}-a1b2c3d4e5f6`,
  cookie: `sekret-cookie-${RUN}-0f9e8d7c`,
  accessToken: `sekret-access-token-${RUN}-77aa`,
  code: `sekret-code-${RUN}-5c0de`,
  state: `sekret-state-${RUN}-57a7e`,
}
/** The valid token for the protected proxy, known once issued. */
let bearerValid = ''
const allSecrets = () => [...Object.values(SECRETS), bearerValid]

const OPEN = 'open-secrets.localhost'
const GUARDED = 'guarded-secrets.localhost'

let env: Record<string, string>
let proc: ReturnType<typeof Bun.spawn>
let apiUrl: string
let httpPort: number
let admin: string
let backend: ReturnType<typeof Bun.serve>
let stdout = ''
let stderr = ''
const followed: string[] = []
const requestIds: string[] = []

function drain(stream: ReadableStream<Uint8Array>, into: (text: string) => void): void {
  const decoder = new TextDecoder()
  void (async () => {
    for await (const chunk of stream) into(decoder.decode(chunk, { stream: true }))
  })().catch(() => {})
}

const api = (path: string, init: RequestInit = {}) => fetch(`${apiUrl}${path}`, { ...init, headers: { authorization: `Bearer ${admin}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } })

/** One request on each path: HTTP/1.1 (the relay) and HTTP/1.0 (handed over); answers must come back. */
async function sendBothWays(host: string, target: string, headers: Record<string, string>): Promise<void> {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
  for (const version of ['1.1', '1.0']) {
    const close = version === '1.1' ? 'Connection: close\r\n' : ''
    const [reply] = parseResponses(await tcpExchange(httpPort, [`GET ${target} HTTP/${version}\r\nHost: ${host}\r\n${lines}${close}\r\n`]))
    expect({ host, target: target.slice(0, 30), version, status: reply!.status }).toEqual({ host, target: target.slice(0, 30), version, status: 200 })
  }
}

beforeAll(async () => {
  backend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('fine') })
  httpPort = await freePort()
  env = await serveEnv({ HTTP_PORT: String(httpPort), ACCESS_LOG: 'stdout', LOG_LEVEL: 'debug', NODE_ID: 'secrets-node' })
  apiUrl = `http://127.0.0.1:${env.API_PORT}`
  proc = Bun.spawn([process.execPath, MAIN, 'serve'], { cwd: REPO_ROOT, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  drain(proc.stdout as ReadableStream<Uint8Array>, (text) => (stdout += text))
  drain(proc.stderr as ReadableStream<Uint8Array>, (text) => (stderr += text))
  await waitFor(async () => (await fetch(`${apiUrl}/health`)).ok, { timeoutMs: 15_000, what: 'the server' })

  const issued = await runCli(['token', 'issue', '--user', 'root', '--scope', 'admin'], { env })
  admin = issued.stdout.trim()
  for (const host of [OPEN, GUARDED]) {
    const created = await api('/proxy/targets', { method: 'POST', body: JSON.stringify({ proxy_hostname: host, target_url: `http://127.0.0.1:${backend.port}`, enable_https: false }) })
    expect(created.status).toBe(201)
  }
  expect((await api(`/proxy/targets/${GUARDED}/auth`, { method: 'PUT', body: JSON.stringify({ auth_enabled: true }) })).status).toBe(200)
  bearerValid = (await runCli(['token', 'issue', '--user', 'robot', '--scope', 'user', '--resource', `http://${GUARDED}:${httpPort}`], { env })).stdout.trim()
  expect(bearerValid).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
  await waitFor(async () => (await fetch(`http://127.0.0.1:${httpPort}/`, { headers: { host: `${GUARDED}:${httpPort}` } })).status === 401, { what: 'the protected proxy' })

  // The live tail listens while the secrets go through.
  const tail = await fetch(`${apiUrl}/logs/follow`, { headers: { authorization: `Bearer ${admin}` } })
  drain(tail.body!, (text) => followed.push(text))
  await waitFor(() => followed.join('').includes(': following'), { what: 'the tail' })

  await sendBothWays(OPEN, '/secrets/bearer', { Authorization: `Bearer ${SECRETS.bearerOpen}` })
  await sendBothWays(`${GUARDED}:${httpPort}`, '/secrets/valid-bearer', { Authorization: `Bearer ${bearerValid}` })
  await sendBothWays(OPEN, '/secrets/cookie', { Cookie: `session=${SECRETS.cookie}; theme=dark` })
  await sendBothWays(OPEN, `/secrets/query?access_token=${SECRETS.accessToken}&page=2`, {})
  await sendBothWays(OPEN, `/secrets/callback?code=${SECRETS.code}&state=${SECRETS.state}`, {})
  await sendBothWays(OPEN, `/secrets/encoded?Access%5FToken=${SECRETS.accessToken}&CODE=${SECRETS.code}`, {})

  await waitFor(
    async () => {
      const body = (await (await api('/logs/search?path=/secrets/&limit=100')).json()) as { records: { request_id: string }[] }
      requestIds.splice(0, requestIds.length, ...body.records.map((r) => r.request_id))
      return requestIds.length === 12
    },
    { timeoutMs: 5_000, what: 'the twelve records' },
  )
  await waitFor(() => (followed.join('').match(/"path":"\/secrets\//g) ?? []).length === 12, { timeoutMs: 3_000, what: 'the tail to show them' })
}, 60_000)

afterAll(async () => {
  proc?.kill('SIGKILL')
  backend?.stop(true)
  await cleanupSpawned()
})

function expectNoSecret(where: string, text: string): void {
  for (const secret of allSecrets()) expect({ where, found: text.includes(secret) }).toEqual({ where, found: false })
}

test('no log endpoint answers a secret, and each of them shows the requests (masked where the query held one)', async () => {
  const paths = [
    '/logs/search?limit=1000',
    '/logs/search?q=secrets',
    '/logs/ip/127.0.0.1?limit=1000',
    `/logs/host/${OPEN}`,
    `/logs/proxy/${GUARDED}`,
    '/logs/user/robot',
    '/logs/errors',
    '/logs/stats?top=100',
    ...requestIds.map((id) => `/logs/request/${encodeURIComponent(id)}`),
    // The other views of #12 over the same traffic.
    '/oauth/events',
    '/logs/oauth/sessions',
    '/logs/oauth-flow',
    '/logs/oauth-debug/127.0.0.1',
    '/logs/capture',
    '/metrics',
  ]
  const answers: string[] = []
  for (const path of paths) {
    const text = await (await api(path)).text()
    answers.push(text)
    expectNoSecret(path, text)
  }
  const search = answers[0]!
  expect(search).toContain('/secrets/query?access_token=***&page=2')
  expect(search).toContain('/secrets/callback?code=***&state=***')
  expect(search).toContain('/secrets/encoded?Access%5FToken=***&CODE=***')
  expect(search).toContain('/secrets/cookie')
  expect(answers[5]).toContain('/secrets/valid-bearer')
  expect(answers[7]).toContain('/secrets/query')
  expectNoSecret('/logs/follow', followed.join(''))
  expect(followed.join('')).toContain('access_token=***')
})

test('stdout (ACCESS_LOG=stdout) has one JSON line per request and no secret; stderr at debug level has none either', async () => {
  await waitFor(() => (stdout.match(/\/secrets\//g) ?? []).length >= 12, { timeoutMs: 3_000, what: 'the access log lines' })
  const lines = stdout.split('\n').filter((line) => line.includes('/secrets/'))
  expect(lines).toHaveLength(12)
  for (const line of lines) expect(JSON.parse(line)).toMatchObject({ timestamp: expect.any(String), node: 'secrets-node', host: expect.any(String), path: expect.stringMatching(/^\/secrets\//) })
  expectNoSecret('stdout', stdout)
  expectNoSecret('stderr', stderr)
})

test('the store holds the masked records and no secret, in any of its files', async () => {
  proc.kill('SIGTERM')
  await proc.exited
  const dataDir = env.DATA_DIR!
  // Every file the server left there: the documents' SQLite file, the log's, and anything else.
  const files = readdirSync(dataDir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
  expect(files).toEqual(expect.arrayContaining(EMBEDDED_STORE_FILES.map((name) => join(dataDir, name))))
  // The log's chunks of rows are stored compressed (log-rows.ts): their decompressed bytes are searched too.
  const bytes = Buffer.concat([...files.map((file) => readFileSync(file)), ...decompressedChunks(join(dataDir, LOG_FILE))])
  expect(bytes.includes('/secrets/query?access_token=***&page=2')).toBe(true)
  for (const secret of allSecrets()) expect({ secret: secret.slice(0, 20), found: bytes.includes(secret) }).toEqual({ secret: secret.slice(0, 20), found: false })
  expectNoSecret('stdout after stop', stdout)
})

/** Every chunk in the log file that is a zstd frame (RFC 8878 §3.1.1), decompressed. */
function decompressedChunks(path: string): Uint8Array[] {
  const file = new Database(path, { readonly: true })
  const chunks = file.query('SELECT data FROM log_chunks').all() as { data: Uint8Array | string }[]
  file.close()
  const frames = chunks.map(({ data }) => data).filter((data): data is Uint8Array => typeof data !== 'string' && data[0] === 0x28 && data[1] === 0xb5 && data[2] === 0x2f && data[3] === 0xfd)
  expect(frames.length).toBeGreaterThan(0)
  return frames.map((frame) => Bun.zstdDecompressSync(frame))
}
