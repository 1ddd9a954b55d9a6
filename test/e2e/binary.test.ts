/** `npm run build` makes one executable that serves on its own, docs assets included (no node_modules). */
import { afterAll, expect, test } from 'bun:test'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary } from '../support/binary.ts'
import { freePort, waitFor } from '../support/ports.ts'

const work = mkdtempSync(join(tmpdir(), 'ohp-binary-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

test('the compiled executable serves /health (directly, and over HTTP and HTTPS through the built-in localhost proxy) and the embedded docs bundle from an empty directory', async () => {
  await buildBinary(join(work, 'oauth-https-proxy'))

  // Away from the repository: nothing may be read from node_modules at run time.
  const alone = join(work, 'alone')
  cpSync(join(work, 'oauth-https-proxy'), join(alone, 'oauth-https-proxy'))
  const [port, httpPort, httpsPort] = [await freePort(), await freePort(), await freePort()]
  const proc = Bun.spawn([join(alone, 'oauth-https-proxy')], {
    cwd: alone,
    env: { PATH: '/usr/bin:/bin', API_PORT: String(port), HTTP_PORT: String(httpPort), HTTPS_PORT: String(httpsPort), LOG_LEVEL: 'warn' },
    stderr: 'pipe',
  })
  try {
    const health = await waitFor(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/health`)
      return response.ok ? response.json() : null
    }, { what: 'compiled binary /health', timeoutMs: 15_000 })
    expect(health).toMatchObject({ status: 'ok', store: { kind: 'embedded', status: 'ok' } })
    // The data plane of the binary: the relay's listeners and the TLS terminator (its self-signed certificate).
    for (const url of [`http://localhost:${httpPort}/health`, `https://localhost:${httpsPort}/health`]) {
      const viaProxy = await waitFor(async () => {
        const response = await fetch(url, { tls: { rejectUnauthorized: false } } as RequestInit)
        return response.ok ? response.json() : null
      }, { what: `compiled binary ${url}`, timeoutMs: 15_000 })
      expect(viaProxy).toMatchObject({ status: 'ok' })
    }
    const bundle = await fetch(`http://127.0.0.1:${port}/docs/standalone.js`)
    expect(bundle.status).toBe(200)
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000)
    expect(await Bun.file(join(alone, 'data/store.sqlite')).exists()).toBe(true)
  } finally {
    proc.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
  }
}, 60_000)
