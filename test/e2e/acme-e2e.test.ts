/**
 * ACME end to end (RFC 8555) with a whole `serve` process, Debian's Pebble and real HTTP-01 validation:
 * Pebble resolves every name to 127.0.0.1 and fetches `http://<name>:<HTTP_PORT>/.well-known/acme-challenge/…`
 * from the server's own HTTP listener, so every certificate here was proven by our edge's answer. Clients
 * verify what the edge serves against Pebble's issuing root with the hostname checked (no -k anywhere).
 *
 * Both Pebbles run with the fixture's default nonce rejection, Pebble's own default of 5 % of good nonces
 * (RFC 8555 §6.5 badNonce): every order below issues on its first attempt anyway. A second Pebble validates
 * through a front the test controls (a port forward that first points at the wrong server, then at the edge),
 * for a failed order with the CA's reason and its renewal once fixed. The events go through a real Redis, so
 * the stream can be searched for key material like every answer and all the server's output.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Server } from 'bun'
import { clusterEnv, createApiClient, issueAdminToken, keySecrets, lowFreePort, normalSerial, startAcmeNode, startHostEchoBackend, trustFile, unwrapped, verifiedGet, type AcmeNode, type RecordedAnswer, type VerifiedAnswer } from '../support/acme-e2e.ts'
import { startPebble, verifyChain, type TestPebble } from '../support/pebble.ts'
import { isolatedPortRanges } from '../support/port-ranges.ts'
import { waitFor } from '../support/ports.ts'
import { startRedis, type TestRedis } from '../support/redis.ts'
import { cleanupSpawned } from '../support/serve.ts'

const EMAIL = 'ops@acme-e2e.test'
/** The acceptance bound from proxy creation to a certificate signed by the CA. */
const ISSUE_WITHIN_MS = 30_000

let redis: TestRedis
let pebble: TestPebble
let misroutedPebble: TestPebble
let front: ReturnType<typeof startFront>
let node: AcmeNode
let backend: Server<undefined>
let notFoundBackend: Server<undefined>
let pebbleRoot: string
let api: ReturnType<typeof createApiClient>
/** Every API answer this file received. */
const answers: RecordedAnswer[] = []
/** Every private key the private-key endpoint returned (old keys of renewed certificates too). */
const privateKeys = new Map<string, string>()

/**
 * Where the second Pebble validates: a port forward in front of the edge's HTTP listener that first points
 * at the wrong server (answers 404, as a web server that is not ours would), then at the edge.
 */
function startFront(edgeHttpPort: number) {
  let pointsAt: 'wrong server' | 'edge' = 'wrong server'
  const requests: { host: string; path: string; status: number }[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const url = new URL(request.url)
      const host = request.headers.get('host') ?? ''
      const response =
        pointsAt === 'edge'
          ? await fetch(`http://127.0.0.1:${edgeHttpPort}${url.pathname}${url.search}`, { headers: { host }, redirect: 'manual' })
          : new Response('404 page not found\n', { status: 404 })
      requests.push({ host, path: url.pathname, status: response.status })
      return new Response(await response.arrayBuffer(), { status: response.status, headers: { 'content-type': response.headers.get('content-type') ?? 'text/plain' } })
    },
  })
  return { port: server.port!, requests, pointAtEdge: () => (pointsAt = 'edge'), stop: () => server.stop(true) }
}

beforeAll(async () => {
  redis = await startRedis()
  const ranges = isolatedPortRanges()
  const httpPort = lowFreePort(ranges)
  front = startFront(httpPort)
  ;[pebble, misroutedPebble] = await Promise.all([startPebble({ httpPort }), startPebble({ httpPort: front.port })])
  // ACME_STAGING_URL is the same CA under another URL: the directory a certificate names shows which rule chose it.
  const shared = clusterEnv({ redisUrl: redis.url, trustPath: trustFile([pebble.caCertPem, misroutedPebble.caCertPem]), directoryUrl: pebble.directoryUrl, stagingUrl: pebble.altDirectoryUrl, ranges })
  node = await startAcmeNode({ nodeId: 'acme-e2e', httpPort, shared })
  api = createApiClient(node.url, await issueAdminToken(shared), answers)
  backend = startHostEchoBackend()
  notFoundBackend = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('route backend: not found\n', { status: 404 }) })
  pebbleRoot = await pebble.issuingRootPem()
}, 30_000)

