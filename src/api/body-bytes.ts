/**
 * @module Reads a request body with a byte cap enforced while streaming, so a body that lies about
 * (or omits) its Content-Length cannot make us buffer more than the cap.
 */
import type { Context } from 'hono'
import { ApiError } from './errors.ts'

/** The whole body; 413 payload_too_large past maxBytes. */
export async function readBodyBytes(c: Context, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () => new ApiError(413, 'payload_too_large', `the request body must be at most ${maxBytes} bytes`)
  const declared = Number(c.req.header('content-length') ?? '0')
  if (declared > maxBytes) throw tooLarge()

  const chunks: Uint8Array[] = []
  let total = 0
  const reader = c.req.raw.body?.getReader()
  for (;;) {
    const chunk = reader ? await reader.read() : { done: true as const, value: undefined }
    if (chunk.done) break
    total += chunk.value.byteLength
    if (total > maxBytes) {
      await reader?.cancel()
      throw tooLarge()
    }
    chunks.push(chunk.value)
  }
  return Buffer.concat(chunks)
}
