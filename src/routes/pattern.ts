/**
 * @module Route path patterns: whether a prefix or regex pattern is usable (the API's 400), and the one way
 * a regex pattern is compiled for matching, so validation and the data plane cannot disagree.
 *
 * Regexes run on re2js, the JavaScript port of RE2: matching is linear in the path's length whatever the
 * pattern, so no route can stall the event loop (no backtracking, hence no backreferences or lookaheads).
 * @see https://github.com/google/re2/wiki/Syntax
 */
import { RE2JS } from 're2js'

/** Longest pattern accepted, in characters: bounds compile time and memory per route. */
export const MAX_PATTERN_LENGTH = 1024

/** Printable ASCII without space (0x21–0x7E), minus the characters that cannot occur in a path: `?` starts
 * the query, `#` the fragment (RFC 3986 §3.3), and `\` is not a path character at all. */
const PREFIX_PATTERN_SHAPE = /^\/[\x21-\x22\x24-\x3e\x40-\x5b\x5d-\x7e]*$/

/** null when the pattern is usable; otherwise a message for a 400 (e.g. "not a valid regular expression: missing )"). */
export function checkPattern(pattern: string, isRegex: boolean): string | null {
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern is longer than ${MAX_PATTERN_LENGTH} characters`
  if (isRegex) return checkRegex(pattern)
  if (!pattern.startsWith('/')) return 'a prefix pattern must start with "/"'
  if (!PREFIX_PATTERN_SHAPE.test(pattern)) {
    return 'a prefix pattern must be printable ASCII without spaces, "?", "#" or "\\"'
  }
  return null
}

function checkRegex(pattern: string): string | null {
  try {
    RE2JS.compile(pattern)
    return null
  } catch (error) {
    return `not a valid regular expression: ${describeCompileError(error)}`
  }
}

/**
 * Compiles a regex route pattern so that it only matches at the start of the path (like Python's
 * `re.match`, the original's semantics), not necessarily up to its end. Throws what `RE2JS.compile` throws
 * when the pattern is invalid; check it with {@link checkPattern} first.
 *
 * The pattern is compiled on its own first: wrapping alone would accept unbalanced input such as
 * `a)|(b`, which becomes the valid `^(?:a)|(b)`.
 */
export function compileStartAnchoredRegex(pattern: string): RE2JS {
  RE2JS.compile(pattern)
  // `^` outside the group is begin-of-text whatever flags (e.g. `(?m)`) the pattern sets inside it.
  return RE2JS.compile(`^(?:${pattern})`)
}

/** re2js messages read "error parsing regexp: missing closing ): `(`"; the prefix adds nothing for a user. */
function describeCompileError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/^error parsing regexp: /, '')
}
