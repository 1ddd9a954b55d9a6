/**
 * Adversarial review 2: POST /system/config (read-only review of src/api/config-*) against hostile
 * documents: YAML alias bombs and alias amplification, deep nesting, prototype keys, and proxies that point
 * at the edge itself. Every probe uses dry_run=true where it can, so nothing heavy is created.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestEdge, type TestEdge } from '../support/edge.ts'

let edge: TestEdge

beforeAll(async () => {
  edge = await startTestEdge()
})
afterAll(async () => {
  await edge?.stop()
})

const HEADER = 'format: oauth-https-proxy/config\nversion: 1\n'

async function importYaml(text: string, query = '?dry_run=true'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${edge.server.apiUrl}/system/config${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${edge.adminToken}`, 'content-type': 'application/yaml' },
    body: text,
  })
  const body = await response.text()
  try {
    return { status: response.status, body: JSON.parse(body) }
  } catch {
    return { status: response.status, body }
  }
}

describe('YAML aliases', () => {
  test('held up: a billion-laughs document → 400 at once (yaml\'s alias cap)', async () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for (let i = 1; i < 9; i++) {
      const name = String.fromCharCode(97 + i)
      const prev = String.fromCharCode(96 + i)
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(',')}]`)
    }
    const startedMs = Date.now()
    const answer = await importYaml(`${HEADER}x:\n${levels.map((line) => `  ${line}`).join('\n')}\n`)
    expect(answer.status).toBe(400)
    expect(Date.now() - startedMs).toBeLessThan(2_000)
  })

  test('a 320 KiB document whose aliases expand to 19 MiB of proxies (beyond the 16 MiB a document may have) → refused', async () => {
    // yaml caps alias *count* (100), not expanded *size*: one big scalar may be referenced 99 times. target_url
    // has no length limit, so 60 proxies share one 320 KiB URL: 19 MiB the server would store (and export,
    // which the 16 MiB import limit then refuses to read back). A 16 MiB document stores ~1.5 GiB this way.
    const big = `http://127.0.0.1:9/${'a'.repeat(320 * 1024)}`
    const proxies = Array.from({ length: 60 }, (_, i) => (i === 0 ? `  - proxy_hostname: amp0.test\n    target_url: &u "${big}"` : `  - proxy_hostname: amp${i}.test\n    target_url: *u`))
    const text = `${HEADER}proxies:\n${proxies.join('\n')}\n`
    expect(text.length).toBeLessThan(400 * 1024)
    const answer = await importYaml(text)
    expect([answer.status === 400 || answer.status === 413, answer.status]).toEqual([true, answer.status])
  })
})

describe('held up: nesting and prototype keys', () => {
  test('100,000 levels of YAML or JSON nesting → 400, the server still answers', async () => {
    const deepYaml = await importYaml(`${HEADER}x: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`)
    expect(deepYaml.status).toBe(400)
    const response = await fetch(`${edge.server.apiUrl}/system/config?dry_run=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${edge.adminToken}`, 'content-type': 'application/json' },
      body: `{"format":"oauth-https-proxy/config","version":1,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    })
    expect(response.status).toBe(400)
    expect((await fetch(`${edge.server.apiUrl}/health`)).status).toBeLessThan(500)
  })

  test('__proto__ and constructor at the top, in an entry and as header names pollute nothing', async () => {
    const top = await importYaml(`${HEADER}__proto__: {polluted: 1}\n`)
    expect(top.status).toBe(400)
    const entry = await importYaml(`${HEADER}proxies:\n  - proxy_hostname: proto.test\n    target_url: http://127.0.0.1:9/\n    __proto__: {enabled: false}\n`)
    expect(entry.status).toBe(400)
    const headers = await importYaml(`${HEADER}proxies:\n  - proxy_hostname: proto.test\n    target_url: http://127.0.0.1:9/\n    custom_headers: {__proto__: x, constructor: y}\n`)
    expect(headers.status).toBeLessThan(500)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(({} as Record<string, unknown>).enabled).toBeUndefined()
  })
})
