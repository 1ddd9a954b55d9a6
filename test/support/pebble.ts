/**
 * @module A real ACME CA on loopback for one test file: Debian's `pebble` with its own TLS certificate
 * (made here with openssl), and `pebble-challtestsrv` as its DNS (every name → 127.0.0.1), so Pebble
 * validates HTTP-01 against `http://<name>:<httpPort>/.well-known/acme-challenge/<token>` on a listener
 * the test controls. Random ports for everything; stop() ends both processes and removes the files.
 *
 * A process that talks ACME to it must trust `caCertPath` from its start (NODE_EXTRA_CA_CERTS is read only
 * then; reference/test-infrastructure.md §7), so the manager under test runs in a spawned process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitFor } from './ports.ts'

export interface TestPebble {
  /** `https://127.0.0.1:<port>/dir`. */
  readonly directoryUrl: string
  /** The same CA under another URL (`https://localhost:<port>/dir`), for tests that need a second directory (staging). */
  readonly altDirectoryUrl: string
  /** PEM of the CA that signed Pebble's own TLS certificate (not the issuing CA). */
  readonly caCertPath: string
  readonly caCertPem: string
  /** The port Pebble sends HTTP-01 validation requests to. */
  readonly httpPort: number
  /** Pebble's issuing root (management API `/roots/0`): issued chains verify against it. */
  issuingRootPem(): Promise<string>
  /** Everything Pebble has printed so far. */
  log(): string
  stop(): Promise<void>
}

export interface PebbleOptions {
  /** Where HTTP-01 validation goes: the port of a listener the test runs on 127.0.0.1. */
  readonly httpPort: number
  /** Extra environment for pebble, e.g. PEBBLE_WFE_NONCEREJECT. PEBBLE_VA_NOSLEEP=1 is always set. */
  readonly env?: Record<string, string>
}

export async function startPebble(options: PebbleOptions): Promise<TestPebble> {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-pebble-'))
  const caCertPath = join(dir, 'tls-ca.crt')
  makeTlsCertificate(dir)
  const [listenPort, managementPort, dnsPort, dnsManagementPort] = await distinctFreePorts(4)
  writeFileSync(
    join(dir, 'pebble.json'),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${listenPort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: join(dir, 'tls.crt'),
        privateKey: join(dir, 'tls.key'),
        httpPort: options.httpPort,
        tlsPort: 5001,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  )
  const output: string[] = []
  const dns = Bun.spawn(
    ['pebble-challtestsrv', '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${dnsManagementPort}`],
    { stdout: 'ignore', stderr: 'ignore' },
  )
  const pebble = Bun.spawn(['pebble', '-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', ...options.env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  collect(pebble.stdout, output)
  collect(pebble.stderr, output)
  const caCertPem = await Bun.file(caCertPath).text()
  const directoryUrl = `https://127.0.0.1:${listenPort}/dir`
  const stop = async () => {
    for (const proc of [pebble, dns]) proc.kill()
    await Promise.all([pebble.exited, dns.exited])
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitFor(async () => (await fetch(directoryUrl, { tls: { ca: caCertPem } })).ok, { what: 'pebble directory', timeoutMs: 15_000 })
  } catch (error) {
    await stop()
    throw new Error(`${error instanceof Error ? error.message : error}\n${output.join('')}`)
  }
  return {
    directoryUrl,
    altDirectoryUrl: `https://localhost:${listenPort}/dir`,
    caCertPath,
    caCertPem,
    httpPort: options.httpPort,
    async issuingRootPem() {
      const response = await fetch(`https://127.0.0.1:${managementPort}/roots/0`, { tls: { ca: caCertPem } })
      if (!response.ok) throw new Error(`pebble /roots/0 answered ${response.status}`)
      return response.text()
    },
    log: () => output.join(''),
    stop,
  }
}

/** A throwaway CA and a certificate for localhost / 127.0.0.1 signed by it, for Pebble's own HTTPS. */
function makeTlsCertificate(dir: string): void {
  const run = (args: string[]) => {
    const result = Bun.spawnSync(['openssl', ...args], { cwd: dir, stdout: 'ignore', stderr: 'pipe' })
    if (result.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`)
  }
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls-ca.key', '-out', 'tls-ca.crt', '-days', '2', '-subj', '/CN=pebble test TLS CA'])
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=localhost'])
  writeFileSync(join(dir, 'tls-ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
  run(['x509', '-req', '-in', 'tls.csr', '-CA', 'tls-ca.crt', '-CAkey', 'tls-ca.key', '-CAcreateserial', '-out', 'tls.crt', '-days', '2', '-extfile', 'tls-ext.cnf'])
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) ports.add(await freePort())
  return [...ports]
}

function collect(stream: ReadableStream<Uint8Array>, into: string[]): void {
  const decoder = new TextDecoder()
  void (async () => {
    for await (const chunk of stream) into.push(decoder.decode(chunk, { stream: true }))
  })().catch(() => {})
}

/**
 * `openssl verify` of an issued chain (leaf first) against Pebble's issuing root, for each hostname
 * (-verify_hostname). Resolves when all verify; rejects with openssl's output otherwise.
 */
export async function verifyChain(chainPem: string, rootPem: string, hostnames: readonly string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ohp-verify-'))
  try {
    const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
    if (blocks.length < 2) throw new Error(`expected a leaf and its chain, got ${blocks.length} certificate(s)`)
    writeFileSync(join(dir, 'leaf.pem'), `${blocks[0]}\n`)
    writeFileSync(join(dir, 'untrusted.pem'), `${blocks.slice(1).join('\n')}\n`)
    writeFileSync(join(dir, 'root.pem'), rootPem)
    for (const hostname of hostnames) {
      const result = Bun.spawnSync(['openssl', 'verify', '-CAfile', 'root.pem', '-untrusted', 'untrusted.pem', '-verify_hostname', hostname, 'leaf.pem'], { cwd: dir })
      const output = `${result.stdout.toString()}${result.stderr.toString()}`
      if (result.exitCode !== 0 || !output.includes('leaf.pem: OK')) throw new Error(`openssl verify for ${hostname}: ${output}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
