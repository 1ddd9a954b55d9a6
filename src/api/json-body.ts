/**
 * @module Reads a JSON request body with a byte cap, for endpoints that validate the body themselves
 * and must answer bad input with their own error code (RFC 7591 §3.2.2 invalid_client_metadata
 * rather than the API's invalid_request). The cap is enforced while streaming, so a body that lies
 * about (or omits) its Content-Length cannot make us buffer more than the cap.
 */
import type { Context } from 'hono'
import { ApiError, type ApiErrorCode } from './errors.ts'

export interface JsonBodyOptions {
  readonly maxBytes: number
  /** The error code for a body that is not JSON (status 400). */
  readonly invalidCode: ApiErrorCode
}

export async function readJsonBody(c: Context, options: JsonBodyOptions): Promise<unknown> {
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(400, options.invalidCode, 'the request body must be JSON (Content-Type: application/json)')
  }
  const tooLarge = () => new ApiError(413, 'payload_too_large', `the request body must be at most ${options.maxBytes} bytes`)
  const declared = Number(c.req.header('content-length') ?? '0')
  if (declared > options.maxBytes) throw tooLarge()

  const chunks: Uint8Array[] = []
  let total = 0
  const reader = c.req.raw.body?.getReader()
  for (;;) {
    const chunk = reader ? await reader.read() : { done: true as const, value: undefined }
    if (chunk.done) break
    total += chunk.value.byteLength
    if (total > options.maxBytes) {
      await reader?.cancel()
      throw tooLarge()
    }
    chunks.push(chunk.value)
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)))
  } catch {
    throw new ApiError(400, options.invalidCode, 'the request body is not valid UTF-8 JSON')
  }
}
