/** The access policy (allowlist, scope assignment) and RFC 8707 resource resolution, over hostile inputs. */
import { describe, expect, test } from 'bun:test'
import { accessFor, resolveResource, type DefaultScopeLists, type Scope, type SiteAccessLists } from '../../src/oauth/index.ts'

const user = (username: string) => ({ sub: '1', username })
const site = (lists: Partial<SiteAccessLists>): SiteAccessLists => ({ requiredUsers: null, adminUsers: null, userUsers: null, mcpUsers: null, ...lists })
const NO_DEFAULTS: DefaultScopeLists = { adminUsers: [], userUsers: [], mcpUsers: [] }
/** The shipped defaults: OAUTH_ADMIN_USERS and OAUTH_USER_USERS empty, OAUTH_MCP_USERS "*". */
const SHIPPED: DefaultScopeLists = { adminUsers: [], userUsers: [], mcpUsers: ['*'] }

describe('accessFor', () => {
  const cases: [name: string, login: string, lists: SiteAccessLists | null, defaults: DefaultScopeLists, allowed: boolean, scopes: Scope[]][] = [
    // The management API (site null): only the defaults, the allowlist is their union.
    ['API: an admin from the defaults', 'alice', null, { ...NO_DEFAULTS, adminUsers: ['alice'] }, true, ['admin']],
    ['API: nobody listed → denied', 'alice', null, NO_DEFAULTS, false, []],
    ['API: shipped defaults admit any GitHub user with mcp only', 'mallory', null, SHIPPED, true, ['mcp']],
    ['API: a user in every list holds every scope', 'bob', null, { adminUsers: ['bob'], userUsers: ['bob'], mcpUsers: ['bob'] }, true, ['admin', 'user', 'mcp']],

    // §12.2: the original denied mcp-only users at the allowlist. Null allowlist = union of all three lists.
    ['§12.2: an mcp-only user is admitted when the allowlist is null', 'carol', site({ mcpUsers: ['carol'] }), NO_DEFAULTS, true, ['mcp']],
    ['null allowlist: a user in no list is denied', 'dave', site({ adminUsers: ['alice'] }), NO_DEFAULTS, false, []],
    ['null allowlist: the union uses the effective lists (defaults fill nulls)', 'erin', site({ adminUsers: [] }), { ...NO_DEFAULTS, userUsers: ['erin'] }, true, ['user']],

    // §4.5 / §12.3: "*" means any GitHub user in every list alike.
    ['"*" in the allowlist admits anyone', 'frank', site({ requiredUsers: ['*'] }), NO_DEFAULTS, true, []],
    ['"*" in a scope list grants that scope to anyone admitted', 'frank', site({ requiredUsers: ['*'], userUsers: ['*'] }), NO_DEFAULTS, true, ['user']],
    ['"*" in a scope list with a null allowlist admits anyone', 'frank', site({ userUsers: ['*'] }), NO_DEFAULTS, true, ['user']],
    ['"*" in a default list behaves the same', 'frank', site({}), { ...NO_DEFAULTS, adminUsers: ['*'] }, true, ['admin']],

    // The allowlist gates entry: no scope list lets in someone it leaves out.
    ['allowlist excludes a user every scope list names', 'mallory', site({ requiredUsers: ['alice'], adminUsers: ['*'], userUsers: ['*'], mcpUsers: ['*'] }), NO_DEFAULTS, false, []],
    ['admitted by the allowlist, in no scope list → allowed, no scopes', 'alice', site({ requiredUsers: ['alice'] }), NO_DEFAULTS, true, []],
    ['an empty allowlist admits nobody, "*" elsewhere notwithstanding', 'alice', site({ requiredUsers: [], adminUsers: ['*'] }), NO_DEFAULTS, false, []],
    ['an empty site list does not fall back to the default', 'alice', site({ requiredUsers: ['alice'], adminUsers: [] }), { ...NO_DEFAULTS, adminUsers: ['alice'] }, true, []],
    ['a null site list falls back to the default', 'alice', site({ requiredUsers: ['alice'], adminUsers: null }), { ...NO_DEFAULTS, adminUsers: ['alice'] }, true, ['admin']],

    // GitHub logins are case-insensitive.
    ['"ALICE" matches "alice"', 'ALICE', site({ requiredUsers: ['alice'], adminUsers: ['alice'] }), NO_DEFAULTS, true, ['admin']],
    ['"alice" matches "Alice"', 'alice', site({ requiredUsers: ['Alice'], mcpUsers: ['ALICE'] }), NO_DEFAULTS, true, ['mcp']],

    // "*" counts only alone; lookalikes are literal entries that match no login.
    ...(['**', ' *', '* ', '*alice', 'al*ce', 'alice*', '%'] as const).map(
      (entry): [string, string, SiteAccessLists, DefaultScopeLists, boolean, Scope[]] => [`"${entry}" is not a wildcard`, 'alice', site({ requiredUsers: [entry], adminUsers: [entry] }), NO_DEFAULTS, false, []],
    ),
    ['a prefix of a login does not match', 'alice', site({ requiredUsers: ['alic', 'alice-', 'alice2'] }), NO_DEFAULTS, false, []],

    // A username that is not a GitHub login is never admitted, even by "*".
    ...(['', '*', '-alice', 'alice-', 'al--ice', 'a'.repeat(40), 'al ice', 'local:admin', 'alice\n', 'ａlice'] as const).map(
      (login): [string, string, SiteAccessLists, DefaultScopeLists, boolean, Scope[]] => [`username ${JSON.stringify(login)} is refused`, login, site({ requiredUsers: ['*', login], adminUsers: ['*', login] }), NO_DEFAULTS, false, []],
    ),
    ['a 39-character login is a login', 'a'.repeat(39), site({ requiredUsers: ['*'] }), NO_DEFAULTS, true, []],
  ]

  for (const [name, login, lists, defaults, allowed, scopes] of cases) {
    test(name, () => {
      expect(accessFor(user(login), lists, defaults)).toEqual({ allowed, scopes })
    })
  }
})

