/**
 * The web UI's delivery (issue #16): the bundle ui/build.ts makes (the one the server builds when run
 * from source and the one `npm run build` embeds), served at /ui/ with a strict CSP, hashed files
 * cached for good, index.html revalidated, gzip when asked for; http://localhost/ → /ui/. And the
 * first-load budget: under 100 KB compressed.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { ASSET_PREFIX, buildUi, type UiFile } from '../../ui/build.ts'
import { createLogger } from '../../src/lib/index.ts'
import { mountUiAssets, UI_CONTENT_SECURITY_POLICY } from '../../src/ui/index.ts'

let files: UiFile[]
let app: Hono

beforeAll(async () => {
  files = await buildUi()
  app = new Hono()
  mountUiAssets(app, async () => files, createLogger('silent'))
})

const indexHtml = () => new TextDecoder().decode(files.find((file) => file.path === 'index.html')!.bytes)
const referenced = () => [...indexHtml().matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((match) => match[1]!)

describe('the bundle', () => {
  test('index.html loads only hashed files of its own origin, with no inline script or style', () => {
    const html = indexHtml()
    expect(referenced().length).toBeGreaterThanOrEqual(2)
    for (const path of referenced()) expect(path).toMatch(/^\/ui\/assets\/[a-z0-9_-]+-[a-z0-9]{8}\.(js|css|svg)$/)
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/)
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i)
    expect(html).not.toMatch(/https?:\/\//)
    // Every file it names is in the bundle.
    for (const path of referenced()) expect(files.some((file) => `${ASSET_PREFIX}${file.path.slice('assets/'.length)}` === path)).toBe(true)
  })

  test('first load (index.html, the entry script and every chunk it imports statically, the stylesheet) is under 100 KB gzipped', () => {
    const byPath = new Map(files.map((file) => [file.path, file]))
    const load = new Set<string>(['index.html', ...referenced().map((path) => `assets/${path.slice(ASSET_PREFIX.length)}`)])
    // Static imports of split chunks load with the entry; dynamic ones only when used.
    for (const path of [...load]) {
      if (!path.endsWith('.js')) continue
      const text = new TextDecoder().decode(byPath.get(path)!.bytes)
      for (const match of text.matchAll(/(?:^|[;}\s])import(?:[^"'()]*?from)?\s*["']\.\/([^"']+\.js)["']/g)) load.add(`assets/${match[1]}`)
    }
    const gzippedBytes = [...load].reduce((sum, path) => sum + Bun.gzipSync(byPath.get(path)!.bytes, { level: 9 }).length, 0)
    console.log(`web UI first load: ${load.size} files, ${(gzippedBytes / 1024).toFixed(1)} KiB gzipped`)
    expect(gzippedBytes).toBeLessThan(100 * 1024)
  })

  test('the same source builds the same files (the executable embeds what the tests serve)', async () => {
    const again = await buildUi()
    expect(again.map((file) => [file.path, Bun.hash(file.bytes)])).toEqual(files.map((file) => [file.path, Bun.hash(file.bytes)]))
  })
})

describe('serving /ui/', () => {
  test('GET / (http://localhost/ through the built-in proxy) redirects to /ui/', async () => {
    const response = await app.request('/')
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('/ui/')
  })

  test('every page path answers index.html with the strict CSP, no caching without revalidation, and no framing', async () => {
    for (const path of ['/ui', '/ui/', '/ui/proxies', '/ui/proxies/app.example.com']) {
      const response = await app.request(path)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/html;charset=utf-8')
      expect(response.headers.get('cache-control')).toBe('no-cache')
      expect(response.headers.get('content-security-policy')).toBe(UI_CONTENT_SECURITY_POLICY)
      expect(response.headers.get('x-frame-options')).toBe('DENY')
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(await response.text()).toBe(indexHtml())
    }
    expect(UI_CONTENT_SECURITY_POLICY).toContain("script-src 'self';")
    expect(UI_CONTENT_SECURITY_POLICY).not.toContain('unsafe')
  })

  test('hashed files are cached for a year, immutable; an unknown one is 404; index.html revalidates with its ETag', async () => {
    for (const path of referenced()) {
      const response = await app.request(path)
      expect(response.status).toBe(200)
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    }
    expect((await app.request('/ui/assets/main-00000000.js')).status).toBe(404)
    const etag = (await app.request('/ui/')).headers.get('etag')!
    const revalidated = await app.request('/ui/', { headers: { 'if-none-match': etag } })
    expect(revalidated.status).toBe(304)
    expect(await revalidated.text()).toBe('')
  })

  test('gzip only for a client that accepts it (Vary: Accept-Encoding)', async () => {
    const script = referenced().find((path) => path.endsWith('.js'))!
    const plain = await app.request(script)
    expect(plain.headers.get('content-encoding')).toBeNull()
    expect(plain.headers.get('vary')).toBe('Accept-Encoding')
    const gzipped = await app.request(script, { headers: { 'accept-encoding': 'gzip, deflate, br' } })
    expect(gzipped.headers.get('content-encoding')).toBe('gzip')
    expect(Bun.gunzipSync(new Uint8Array(await gzipped.arrayBuffer()))).toEqual(new Uint8Array(await plain.arrayBuffer()))
  })

  test('a bundle that cannot be loaded answers 503 (logged), and is tried again at the next request', async () => {
    let attempts = 0
    const failing = new Hono()
    mountUiAssets(failing, async () => (++attempts === 1 ? Promise.reject(new Error('does not build')) : files), createLogger('silent'))
    expect((await failing.request('/ui/')).status).toBe(503)
    expect((await failing.request('/ui/')).status).toBe(200)
    expect(attempts).toBe(2)
  })
})
