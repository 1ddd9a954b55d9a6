/** @module Route pattern rules: what the API refuses with a 400, and the literal start the matcher indexes regexes by. */
import { describe, expect, test } from 'bun:test'
import { RE2JS } from 're2js'
import { checkPattern, compileRegexPattern, literalPrefixOf, MAX_PATTERN_LENGTH } from '../../src/routes/pattern.ts'

describe('checkPattern: prefix patterns', () => {
  test('accepts paths that start with "/", including "/" itself and a trailing "/"', () => {
    for (const pattern of ['/', '/api', '/api/', '/api/v1', "/a-b_c.d~e!$&'()*+,;=:@%20[]{}|^`"]) {
      expect(checkPattern(pattern, false)).toBeNull()
    }
  })

  test('refuses a pattern that does not start with "/"', () => {
    for (const pattern of ['', 'api', ' /api', '*']) expect(checkPattern(pattern, false)).toBe('a prefix pattern must start with "/"')
  })

  test('refuses spaces, "?", "#", "\\", control and non-ASCII characters: a path cannot contain them', () => {
    for (const pattern of ['/a b', '/a?b', '/a#b', '/a\\b', '/a\tb', '/a\u0000', '/é', '/a\u007f']) {
      expect(checkPattern(pattern, false)).toBe('a prefix pattern must be printable ASCII without spaces, "?", "#" or "\\"')
    }
  })

  test(`refuses more than ${MAX_PATTERN_LENGTH} characters, accepts exactly ${MAX_PATTERN_LENGTH}`, () => {
    expect(checkPattern(`/${'a'.repeat(MAX_PATTERN_LENGTH - 1)}`, false)).toBeNull()
    expect(checkPattern(`/${'a'.repeat(MAX_PATTERN_LENGTH)}`, false)).toBe(`pattern is longer than ${MAX_PATTERN_LENGTH} characters`)
  })
})

describe('checkPattern: regex patterns (RE2 syntax)', () => {
  test('accepts RE2 syntax, including patterns that would backtrack catastrophically elsewhere', () => {
    for (const pattern of ['/v[0-9]+', '^/api/(?P<id>\\d+)$', '(?i)/admin', '(a+)+$', '.*\\.php', '', '/a|/b']) {
      expect(checkPattern(pattern, true)).toBeNull()
    }
  })

  test('refuses a pattern RE2 cannot compile, saying why', () => {
    expect(checkPattern('(', true)).toBe('not a valid regular expression: missing closing ): `(`')
    expect(checkPattern('[z-a]', true)).toBe('not a valid regular expression: invalid character class range: `z-a`')
    expect(checkPattern('a**', true)).toStartWith('not a valid regular expression: invalid nested repetition operator')
    expect(checkPattern('a)|(b', true)).toStartWith('not a valid regular expression: ')
  })

  test('refuses backreferences and lookarounds: RE2 has none, as they need backtracking', () => {
    for (const pattern of ['(a)\\1', '(?=a)', '(?!a)b', '(?<=a)b', '(?<!a)b']) {
      expect(checkPattern(pattern, true)).toStartWith('not a valid regular expression: ')
    }
  })

  test(`refuses more than ${MAX_PATTERN_LENGTH} characters`, () => {
    expect(checkPattern('a'.repeat(MAX_PATTERN_LENGTH + 1), true)).toBe(`pattern is longer than ${MAX_PATTERN_LENGTH} characters`)
  })
})

describe('compileRegexPattern: the one compile behind checkPattern and the matcher', () => {
  test('gives the compiled regex for a usable pattern', () => {
    const compiled = compileRegexPattern('/v[0-9]+')
    expect('regex' in compiled && compiled.regex.matcher('/v12/x').lookingAt()).toBe(true)
  })

  test('gives the same problem checkPattern reports, for syntax and for length', () => {
    for (const pattern of ['(', 'a)|(b', 'x'.repeat(MAX_PATTERN_LENGTH + 1)]) {
      expect(compileRegexPattern(pattern)).toEqual({ problem: checkPattern(pattern, true)! })
    }
  })
})

describe('literalPrefixOf: the text every match starts with', () => {
  const cases: [pattern: string, literal: string][] = [
    ['/api/v[0-9]+', '/api/v'],
    ['/api/users', '/api/users'],
    ['^/api/x', '/api/x'],
    ['/ab*', '/a'],
    ['/ab?', '/a'],
    ['/ab{0,2}', '/a'],
    ['/ab+', '/ab'],
    ['/ab+?', '/ab'],
    ['/\\.well-known/x', '/.well-known/x'],
    ['/a\\.*', '/a'],
    ['/a\\d+', '/a'],
    ['/a.b', '/a'],
    ['/a(b|c)', '/a'],
    ['/a[bc]', '/a'],
    ['/a$', '/a'],
    ['/a|/b', ''],
    ['^/a|^/b', ''],
    ['/a(b)|c', ''],
    ['/a[|]|x', ''],
    ['/a[]|]x', '/a'],
    ['/a[^]|]x', '/a'],
    ['/a\\|b', '/a|b'],
    ['/a\\Q|\\E', '/a'],
    ['/a\\Q(\\E|x', ''],
    ['(?i)/admin', ''],
    ['.*\\.php', ''],
    ['(a+)+$', ''],
    ['/é', '/'],
    ['', ''],
  ]
  for (const [pattern, literal] of cases) {
    test(`${JSON.stringify(pattern)} → ${JSON.stringify(literal)}`, () => {
      expect(literalPrefixOf(pattern)).toBe(literal)
    })
  }

  test('is a true prefix of every match: checked against RE2 on sample paths', () => {
    const paths = ['/', '/a', '/ab', '/abb', '/a|b', '/a.', '/a/b', '/api/v1', '/api/users/1', '/.well-known/x', '/b', '/admin', '/ADMIN', 'x.php']
    for (const [pattern] of cases) {
      const literal = literalPrefixOf(pattern)
      const regex = RE2JS.compile(`^(?:${pattern})`)
      for (const path of paths) if (regex.test(path)) expect(path.startsWith(literal)).toBe(true)
    }
  })
})
