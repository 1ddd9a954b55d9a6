/**
 * /docs renders the Scalar reference in a real headless Chromium using nothing but this server:
 * every request is recorded, any request to another host is aborted and fails the test.
 * Also: /openapi.json describes each route with the security it enforces.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chromium, type Browser } from 'playwright-core'
import { cleanupSpawned, serveEnv, startServe, type ServedProcess } from '../support/serve.ts'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = '/tmp/docs.png'

let server: ServedProcess
let browser: Browser

beforeAll(async () => {
  server = await startServe({ env: await serveEnv() })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
})
afterAll(async () => {
  await browser?.close()
  await cleanupSpawned()
})

/** A fresh browser context on /docs, recording every request; requests to any other host are aborted. */
async function openDocs() {
  const context = await browser.newContext()
  const requested: string[] = []
  const outside: string[] = []
  const failed: string[] = []
  const pageErrors: string[] = []
  const isServer = (url: string) => {
    const { protocol, host } = new URL(url)
    return protocol === 'data:' || protocol === 'blob:' || host === `127.0.0.1:${server.port}`
  }
  await context.route('**/*', async (route) => {
    const url = route.request().url()
    if (isServer(url)) return route.continue()
    outside.push(url)
    return route.abort('blockedbyclient')
  })
  const page = await context.newPage()
  page.on('request', (request) => requested.push(`${request.method()} ${request.url()}`))
  page.on('requestfailed', (request) => failed.push(`${request.url()} (${request.failure()?.errorText})`))
  page.on('response', (response) => {
    if (response.status() >= 400) failed.push(`${response.url()} (HTTP ${response.status()})`)
  })
  page.on('pageerror', (error) => pageErrors.push(error.message))

  const response = await page.goto(`${server.url}/docs`, { waitUntil: 'load' })
  expect(response?.status()).toBe(200)
  try {
    // Operation summaries come from /openapi.json, so seeing them proves the spec loaded and rendered.
    await page.getByText('Liveness and store status').first().waitFor({ state: 'visible', timeout: 15_000 })
    await page.getByText('Version, node and store of this server').first().waitFor({ state: 'visible', timeout: 5_000 })
    await page.waitForLoadState('networkidle')
  } catch (error) {
    await context.close()
    throw new Error(`/docs did not render: ${(error as Error).message.split('\n')[0]}\nblocked outside requests: ${JSON.stringify(outside)}\nfailed: ${JSON.stringify(failed)}\npage errors: ${JSON.stringify(pageErrors)}`)
  }
  return { context, page, requested, outside, failed, pageErrors, isServer }
}

describe('/docs', () => {
  test('renders the API reference offline: every request goes to the server itself and none fails', async () => {
    const docs = await openDocs()
    try {
      await docs.page.screenshot({ path: SCREENSHOT })
      expect(docs.outside).toEqual([])
      expect(docs.failed).toEqual([])
      expect(docs.pageErrors).toEqual([])
      expect(docs.requested.filter((entry) => !docs.isServer(entry.split(' ')[1]!))).toEqual([])
      expect(docs.requested).toContain(`GET ${server.url}/docs`)
      expect(docs.requested).toContain(`GET ${server.url}/docs/standalone.js`)
      expect(docs.requested).toContain(`GET ${server.url}/openapi.json`)
    } finally {
      await docs.context.close()
    }
  }, 60_000)

  test('offers none of Scalar\'s hosted extras (Ask AI, developer toolbar, SDK generation), even on localhost', async () => {
    const docs = await openDocs()
    try {
      for (const label of ['Ask AI', 'Developer Tools', 'Share', 'Deploy', 'Generate SDK', 'Generate SDKs & MCP']) {
        expect({ label, shown: await docs.page.getByText(label, { exact: true }).count() }).toEqual({ label, shown: 0 })
      }
      expect(docs.outside).toEqual([])
    } finally {
      await docs.context.close()
    }
  }, 60_000)

  test('the built-in client sends "Test Request" straight to this server (no hosted request proxy)', async () => {
    const docs = await openDocs()
    try {
      await docs.page.getByText('Test Request', { exact: true }).first().click()
      const sent = docs.page.waitForRequest((request) => request.url() === `${server.url}/health`, { timeout: 10_000 })
      await docs.page.getByRole('button', { name: /send/i }).first().click()
      await sent
      await docs.page.getByText('200 OK').first().waitFor({ state: 'visible', timeout: 10_000 })
      expect(docs.outside).toEqual([])
      expect(docs.failed).toEqual([])
    } finally {
      await docs.context.close()
    }
  }, 60_000)

  test('GET /docs/standalone.js serves the Scalar bundle as JavaScript', async () => {
    const response = await fetch(`${server.url}/docs/standalone.js`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('javascript')
    expect((await response.text()).length).toBeGreaterThan(100_000)
  })
})

describe('/openapi.json', () => {
  type Operation = { security?: Record<string, string[]>[]; summary?: string; responses: Record<string, unknown> }
  type Doc = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } }

  test('lists every route with the security it enforces: public ones security [], the others bearerAuth with their scope', async () => {
    const response = await fetch(`${server.url}/openapi.json`)
    expect(response.status).toBe(200)
    const doc = (await response.json()) as Doc
    expect(doc.openapi).toMatch(/^3\.1/)
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' })

    const expected: [string, string, Operation['security']][] = [
      ['/health', 'get', []],
      ['/jwks', 'get', []],
      ['/system/info', 'get', [{ bearerAuth: ['user'] }]],
      ['/oauth/keys', 'get', [{ bearerAuth: ['user'] }]],
      ['/oauth/keys/rotate', 'post', [{ bearerAuth: ['admin'] }]],
    ]
    for (const [path, method, security] of expected) {
      const operation = doc.paths[path]?.[method]
      expect(operation, `${method.toUpperCase()} ${path} is documented`).toBeDefined()
      expect({ path, method, security: operation!.security }).toEqual({ path, method, security })
      if (security!.length > 0) expect(Object.keys(operation!.responses)).toEqual(expect.arrayContaining(['401', '403']))
    }
  })

  test('what the document says is what the server enforces: public routes answer without a token, the others 401', async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as Doc
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const response = await fetch(`${server.url}${path}`, { method: method.toUpperCase() })
        await response.body?.cancel()
        const isPublic = operation.security?.length === 0
        expect({ path, method, status: response.status === 401 ? 401 : 'not 401' }).toEqual({ path, method, status: isPublic ? 'not 401' : 401 })
      }
    }
  })
})
