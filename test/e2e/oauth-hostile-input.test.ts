/**
 * Issue #4: bad input at every authorization-server endpoint gives the RFC error JSON or an escaped
 * HTML page, never a 500, never reflected markup.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startOAuthE2E, type OAuthE2E } from '../support/oauth-e2e.ts'

let t: OAuthE2E
beforeAll(async () => {
  t = await startOAuthE2E()
})
afterAll(() => t.stop())

const XSS = '<script>alert(1)</script>'
const HOSTILE_VALUES = ['', ' ', XSS, '"\'><img src=x onerror=alert(1)>', '%00', '\u0000', 'a'.repeat(5000), '../../etc/passwd', 'javascript:alert(1)', '{}', '[]', 'null', '\u202e', '%E0%A4%A']

async function expectSafe(response: Response, what: string) {
  const body = await response.text()
  expect({ what, status: response.status < 500 }).toEqual({ what, status: true })
  const type = response.headers.get('content-type') ?? ''
  if (type.includes('application/json')) {
    const json = JSON.parse(body) as { error?: unknown }
    expect({ what, hasError: response.status < 400 || typeof json.error === 'string' }).toEqual({ what, hasError: true })
  }
  if (type.includes('text/html')) expect({ what, reflected: body.includes(XSS) || body.includes('<img src=x') }).toEqual({ what, reflected: false })
  expect(body).not.toContain('    at ') // no stack trace
}

test('GET /authorize and /callback with hostile query parameters', async () => {
  const names = ['client_id', 'redirect_uri', 'response_type', 'code_challenge', 'code_challenge_method', 'state', 'scope', 'resource']
  for (const path of ['/authorize', '/callback']) {
    for (const value of HOSTILE_VALUES) {
      const url = new URL(path, t.issuer)
      for (const name of [...names, 'code', 'error', 'error_description']) url.searchParams.set(name, value)
      await expectSafe(await fetch(url, { redirect: 'manual' }), `${path} all=${JSON.stringify(value.slice(0, 20))}`)
      const repeated = new URL(path, t.issuer)
      repeated.searchParams.append('client_id', value)
      repeated.searchParams.append('client_id', value)
      await expectSafe(await fetch(repeated, { redirect: 'manual' }), `${path} repeated`)
    }
  }
})

test('POST endpoints with hostile bodies and content types', async () => {
  const paths = ['/token', '/revoke', '/introspect', '/device/code', '/register', '/authorize/consent']
  const bodies: [string, string][] = [
    ['application/x-www-form-urlencoded', 'grant_type=authorization_code&code=x&code_verifier=y&client_id=z'],
    ['application/x-www-form-urlencoded', 'grant_type=refresh_token&refresh_token=' + encodeURIComponent(XSS)],
    ['application/x-www-form-urlencoded', 'grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=x&client_id=y'],
    ['application/x-www-form-urlencoded', 'grant_type=a&grant_type=b'],
    ['application/x-www-form-urlencoded', '%%%&&&==='],
    ['application/x-www-form-urlencoded', 'token=' + 'a'.repeat(100_000)],
    ['application/json', '{"redirect_uris":[' + '"https://a.example/cb",'.repeat(50) + '"x"]}'],
    ['application/json', '{'],
    ['application/json', '[]'],
    ['application/json', 'null'],
    ['text/plain', XSS],
    ['', ''],
  ]
  for (const path of paths) {
    for (const [type, body] of bodies) {
      const headers: Record<string, string> = type ? { 'content-type': type } : {}
      await expectSafe(await fetch(new URL(path, t.issuer), { method: 'POST', headers, body, redirect: 'manual' }), `${path} ${type} ${body.slice(0, 30)}`)
      await expectSafe(
        await fetch(new URL(path, t.issuer), { method: 'POST', headers: { ...headers, authorization: 'Basic ' + btoa(`${XSS}:${XSS}`) }, body, redirect: 'manual' }),
        `${path} basic`,
      )
    }
  }
})

test('client authentication with malformed Basic credentials', async () => {
  for (const authorization of ['Basic', 'Basic !!!', 'Basic ' + btoa('no-colon'), 'Basic ' + btoa('%zz:%zz'), 'Bearer x', 'Basic ' + 'A'.repeat(10_000)]) {
    await expectSafe(
      await fetch(new URL('/token', t.issuer), { method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x' }),
      `token ${authorization.slice(0, 20)}`,
    )
  }
})
