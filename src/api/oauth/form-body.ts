/**
 * @module Reads an application/x-www-form-urlencoded body, the only encoding the OAuth token,
 * revocation and introspection endpoints take (RFC 6749 §4.1.3, RFC 7009 §2.1, RFC 7662 §2.1).
 * Strict where the RFCs are: a parameter may appear once (RFC 6749 §3.2), an empty value counts as
 * absent (§3.1), and a malformed percent-escape is an error rather than a guess.
 */
import type { Context } from 'hono'
import { readBodyBytes } from '../body-bytes.ts'
import { ApiError } from '../errors.ts'

export interface FormParams {
  /** The parameter's value, or undefined when it is absent or empty. */
  get(name: string): string | undefined
  /** Every value of a parameter allowed to repeat. */
  getAll(name: string): readonly string[]
}

export interface FormBodyOptions {
  readonly maxBytes: number
  /** Parameters that may repeat (RFC 8707 §2: resource); every other one must not. */
  readonly repeatable?: readonly string[]
}

const invalid = (description: string) => new ApiError(400, 'invalid_request', description)

/** application/x-www-form-urlencoded decoding: "+" is a space, then percent-decoding of UTF-8. */
export function decodeFormComponent(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    throw invalid('the request body has a malformed percent-encoding')
  }
}

/** Parses the body text; exported for tests and for parsing Basic credentials the same way. */
export function parseForm(text: string, repeatable: readonly string[] = []): FormParams {
  const values = new Map<string, string[]>()
  for (const pair of text.split('&')) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const name = decodeFormComponent(equals === -1 ? pair : pair.slice(0, equals))
    const value = equals === -1 ? '' : decodeFormComponent(pair.slice(equals + 1))
    // RFC 6749 §3.1: parameters sent without a value are treated as if omitted.
    if (value === '') continue
    const list = values.get(name) ?? []
    list.push(value)
    values.set(name, list)
  }
  for (const [name, list] of values) {
    // RFC 6749 §3.2: request parameters MUST NOT be included more than once.
    if (list.length > 1 && !repeatable.includes(name)) throw invalid(`${name}: must not be repeated (RFC 6749 §3.2)`)
  }
  return {
    get: (name) => values.get(name)?.[0],
    getAll: (name) => values.get(name) ?? [],
  }
}

export async function readFormBody(c: Context, options: FormBodyOptions): Promise<FormParams> {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw invalid('the request body must be application/x-www-form-urlencoded (RFC 6749 §4.1.3)')
  }
  const bytes = await readBodyBytes(c, options.maxBytes)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw invalid('the request body is not valid UTF-8')
  }
  return parseForm(text, options.repeatable)
}
