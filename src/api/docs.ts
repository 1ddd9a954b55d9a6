/**
 * @module /docs: the Scalar API reference, served entirely from this binary. Scalar's page loads its
 * bundle from a public CDN by default; here the bundle is served at /docs/standalone.js from the
 * installed package, or, in the compiled executable, from the copy `npm run build` embeds.
 */
import { Scalar } from '@scalar/hono-api-reference'
import type { Hono } from 'hono'
import { dirname, join } from 'node:path'

const BUNDLE_NAME = 'standalone.js'

/** Null when neither is there (an executable built without the asset): /docs then says so, nothing else breaks. */
function findScalarBundle(): Blob | null {
  const embedded = Bun.embeddedFiles.find((file) => (file as Blob & { name?: string }).name?.endsWith(BUNDLE_NAME))
  if (embedded) return embedded
  try {
    // The package does not export its browser bundle, so locate it beside its main entry.
    const entry = Bun.resolveSync('@scalar/api-reference', import.meta.dir)
    return Bun.file(join(dirname(entry), 'browser', BUNDLE_NAME))
  } catch {
    return null
  }
}

export function mountDocs(app: Hono): void {
  const bundle = findScalarBundle()
  app.get('/docs/standalone.js', (c) => {
    if (!bundle) return c.text('the API reference bundle is not part of this build; see /openapi.json', 404)
    c.header('Content-Type', 'text/javascript; charset=utf-8')
    c.header('Cache-Control', 'public, max-age=86400')
    return c.body(bundle.stream())
  })
  app.get(
    '/docs',
    Scalar({
      url: '/openapi.json',
      cdn: '/docs/standalone.js',
      pageTitle: 'oauth-https-proxy API',
      // No request may leave the host: no web fonts, no telemetry, no hosted request proxy.
      withDefaultFonts: false,
      telemetry: false,
      hideClientButton: true,
      // On localhost (where this API listens by default) Scalar turns on its hosted extras: "Ask AI"
      // calls api.scalar.com and offers to upload the document; the developer toolbar offers
      // Share (upload), Deploy and SDK generation on scalar.com.
      agent: { disabled: true },
      showDeveloperTools: 'never',
    } as Parameters<typeof Scalar>[0]),
  )
}