afterAll(async () => {
  await cleanupSpawned()
  await Promise.all([pebble?.stop(), misroutedPebble?.stop()])
  front?.stop()
  backend?.stop(true)
  notFoundBackend?.stop(true)
  await redis?.dispose()
})

const backendUrl = () => `http://127.0.0.1:${backend.port}`

async function createProxy(hostname: string, fields: Record<string, unknown> = {}): Promise<void> {
  const created = await api('POST', '/proxy/targets', { proxy_hostname: hostname, target_url: backendUrl(), ...fields })
  expect([hostname, created.status]).toEqual([hostname, 201])
}

/** Polls until the edge serves `hostname` a chain that verifies against `root` and the backend answers through it. */
function servedByCa(hostname: string, root: string, timeoutMs = ISSUE_WITHIN_MS): Promise<VerifiedAnswer> {
  return waitFor(
    async () => {
      const answer = await verifiedGet(node.httpsPort, hostname, [root])
      if (answer.status !== 200 || answer.body !== `backend:${hostname}`) throw new Error(`${hostname}: ${answer.status} ${answer.body}`)
      return answer
    },
    { timeoutMs, intervalMs: 100, what: `a certificate for ${hostname} that verifies against the CA's root` },
  )
}

interface CertificateDetail {
  cert_name: string
  domains: string[]
  status: string
  directory_url: string
  staging: boolean
  serial: string | null
  error: string | null
  used_by: string[]
  certificate_pem: string | null
}

async function certificate(name: string): Promise<CertificateDetail> {
  const read = await api<CertificateDetail>('GET', `/certificates/${name}`)
  expect([name, read.status]).toEqual([name, 200])
  return read.json
}

async function readPrivateKey(name: string, label = name): Promise<string> {
  const read = await api<{ private_key_pem: string }>('GET', `/certificates/${name}/private-key`)
  expect([name, read.status]).toEqual([name, 200])
  privateKeys.set(label, read.json.private_key_pem)
  return read.json.private_key_pem
}

const ordersFailed = () => node.logs().filter((line) => line.msg === 'certificate order failed')

describe('a proxy orders its own certificate (cert_email)', () => {
  test(`POST /proxy/targets with cert_email: within ${ISSUE_WITHIN_MS / 1000} s its SNI is served a chain that verifies against Pebble's root, and the backend answers`, async () => {
    // A proxy without cert_email (and no ACME_EMAIL), created first: by the time one.test is issued it would have been too.
    await createProxy('no-email.test')
    const startedMs = performance.now()
    await createProxy('one.test', { cert_email: EMAIL })
    const answer = await servedByCa('one.test', pebbleRoot)
    const elapsedMs = performance.now() - startedMs
    console.info(`[acme-e2e] one.test: proxy created → verified chain served in ${Math.round(elapsedMs)} ms`)
    expect(elapsedMs).toBeLessThan(ISSUE_WITHIN_MS)
    expect(answer.issuerCn).toStartWith('Pebble Intermediate CA')

    // The certificate the API shows is the one served; the proxy's directory is production (ACME_DIRECTORY_URL was set).
    const view = await certificate('one.test')
    expect(view).toMatchObject({ status: 'issued', domains: ['one.test'], directory_url: pebble.directoryUrl, staging: false, used_by: ['one.test'], error: null })
    expect(normalSerial(view.serial!)).toBe(answer.serial)
    await verifyChain(view.certificate_pem!, pebbleRoot, ['one.test'])
    expect(node.logs().filter((line) => line.msg === 'certificate issued' && line.cert_name === 'one.test')).toHaveLength(1)

    // Without an email nothing was ordered: no certificate, and the self-signed one does not verify.
    expect((await api('GET', '/certificates/no-email.test')).status).toBe(404)
    await expect(verifiedGet(node.httpsPort, 'no-email.test', [pebbleRoot])).rejects.toThrow()
  }, 35_000)
})

