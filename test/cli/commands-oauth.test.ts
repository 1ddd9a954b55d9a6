/**
 * `oauth-https-proxy oauth client|token|keys …` against a real server whose GitHub is the fake: a
 * registered client holds two token families from real code flows, which the commands list, show,
 * revoke and delete; keys are listed and rotated over HTTP. No token value is ever printed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import * as oauth from 'oauth4webapi'
import { driveBrowser, startOAuthE2E, type OAuthE2E } from '../support/oauth-e2e.ts'
import { apiJson, createCliRunner, expectFailure, issueToken, type CliRunner } from './commands-cli.ts'

const REDIRECT_URI = 'http://127.0.0.1:33420/cb'
const insecure = { [oauth.allowInsecureRequests]: true } as const

let t: OAuthE2E
let cli: CliRunner
let userToken: string
let client: oauth.Client
const issued: string[] = []

type Family = { family_id: string; client_id: string; username: string }

/** One sign-in of alice through consent and the GitHub fake: one refresh-token family. */
async function signIn(as: oauth.AuthorizationServer): Promise<void> {
  const verifier = oauth.generateRandomCodeVerifier()
  const url = new URL(as.authorization_endpoint!)
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'st',
    scope: 'admin',
  })) url.searchParams.set(name, value)
  const run = await driveBrowser(t, url)
  const params = oauth.validateAuthResponse(as, client, run.final, 'st')
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT_URI, verifier, insecure)
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response)
  issued.push(tokens.access_token, tokens.refresh_token!)
}

beforeAll(async () => {
  t = await startOAuthE2E()
  cli = createCliRunner(t.issuer, t.edge.adminToken)
  userToken = await issueToken(t.edge, ['user'], 'reader', t.issuer)
  const issuer = new URL(t.issuer)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }))
  const registered = await oauth.dynamicClientRegistrationRequest(
    as,
    { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none', client_name: 'cli test app', grant_types: ['authorization_code', 'refresh_token'] },
    insecure,
  )
  client = (await oauth.processDynamicClientRegistrationResponse(registered)) as oauth.Client
  await signIn(as)
  await signIn(as)
})
afterAll(async () => {
  cli.cleanup()
  await t.stop()
})

/** Nothing the commands print may hold a token the server issued. */
function expectNoTokens(...outputs: string[]): void {
  for (const output of outputs) for (const token of issued) expect(output).not.toContain(token)
}

describe('oauth client', () => {
  test('list: --json is the API\'s list; the table has CLIENT ID, NAME, AUTH, GRANTS, ISSUED, LAST USED; --quiet the ids', async () => {
    const [json, table, quiet] = await Promise.all([cli.json(['oauth', 'client', 'list', '--json']), cli.run(['oauth', 'client', 'list']), cli.run(['oauth', 'client', 'list', '-q'])])
    expect(json).toEqual(await apiJson(t.edge, '/oauth/clients'))
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^CLIENT ID +NAME +AUTH +GRANTS +ISSUED +LAST USED$/)
    // Its two sign-ins exchanged codes: last used is a time too.
    expect(lines[1]).toMatch(new RegExp(`^${client.client_id} +cli test app +none +authorization_code, refresh_token +\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} +\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}$`))
    expect(quiet.stdout).toBe(`${client.client_id}\n`)
  })

  test('show: --json is the API\'s client with its two token families; the table lists the families', async () => {
    const shown = await cli.json<{ token_families: Family[] }>(['oauth', 'client', 'show', client.client_id, '--json'])
    expect(shown).toEqual(await apiJson(t.edge, `/oauth/clients/${client.client_id}`))
    expect(shown.token_families).toHaveLength(2)
    const table = await cli.run(['oauth', 'client', 'show', client.client_id])
    expect(table.stdout).toMatch(new RegExp(`^client_id: +${client.client_id}$`, 'm'))
    expect(table.stdout).toMatch(/^FAMILY ID +CLIENT +USER +SCOPES +CREATED +LAST USED +EXPIRES$/m)
    for (const family of shown.token_families) expect(table.stdout).toContain(family.family_id)
    expectNoTokens(table.stdout, JSON.stringify(shown))
  })
})

describe('oauth token', () => {
  test('list --user: --json is the API\'s families; revoke removes one; --quiet prints the id', async () => {
    const families = await cli.json<Family[]>(['oauth', 'token', 'list', '--user', 'alice', '--json'])
    expect(families).toEqual(await apiJson(t.edge, '/oauth/tokens?username=alice'))
    expect(families.map((family) => family.client_id)).toEqual([client.client_id, client.client_id])
    const table = await cli.run(['oauth', 'token', 'list', '--user', 'alice'])
    expect(table.stdout.split('\n')[1]).toMatch(new RegExp(`^${families[0]!.family_id} +${client.client_id} +alice +admin `))
    expectNoTokens(table.stdout)
    const revoked = await cli.run(['oauth', 'token', 'revoke', families[0]!.family_id, '-q'])
    expect(revoked).toEqual({ code: 0, stdout: `${families[0]!.family_id}\n`, stderr: '' })
    expect((await cli.run(['oauth', 'token', 'list', '--user', 'alice', '-q'])).stdout).toBe(`${families[1]!.family_id}\n`)
  })

  test('failures: no --user (2), an unknown family (4), a user-scope token (3)', async () => {
    const [noUser, unknown, user] = await Promise.all([
      cli.run(['oauth', 'token', 'list']),
      cli.run(['oauth', 'token', 'revoke', 'no-such-family']),
      cli.run(['oauth', 'token', 'revoke', 'no-such-family'], { token: userToken }),
    ])
    expectFailure(noUser, 2, /--user/)
    expectFailure(unknown, 4, /404 not_found: no live token family/)
    expectFailure(user, 3, /403/)
  })
})

