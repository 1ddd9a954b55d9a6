/**
 * @module Reads a JSON request body, for endpoints that validate the body themselves
 * and must answer bad input with their own error code (RFC 7591 §3.2.2 invalid_client_metadata
 * rather than the API's invalid_request), with a byte cap (body-bytes.ts).
 */
import type { Context } from 'hono'
import { readBodyBytes } from '../body-bytes.ts'
import { ApiError, type ApiErrorCode } from '../errors.ts'

export interface JsonBodyOptions {
  readonly maxBytes: number
  /** The error code for a body that is not JSON (status 400). */
  readonly invalidCode: ApiErrorCode
}

export async function readJsonBody(c: Context, options: JsonBodyOptions): Promise<unknown> {
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(400, options.invalidCode, 'the request body must be JSON (Content-Type: application/json)')
  }
  const bytes = await readBodyBytes(c, options.maxBytes)
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new ApiError(400, options.invalidCode, 'the request body is not valid UTF-8 JSON')
  }
}