describe('RFC 8555 §8.3: challenges answered by the decision step, whatever the proxy does with HTTP', () => {
  test('an HTTPS-only proxy (enable_http false), one with route_mode none, and one whose route takes /.well-known/ all get certificates', async () => {
    await createProxy('https-only.test', { cert_email: EMAIL, enable_http: false })
    await createProxy('no-routes.test', { cert_email: EMAIL, route_mode: 'none' })
    await createProxy('routed.test', { cert_email: EMAIL })
    const route = await api('POST', '/routes', { path_pattern: '/.well-known/', target_type: 'url', target_value: `http://127.0.0.1:${notFoundBackend.port}`, scope: 'proxy', proxy_hostnames: ['routed.test'] })
    expect(route.status).toBe(201)

    const names = ['https-only.test', 'no-routes.test', 'routed.test']
    const served = await Promise.all(names.map((name) => servedByCa(name, pebbleRoot)))
    for (const [index, name] of names.entries()) expect(normalSerial((await certificate(name)).serial!)).toBe(served[index]!.serial)

    // Over HTTP the names behave as configured: https-only is not served there, routed.test's route answers its own 404.
    const overHttp = async (host: string, path: string) => {
      const response = await fetch(`http://127.0.0.1:${node.httpPort}${path}`, { headers: { host } })
      return `${response.status} ${(await response.text()).trim()}`
    }
    expect(await overHttp('https-only.test', '/')).toStartWith('404')
    expect(await overHttp('routed.test', '/.well-known/acme-challenge/no-such-token-00000000')).toBe('404 route backend: not found')
    expect(await overHttp('no-routes.test', '/')).toBe('200 backend:no-routes.test')
  }, 35_000)
})

