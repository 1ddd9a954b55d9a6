/**
 * The module boundaries of DESIGN §2 and STYLE B2, enforced on the import graph: layers import only
 * downwards, other modules only through their index.ts, domain siblings never each other, and each
 * outside library stays with its one owner.
 */
import { describe, expect, test } from 'bun:test'
import { Glob } from 'bun'
import { dirname, join, relative } from 'node:path'

const SRC = join(import.meta.dir, '../../src')
const LAYER: Record<string, number> = {
  lib: 0,
  config: 1,
  store: 2,
  events: 2,
  routes: 3,
  targets: 3,
  services: 3,
  oauth: 3,
  certs: 3,
  docker: 3,
  ports: 3,
  logs: 3,
  auth: 3,
  ratelimit: 3,
  proxy: 4,
  edge: 5,
  api: 6,
  ui: 7,
  cli: 7,
}
/** Files that wire everything together and may import any module's public index. */
const COMPOSITION_ROOTS = new Set(['main.ts', 'server.ts', 'compose-oauth.ts', 'compose-browser-login.ts', 'compose-auth.ts', 'compose-resource-server.ts', 'compose-logs.ts', 'compose-rate-limits.ts', 'compose-docker.ts', 'compose-store.ts'])
const LEAVES = new Set(['version.ts', 'stop-latch.ts'])
/** `serve` is the one command that runs the server rather than calling it over HTTP. */
const ALLOWED = new Set(['cli/serve.ts → server.ts', 'server.ts → compose-oauth.ts', 'server.ts → compose-resource-server.ts', 'server.ts → compose-logs.ts', 'server.ts → compose-rate-limits.ts', 'server.ts → compose-docker.ts', 'server.ts → compose-store.ts', 'compose-resource-server.ts → compose-browser-login.ts', 'compose-oauth.ts → compose-auth.ts', 'ui/bundle.ts → ../ui/build.ts'])
const LIBRARY_OWNERS: Record<string, string[]> = {
  ioredis: ['store', 'events'],
  'bun:sqlite': ['store'],
  jose: ['oauth'],
  'acme-client': ['certs'],
  '@peculiar/x509': ['certs'],
  dockerode: ['docker'],
  re2js: ['routes'],
  yaml: ['api', 'cli'],
  hono: ['api', 'oauth', 'proxy', 'ui'],
  '@scalar/hono-api-reference': ['api'],
}

interface Import {
  readonly file: string
  readonly specifier: string
}

async function imports(): Promise<Import[]> {
  const found: Import[] = []
  for await (const path of new Glob('**/*.{ts,tsx}').scan(SRC)) {
    const text = await Bun.file(join(SRC, path)).text()
    for (const match of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) found.push({ file: path, specifier: match[1]! })
    for (const match of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ file: path, specifier: match[1]! })
  }
  return found
}

const moduleOf = (path: string) => (path.includes('/') ? path.split('/')[0]! : path)

describe('module boundaries', () => {
  test('the scan sees the codebase (guards against a vacuous pass)', async () => {
    const all = await imports()
    expect(all.length).toBeGreaterThan(50)
    expect(all.some((i) => i.file === 'server.ts' && i.specifier === './store/index.ts')).toBe(true)
  })

  test('every cross-module import goes through index.ts, and only downwards', async () => {
    const violations: string[] = []
    for (const { file, specifier } of await imports()) {
      if (!specifier.startsWith('.')) continue
      const target = relative(SRC, join(SRC, dirname(file), specifier))
      const from = moduleOf(file)
      const to = moduleOf(target)
      if (from === to || LEAVES.has(target) || target === '../package.json' || ALLOWED.has(`${file} → ${target}`)) continue
      if (!target.endsWith('/index.ts')) violations.push(`${file} reaches into ${target} (import ${to}/index.ts instead)`)
      if (COMPOSITION_ROOTS.has(file)) continue
      const [fromLayer, toLayer] = [LAYER[from], LAYER[to]]
      if (fromLayer === undefined || toLayer === undefined) violations.push(`${file} → ${target}: module not in the layer table`)
      else if (toLayer > fromLayer) violations.push(`${file} imports upwards into ${to}`)
      else if (toLayer === fromLayer) violations.push(`${file} imports its sibling ${to} (inject it from the composition root)`)
    }
    expect(violations).toEqual([])
  })

  test('each outside library is used only by its owner', async () => {
    const violations: string[] = []
    for (const { file, specifier } of await imports()) {
      const library = Object.keys(LIBRARY_OWNERS).find((name) => specifier === name || specifier.startsWith(`${name}/`))
      if (library && !LIBRARY_OWNERS[library]!.includes(moduleOf(file))) violations.push(`${file} imports ${specifier}`)
    }
    expect(violations).toEqual([])
  })

  test('only config/ and the command line read process.env', async () => {
    const offenders: string[] = []
    for await (const path of new Glob('**/*.ts').scan(SRC)) {
      if (['config', 'cli'].includes(moduleOf(path)) || path === 'main.ts') continue
      if ((await Bun.file(join(SRC, path)).text()).includes('process.env')) offenders.push(path)
    }
    expect(offenders).toEqual([])
  })
})
