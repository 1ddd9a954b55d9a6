/**
 * @module Route path patterns: whether a prefix or regex pattern is usable (the API's 400), the one way
 * a regex pattern is compiled (so validation and the data plane cannot disagree), and the literal text a
 * regex's matches start with, which the matcher indexes it by.
 *
 * Regexes run on re2js, the JavaScript port of RE2: matching is linear in the path's length whatever the
 * pattern, so no route can stall the event loop (no backtracking, hence no backreferences or lookaheads).
 * @see https://github.com/google/re2/wiki/Syntax
 */
import { RE2JS } from 're2js'

/** Longest pattern accepted, in characters: bounds compile time and memory per route. */
export const MAX_PATTERN_LENGTH = 1024
const TOO_LONG = `pattern is longer than ${MAX_PATTERN_LENGTH} characters`

/** Printable ASCII without space (0x21–0x7E), minus the characters that cannot occur in a path: `?` starts
 * the query, `#` the fragment (RFC 3986 §3.3), and `\` is not a path character at all. */
const PREFIX_PATTERN_SHAPE = /^\/[\x21-\x22\x24-\x3e\x40-\x5b\x5d-\x7e]*$/

/** null when the pattern is usable; otherwise a message for a 400 (e.g. "not a valid regular expression: missing )"). */
export function checkPattern(pattern: string, isRegex: boolean): string | null {
  if (isRegex) {
    const compiled = compileRegexPattern(pattern)
    return 'problem' in compiled ? compiled.problem : null
  }
  if (pattern.length > MAX_PATTERN_LENGTH) return TOO_LONG
  if (!pattern.startsWith('/')) return 'a prefix pattern must start with "/"'
  if (!PREFIX_PATTERN_SHAPE.test(pattern)) {
    return 'a prefix pattern must be printable ASCII without spaces, "?", "#" or "\\"'
  }
  return null
}

/**
 * The one way a regex route pattern is compiled, for validation and matching alike: RE2 syntax, no
 * flags. Where it must match (at the start of the path only) is the matcher's business.
 */
export function compileRegexPattern(pattern: string): { readonly regex: RE2JS } | { readonly problem: string } {
  if (pattern.length > MAX_PATTERN_LENGTH) return { problem: TOO_LONG }
  try {
    return { regex: RE2JS.compile(pattern) }
  } catch (error) {
    return { problem: `not a valid regular expression: ${describeCompileError(error)}` }
  }
}

/**
 * The text every path matched by this regex starts with, so the matcher only tries the regex on paths
 * that start with it: `/api/v[0-9]+` → `/api/v`, `/ab*` → `/a` (the `b` is optional), `/\.well-known/x`
 * → `/.well-known/x`. Conservative: when unsure it returns less, down to "" (try on every path) — for a
 * top-level `|`, a leading group or class, or anything that is not printable ASCII. A leading `^` is
 * skipped: the match is anchored at the start anyway.
 */
export function literalPrefixOf(pattern: string): string {
  if (hasTopLevelAlternation(pattern)) return ''
  let literal = ''
  let i = pattern.startsWith('^') ? 1 : 0
  while (i < pattern.length) {
    const code = pattern.charCodeAt(i)
    if (code === BACKSLASH) {
      // RE2 syntax: an escaped ASCII character that is not a letter or digit is always itself.
      const escaped = pattern.charCodeAt(i + 1)
      if (!(escaped >= 0x20 && escaped <= 0x7e) || isAsciiAlphanumeric(escaped)) break
      literal += pattern[i + 1]
      i += 2
      continue
    }
    if (code < 0x20 || code > 0x7e || REGEX_META.includes(pattern[i]!)) break
    literal += pattern[i]
    i += 1
  }
  // A quantifier that allows zero repetitions makes the last literal character optional (`+` does not).
  if (mayRepeatZeroTimes(pattern.slice(i))) literal = literal.slice(0, -1)
  return literal
}

/**
 * Whether what follows a literal character lets it occur zero times: a `*`, `?` or `{` quantifier,
 * possibly after `+` and after what is no atom (a flag group, an empty `\Q\E`, a stray `\E`), which
 * RE2 reads through: `/api(?i)?` is `/api?` and matches `/ap`, `/+(?i)?` matches "" (both found by the
 * fuzz suite, test/fuzz/route-matcher.test.ts). Errs towards true.
 */
function mayRepeatZeroTimes(rest: string): boolean {
  for (let j = 0; j < rest.length; ) {
    const ch = rest[j]
    if (ch === '*' || ch === '?' || ch === '{') return true
    if (ch === '+') {
      j += rest[j + 1] === '?' ? 2 : 1 // `+?` is the lazy `+`: still at least once
      continue
    }
    const skipped = NOT_AN_ATOM.exec(rest.slice(j))
    if (skipped === null) return false
    j += skipped[0].length
  }
  return false
}

/** What may stand between a literal character and its quantifier: a flag group, an empty quote, a stray \E. */
const NOT_AN_ATOM = /^(?:\(\?[A-Za-z-]*\)|\\Q\\E|\\E)/

const BACKSLASH = 0x5c
const REGEX_META = '.+*?()|[]{}^$'

function isAsciiAlphanumeric(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)
}

/**
 * Whether `|` occurs outside every group, class and `\Q…\E` quote: then the pattern has alternatives
 * that need not share a prefix. Errs towards true: a class is taken to end at its first unescaped `]`,
 * never later than RE2 ends it (e.g. `[[:alpha:]|]`), so no real top-level `|` is hidden inside it.
 */
function hasTopLevelAlternation(pattern: string): boolean {
  let depth = 0
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '\\') {
      if (pattern[i + 1] !== 'Q') {
        i += 1
        continue
      }
      const quoteEnd = pattern.indexOf('\\E', i + 2)
      if (quoteEnd < 0) return false
      i = quoteEnd + 1
    } else if (ch === '[') {
      i = classEndOf(pattern, i)
    } else if (ch === '(') {
      depth += 1
    } else if (ch === ')') {
      depth -= 1
    } else if (ch === '|' && depth <= 0) {
      return true
    }
  }
  return false
}

/** Index of the `]` closing the class opened at `open`; `]` first in the class (`[]a]`, `[^]a]`) is literal. */
function classEndOf(pattern: string, open: number): number {
  let i = open + 1
  if (pattern[i] === '^') i += 1
  if (pattern[i] === ']') i += 1
  while (i < pattern.length) {
    if (pattern[i] === '\\') i += 2
    else if (pattern[i] === ']') return i
    else i += 1
  }
  return pattern.length
}

/** re2js messages read "error parsing regexp: missing closing ): `(`"; the prefix adds nothing for a user. */
function describeCompileError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/^error parsing regexp: /, '')
}