describe('a certificate for several names', () => {
  const names = ['m1.test', 'm2.test', 'm3.test']

  test('POST /certificates with three domains serves all three proxies that name it (cert_name)', async () => {
    // Proxies first, without an email: they order nothing themselves and serve self-signed until "multi" exists.
    for (const name of names) await createProxy(name, { cert_name: 'multi' })
    const ordered = await api<{ status: string }>('POST', '/certificates', { cert_name: 'multi', domains: names, email: EMAIL })
    expect(ordered.status).toBe(202)
    const settled = await api<{ status: string; error: string | null }>('GET', '/certificates/multi/status?wait=30')
    expect(settled.json).toMatchObject({ status: 'issued', error: null })

    const served = await Promise.all(names.map((name) => servedByCa(name, pebbleRoot, 5_000)))
    const view = await certificate('multi')
    expect(new Set(served.map((answer) => answer.serial))).toEqual(new Set([normalSerial(view.serial!)]))
    expect(view).toMatchObject({ domains: names, used_by: names, directory_url: pebble.directoryUrl })
    await verifyChain(view.certificate_pem!, pebbleRoot, names)
  }, 40_000)

  test('forced renewal: the new certificate (new serial) from the next handshakes, and zero failed requests from 4 loops of fresh TLS connections across the swap', async () => {
    const before = await certificate('multi')
    const oldSerial = normalSerial(before.serial!)
    await readPrivateKey('multi', 'multi (before renewal)')

    type Sample = { loop: number; startedMs: number; serial: string }
    const samples: Sample[] = []
    const failures: string[] = []
    let isRunning = true
    const loopDeadlineMs = performance.now() + 25_000
    const loop = async (index: number) => {
      for (let i = 0; isRunning && performance.now() < loopDeadlineMs; i++) {
        const host = names[(index + i) % names.length]!
        const startedMs = performance.now()
        try {
          const answer = await verifiedGet(node.httpsPort, host, [pebbleRoot], '/', 5_000)
          if (answer.status !== 200 || answer.body !== `backend:${host}`) failures.push(`${host}: ${answer.status} ${answer.body}`)
          samples.push({ loop: index, startedMs, serial: answer.serial })
        } catch (error) {
          failures.push(`${host}: ${(error as Error).message}`)
        }
      }
    }
    const loops = [0, 1, 2, 3].map(loop)
    try {
      await waitFor(() => samples.length >= 20, { timeoutMs: 5_000, what: 'the loops to run before the renewal' })
      const renewed = await api<{ status: string }>('POST', '/certificates/multi/renew')
      expect(renewed.status).toBe(202)
      const after = await waitFor(
        async () => {
          const view = await certificate('multi')
          return view.status === 'issued' && normalSerial(view.serial!) !== oldSerial ? view : null
        },
        { timeoutMs: 20_000, intervalMs: 50, what: 'the renewed certificate in the API' },
      )
      const issuedSeenMs = performance.now()
      const newSerial = normalSerial(after.serial!)
      // Keep the load on until every loop has had 5 handshakes that began after the API showed the new serial.
      await waitFor(() => [0, 1, 2, 3].every((index) => samples.filter((s) => s.loop === index && s.startedMs > issuedSeenMs).length >= 5), {
        timeoutMs: 10_000,
        what: 'handshakes after the renewal on every loop',
      })
      isRunning = false
      await Promise.all(loops)

      expect(failures).toEqual([])
      expect(samples.some((s) => s.serial === oldSerial && s.startedMs < issuedSeenMs)).toBe(true)
      // Only the old and the new certificate were ever served, and once a loop saw the new one it never got the old one back.
      expect(new Set(samples.map((s) => s.serial))).toEqual(new Set([oldSerial, newSerial]))
      for (const index of [0, 1, 2, 3]) {
        const serials = samples.filter((s) => s.loop === index).map((s) => s.serial)
        expect(serials.slice(serials.indexOf(newSerial)).every((serial) => serial === newSerial)).toBe(true)
      }
      // certificate_ready reaches the edge through the event stream: the swap lags the store by the stream's delivery only.
      const firstNewMs = Math.min(...samples.filter((s) => s.serial === newSerial).map((s) => s.startedMs))
      const lastOldMs = Math.max(...samples.filter((s) => s.serial === oldSerial).map((s) => s.startedMs))
      console.info(`[acme-e2e] renewal: ${samples.length} requests, 0 failed; last old handshake began ${Math.round(lastOldMs - issuedSeenMs)} ms after the API showed the new serial, first new one ${Math.round(firstNewMs - issuedSeenMs)} ms`)
      expect(lastOldMs - issuedSeenMs).toBeLessThan(1_000)
      await readPrivateKey('multi')
      expect(privateKeys.get('multi')).not.toBe(privateKeys.get('multi (before renewal)'))
    } finally {
      isRunning = false
      await Promise.all(loops)
    }
  }, 40_000)
})

