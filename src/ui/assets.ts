/**
 * @module Serves the web UI at /ui/: hashed files under /ui/assets/ cached for a year (a new build has
 * new names), and index.html for every other /ui/ path (the page routes itself), never cached without
 * revalidation. Everything is prepared once, gzipped too, on the first request. The page runs under a
 * strict Content-Security-Policy: scripts, styles and requests of its own origin only, nothing inline.
 */
import type { Context, Hono } from 'hono'
import type { Logger } from '../lib/index.ts'
import type { UiFile } from './bundle.ts'

export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

const IMMUTABLE = 'public, max-age=31536000, immutable'

interface PreparedFile {
  readonly type: string
  readonly bytes: Uint8Array<ArrayBuffer>
  /** Null when gzip would not make it smaller. */
  readonly gzipped: Uint8Array<ArrayBuffer> | null
  readonly etag: string
}

function prepare(file: UiFile): PreparedFile {
  const gzipped = Bun.gzipSync(file.bytes, { level: 9 })
  return {
    type: file.type,
    bytes: file.bytes,
    gzipped: gzipped.length < file.bytes.length ? gzipped : null,
    etag: `"${new Bun.CryptoHasher('sha256').update(file.bytes).digest('base64url').slice(0, 22)}"`,
  }
}

function send(c: Context, file: PreparedFile, cacheControl: string): Response {
  c.header('Content-Type', file.type)
  c.header('Cache-Control', cacheControl)
  c.header('X-Content-Type-Options', 'nosniff')
  c.header('ETag', file.etag)
  c.header('Vary', 'Accept-Encoding')
  if (c.req.header('if-none-match') === file.etag) return c.body(null, 304)
  if (file.gzipped && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
    c.header('Content-Encoding', 'gzip')
    return c.body(file.gzipped)
  }
  return c.body(file.bytes)
}

/** `load` runs once, at the first request; a failed build is retried at the next one. */
export function mountUiAssets(app: Hono, load: () => Promise<UiFile[]>, logger: Logger): void {
  let prepared: Promise<Map<string, PreparedFile>> | null = null
  const files = () => {
    prepared ??= load()
      .then((list) => new Map(list.map((file) => [file.path, prepare(file)])))
      .catch((error) => {
        prepared = null
        throw error
      })
    return prepared
  }
  const unavailable = (c: Context, error: unknown) => {
    logger.error('the web UI could not be loaded', { error: String(error) })
    return c.text('The web UI could not be loaded on this server; see its log. The HTTP API (/docs) works without it.', 503)
  }

  // http://localhost/ (the built-in proxy in front of the API), as the original's README has it, opens the UI.
  app.get('/', (c) => c.redirect('/ui/', 302))
  app.get('/ui/assets/:name', async (c) => {
    let file: PreparedFile | undefined
    try {
      file = (await files()).get(`assets/${c.req.param('name')}`)
    } catch (error) {
      return unavailable(c, error)
    }
    return file ? send(c, file, IMMUTABLE) : c.text('not found', 404)
  })
  const page = async (c: Context) => {
    let index: PreparedFile | undefined
    try {
      index = (await files()).get('index.html')
    } catch (error) {
      return unavailable(c, error)
    }
    if (!index) return unavailable(c, 'index.html is missing from the bundle')
    c.header('Content-Security-Policy', UI_CONTENT_SECURITY_POLICY)
    c.header('X-Frame-Options', 'DENY')
    c.header('Referrer-Policy', 'same-origin')
    c.header('Cross-Origin-Opener-Policy', 'same-origin')
    return send(c, index, 'no-cache')
  }
  // /ui/ is routed as /ui (one trailing slash is ignored); every other page path is the UI's own.
  app.get('/ui', page)
  app.get('/ui/*', page)
}