describe('resolveResource (RFC 8707 §2)', () => {
  const PROXIES = new Set(['https://a.example.com', 'https://*.example.com', 'http://localhost:8080', 'http://localhost', 'https://a.example.com:8443.evil'])
  const asked: string[] = []
  const known = (apiResource = 'http://127.0.0.1:9000') => ({
    apiResource,
    proxyResources: (resource: string) => {
      asked.push(resource)
      return PROXIES.has(resource)
    },
  })
  const API = 'http://127.0.0.1:9000'

  const cases: [requested: string | undefined, expected: string | null][] = [
    // Absent → the API; the API's resource in any equivalent spelling.
    [undefined, API],
    [API, API],
    [`${API}/`, API],
    ['HTTP://127.0.0.1:9000', API],
    [`${API}/proxy/targets`, API],
    // Proxies: exact origin, case-folded scheme and host, default port and trailing slash ignored, paths below it.
    ['https://a.example.com', 'https://a.example.com'],
    ['https://a.example.com/', 'https://a.example.com'],
    ['HTTPS://A.Example.COM', 'https://a.example.com'],
    ['https://a.example.com:443', 'https://a.example.com'],
    ['https://a.example.com/mcp', 'https://a.example.com'],
    ['https://a.example.com/mcp/', 'https://a.example.com'],
    ['http://localhost:8080', 'http://localhost:8080'],
    ['http://localhost:80/', 'http://localhost'],
    // Unknown resources.
    ['https://b.example.com', null],
    ['https://a.example.com:8443', null],
    ['https://a.example.com.', null],
    ['https://example.com', null],
    ['http://127.0.0.1:9001', null],
    // RFC 8707 §2: absolute URI, no fragment (not even an empty one); no query.
    ['', null],
    ['a.example.com', null],
    ['//a.example.com', null],
    ['/mcp', null],
    ['https:a.example.com', null],
    ['https://a.example.com#', null],
    ['https://a.example.com/#frag', null],
    ['https://a.example.com?', null],
    ['https://a.example.com/?x=1', null],
    [`${API}#`, null],
    // Userinfo, however empty.
    ['https://user@a.example.com', null],
    ['https://user:pw@a.example.com', null],
    ['https://@a.example.com', null],
    ['https://a.example.com@evil.test', null],
    // Other schemes, and http for a name that is not loopback.
    ['http://a.example.com', null],
    ['ftp://a.example.com', null],
    ['wss://a.example.com', null],
    ['javascript://a.example.com/%0aalert(1)', null],
    ['urn:ietf:params:oauth:x', null],
    ['http://localhost.evil.test', null],
    // "*" is not a host: a wildcard proxy's name is not a resource.
    ['https://*.example.com', null],
    ['https://a.*.com', null],
    // Hosts not written canonically, whitespace, controls, non-ASCII, backslashes.
    ['https://%61.example.com', null],
    ['https://a.example.com:0443', null],
    ['http://2130706433:9000', null],
    ['http://0x7f.0.0.1:9000', null],
    [' https://a.example.com', null],
    ['https://a.example.com ', null],
    ['https://a.exam\nple.com', null],
    ['https://a.example.com\t', null],
    ['https://a.example.com\u0000', null],
    ['https://ａ.example.com', null],
    ['https:\\\\a.example.com', null],
    ['https://a.example.com\\@evil.test', null],
    [`https://a.example.com/${'x'.repeat(2048)}`, null],
  ]

  for (const [requested, expected] of cases) {
    test(`${JSON.stringify(requested)} → ${expected}`, () => {
      expect(resolveResource(requested, known())).toBe(expected)
    })
  }

  test('the proxy callback sees only canonical https origins, or http ones for loopback names', () => {
    asked.length = 0
    for (const [requested] of cases) resolveResource(requested, known())
    expect(asked.length).toBeGreaterThan(5)
    for (const resource of asked) expect(resource).toMatch(/^(https:\/\/[a-z0-9.-]+(:\d+)?|http:\/\/(localhost|[a-z0-9.-]+\.localhost|127\.\d+\.\d+\.\d+)(:\d+)?)$/)
  })

  test('an API resource with a path holds paths below it on a segment boundary only', () => {
    const api = 'https://example.com/api'
    expect(resolveResource('https://example.com/api', known(api))).toBe(api)
    expect(resolveResource('https://example.com/api/', known(api))).toBe(api)
    expect(resolveResource('https://example.com/api/v1', known(api))).toBe(api)
    expect(resolveResource('https://example.com/apix', known(api))).toBeNull()
    expect(resolveResource('https://example.com', known(api))).toBeNull()
  })
})