describe('a challenge the CA cannot reach', () => {
  test('fails with the CA\'s reason in GET /certificates/{name}; renew after the port forward is fixed issues', async () => {
    const ordered = await api('POST', '/certificates', { domains: ['misrouted.test'], email: EMAIL, acme_directory_url: misroutedPebble.directoryUrl })
    expect(ordered.status).toBe(202)
    const failed = await api<{ status: string; error: string | null }>('GET', '/certificates/misrouted.test/status?wait=30')
    expect(failed.json.status).toBe('failed')
    const view = await certificate('misrouted.test')
    console.info(`[acme-e2e] misrouted.test failed with: ${view.error}`)
    // The CA's own words (its problem detail): the name, and the 404 the wrong server gave.
    expect(view.error).toContain('misrouted.test')
    expect(view.error).toContain('404')
    expect(front.requests.some((request) => request.host.startsWith('misrouted.test') && request.path.startsWith('/.well-known/acme-challenge/') && request.status === 404)).toBe(true)

    front.pointAtEdge()
    expect((await api('POST', '/certificates/misrouted.test/renew')).status).toBe(202)
    const issued = await api<{ status: string; error: string | null }>('GET', '/certificates/misrouted.test/status?wait=30')
    expect(issued.json).toMatchObject({ status: 'issued', error: null })
    // The validation went through the front to the edge, which answered it.
    expect(front.requests.some((request) => request.host.startsWith('misrouted.test') && request.status === 200)).toBe(true)

    await createProxy('misrouted.test')
    const misroutedRoot = await misroutedPebble.issuingRootPem()
    const answer = await servedByCa('misrouted.test', misroutedRoot, 5_000)
    expect(answer.serial).toBe(normalSerial((await certificate('misrouted.test')).serial!))
    expect(ordersFailed().map((line) => line.cert_name)).toEqual(['misrouted.test'])
  }, 40_000)

  test('with Pebble rejecting 5 % of good nonces (its default, which the fixture keeps), every other order issued at its first attempt', async () => {
    for (const ca of [pebble, misroutedPebble]) expect(ca.log()).toContain('Configured to reject 5% of good nonces')
    expect(ordersFailed().map((line) => line.cert_name)).toEqual(['misrouted.test'])
    const list = await api<{ cert_name: string; status: string }[]>('GET', '/certificates')
    expect(list.json.map((entry) => [entry.cert_name, entry.status])).toEqual(
      ['https-only.test', 'misrouted.test', 'multi', 'no-routes.test', 'one.test', 'routed.test'].map((name) => [name, 'issued']),
    )
  }, 10_000)
})

describe('no private key anywhere but GET /certificates/{name}/private-key', () => {
  test('not in any API answer (list, show, status, proxies, /system/config), the server\'s output, or the event stream', async () => {
    const names = ['one.test', 'https-only.test', 'no-routes.test', 'routed.test', 'multi', 'misrouted.test']
    for (const name of names) await readPrivateKey(name)
    await api('GET', '/certificates')
    for (const name of names) {
      await api('GET', `/certificates/${name}`)
      await api('GET', `/certificates/${name}/status`)
    }
    const proxies = await api<{ proxy_hostname: string }[]>('GET', '/proxy/targets')
    for (const proxy of proxies.json) await api('GET', `/proxy/targets/${proxy.proxy_hostname}`)
    expect((await api('GET', '/system/config')).status).toBe(200)

    const xrange = Bun.spawnSync(['redis-cli', '-p', String(redis.port), 'XRANGE', 'ohp:events', '-', '+'])
    const events = xrange.stdout.toString()
    // The stream searched is the right one: it carried this file's certificate events.
    expect(events).toContain('certificate_ready')
    expect(events).toContain('acme_challenge')

    const keyAnswers = answers.filter((answer) => answer.path.endsWith('/private-key'))
    const haystacks = [
      ...answers.filter((answer) => !answer.path.endsWith('/private-key')).map((answer) => ({ where: `${answer.method} ${answer.path}`, text: answer.text })),
      { where: 'server stdout+stderr', text: node.stderrText() },
      { where: 'Redis stream ohp:events', text: events },
    ]
    expect(haystacks.length).toBeGreaterThan(40)
    const found: string[] = []
    for (const [label, keyPem] of privateKeys) {
      const secrets = keySecrets(keyPem)
      // Control: every spelling searched for is found where the key is (the base64 slice in its PEM).
      expect(keyAnswers.some((answer) => unwrapped(answer.text).includes(secrets[0]!))).toBe(true)
      for (const { where, text } of haystacks) {
        if (text.includes('PRIVATE KEY')) found.push(`"PRIVATE KEY" in ${where}`)
        const flat = unwrapped(text)
        for (const secret of secrets) if (flat.includes(secret)) found.push(`${label}'s key (${secret.slice(0, 8)}…) in ${where}`)
      }
    }
    expect([...new Set(found)]).toEqual([])
    // Each read of a key was logged, without the key.
    expect(node.logs().filter((line) => line.msg === 'private key read').length).toBe(keyAnswers.length)
  }, 15_000)
})