describe('oauth keys', () => {
  test('list --json is the API\'s keys; rotate answers the new kid, which list then shows active', async () => {
    const before = await cli.json<{ kid: string; active: boolean }[]>(['oauth', 'keys', 'list', '--json'], { token: userToken })
    expect(before).toEqual(await apiJson(t.edge, '/oauth/keys'))
    const rotated = await cli.json<{ kid: string; retired_kid: string | null }>(['oauth', 'keys', 'rotate', '--json'])
    expect(rotated.retired_kid).toBe(before.find((key) => key.active)!.kid)
    const table = await cli.run(['oauth', 'keys', 'list'])
    expect(table.stdout.split('\n')[0]).toMatch(/^KID +ALG +ACTIVE +CREATED +RETIRED$/)
    expect(table.stdout).toMatch(new RegExp(`^${rotated.kid} +ES256 +yes `, 'm'))
  })

  test('failures: a stray argument (2), a user-scope token on rotate (3)', async () => {
    const [stray, user] = await Promise.all([cli.run(['oauth', 'keys', 'rotate', 'now']), cli.run(['oauth', 'keys', 'rotate'], { token: userToken })])
    expectFailure(stray, 2, /unexpected argument "now"/)
    expectFailure(user, 3, /403/)
  })
})

describe('oauth client delete', () => {
  test('a user-scope token cannot delete (3); admin deletes (its families go too); then show exits 4', async () => {
    expectFailure(await cli.run(['oauth', 'client', 'delete', client.client_id], { token: userToken }), 3, /403/)
    const deleted = await cli.run(['oauth', 'client', 'delete', client.client_id])
    expect(deleted).toEqual({ code: 0, stdout: '', stderr: `deleted OAuth client ${client.client_id} and revoked its tokens\n` })
    expect(await apiJson(t.edge, '/oauth/tokens?username=alice')).toEqual([])
    expectFailure(await cli.run(['oauth', 'client', 'show', client.client_id]), 4, /404 not_found: no registered client/)
  })
})

describe('oauth registration-token', () => {
  type Listed = { id: string; label: string | null; uses: number; single_use: boolean }

  test('create --label prints the token once (-q: alone); list --json is the API\'s list, the table never holds the token; delete removes it (-q: the id)', async () => {
    const created = await cli.run(['oauth', 'registration-token', 'create', '--label', 'build farm', '--reusable', '-q'])
    expect(created.code).toBe(0)
    const token = created.stdout.trim()
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    issued.push(token)

    const listed = await cli.json<Listed[]>(['oauth', 'registration-token', 'list', '--json'])
    expect(listed).toEqual(await apiJson(t.edge, '/oauth/registration-tokens'))
    const mine = listed.find((entry) => entry.label === 'build farm')!
    expect(mine).toMatchObject({ single_use: false, uses: 0 })
    const table = await cli.run(['oauth', 'registration-token', 'list'])
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID +LABEL +SINGLE USE +USES +CREATED BY +CREATED +EXPIRES$/)
    expect(table.stdout).toMatch(new RegExp(`^${mine.id} +build farm +no +0 +test-admin +\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} +\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}$`, 'm'))
    expectNoTokens(table.stdout, JSON.stringify(listed))

    expect(await cli.run(['oauth', 'registration-token', 'delete', mine.id, '-q'])).toEqual({ code: 0, stdout: `${mine.id}\n`, stderr: '' })
    expect((await cli.json<Listed[]>(['oauth', 'registration-token', 'list', '--json'])).map((entry) => entry.id)).not.toContain(mine.id)
  }, 30_000)

  test('failures: no id (2), an unknown id (4), a malformed one (the API\'s 400 naming it), a user-scope token (3)', async () => {
    const [noId, unknown, malformed, user, userList] = await Promise.all([
      cli.run(['oauth', 'registration-token', 'delete']),
      cli.run(['oauth', 'registration-token', 'delete', '0123456789abcdef']),
      cli.run(['oauth', 'registration-token', 'delete', 'nope']),
      cli.run(['oauth', 'registration-token', 'delete', '0123456789abcdef'], { token: userToken }),
      cli.run(['oauth', 'registration-token', 'list'], { token: userToken }),
    ])
    expectFailure(noId, 2, /positional argument: ID/)
    expectFailure(unknown, 4, /404 not_found: no registration token 0123456789abcdef/)
    expectFailure(malformed, 1, /400 invalid_request: path parameter id: expected the 16 hex digits/)
    expectFailure(user, 3, /403/)
    expectFailure(userList, 3, /403/)
  }, 30_000)
})
