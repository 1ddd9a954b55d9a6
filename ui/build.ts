/**
 * @module Builds the web UI: ui/src bundled by Bun.build (minified, split into chunks, names hashed)
 * plus an index.html that loads them. The server calls buildUi() in memory when it runs from source;
 * `npm run build` (its prebuild step: `bun ui/build.ts dist/ui`) writes the same files for the
 * executable to embed, so the tests and the executable serve one bundle.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** Where hashed files are served from; index.html names them by absolute path, so any /ui/... URL can serve it. */
export const ASSET_PREFIX = '/ui/assets/'

export interface UiFile {
  /** Relative to /ui/: "index.html", "assets/main-1a2b3c4d.js". */
  readonly path: string
  readonly type: string
  readonly bytes: Uint8Array<ArrayBuffer>
}

const TITLE = 'oauth-https-proxy'

function indexHtml(scripts: readonly string[], styles: readonly string[], icon: string | undefined): string {
  // No inline script or style: the page's CSP allows only files of its own origin.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${TITLE}</title>
${icon ? `<link rel="icon" href="${ASSET_PREFIX}${icon}">\n` : ''}${styles.map((name) => `<link rel="stylesheet" href="${ASSET_PREFIX}${name}">`).join('\n')}
${scripts.map((name) => `<script type="module" src="${ASSET_PREFIX}${name}"></script>`).join('\n')}
</head>
<body>
<div id="root"><p class="boot">Loading…</p></div>
<noscript><p>This page needs JavaScript. The same operations are available through the HTTP API (<a href="/docs">/docs</a>) and the command line.</p></noscript>
</body>
</html>
`
}

/** The UI's files, in memory. Throws with the bundler's messages when the source does not build. */
export async function buildUi(): Promise<UiFile[]> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, 'src/main.tsx')],
    target: 'browser',
    minify: true,
    splitting: true,
    publicPath: ASSET_PREFIX,
    naming: { entry: '[name]-[hash].[ext]', chunk: '[name]-[hash].[ext]', asset: '[name]-[hash].[ext]' },
    // The server's own pages render with hono/jsx (tsconfig.json); this bundle renders in the browser.
    jsx: { runtime: 'automatic', importSource: 'hono/jsx/dom' },
    throw: false,
  })
  if (!result.success) throw new Error(`the web UI does not build: ${result.logs.map((log) => log.message).join('; ')}`)
  const files: UiFile[] = []
  for (const output of result.outputs) {
    const name = output.path.replace(/^\.\//, '')
    files.push({ path: `assets/${name}`, type: output.type, bytes: new Uint8Array(await output.arrayBuffer()) })
  }
  const entries = result.outputs.filter((output) => output.kind === 'entry-point').map((output) => output.path.replace(/^\.\//, ''))
  const styles = files.filter((file) => file.path.endsWith('.css')).map((file) => file.path.slice('assets/'.length))
  const icon = files.find((file) => file.path.endsWith('.svg'))?.path.slice('assets/'.length)
  files.push({ path: 'index.html', type: 'text/html;charset=utf-8', bytes: new TextEncoder().encode(indexHtml(entries, styles, icon)) })
  return files
}

/** `bun ui/build.ts <dir>`: writes the files under <dir> (emptied first), for `bun build --compile --asset <dir>`. */
if (import.meta.main) {
  const outDir = process.argv[2]
  if (!outDir) {
    console.error('usage: bun ui/build.ts <output directory>')
    process.exit(2)
  }
  const files = await buildUi()
  rmSync(outDir, { recursive: true, force: true })
  for (const file of files) {
    mkdirSync(dirname(join(outDir, file.path)), { recursive: true })
    await Bun.write(join(outDir, file.path), file.bytes)
  }
  const gzipped = files.reduce((sum, file) => sum + Bun.gzipSync(file.bytes).length, 0)
  console.log(`web UI: ${files.length} files, ${(gzipped / 1024).toFixed(1)} KiB gzipped, in ${outDir}`)
}
