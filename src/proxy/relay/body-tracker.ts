/**
 * @module Where a message body ends, for bytes passed on unchanged (RFC 9112 §6.3): counted for
 * Content-Length, scanned for chunked (the same strict scanner as the raw forwarder's decoder), or at
 * the connection's close. Nothing is copied.
 */
import { createChunkedScanner, type BodyFraming } from '../http1-response.ts'
import type { RequestFraming } from './request-head.ts'

export interface BodyTracker {
  /** The index in `bytes` just past the body's end, or -1 if every byte from `from` on is body and more is due. Throws Http1ProtocolError on bad chunked framing. */
  consume(bytes: Uint8Array, from: number): number
  readonly isComplete: boolean
  /** The body ends when the connection closes (no length, not chunked). */
  readonly endsAtClose: boolean
  /**
   * Where, in the last consume()'s bytes, the bytes to pass on end when trailers are to be dropped: the
   * start of a chunked body's trailer section, `from` if it had begun earlier, or -1 when there is none.
   */
  readonly trailerCut: number
}

const COMPLETE: BodyTracker = Object.freeze({ consume: (_bytes: Uint8Array, from: number) => from, isComplete: true, endsAtClose: false, trailerCut: -1 })

export function createBodyTracker(framing: BodyFraming | RequestFraming): BodyTracker {
  switch (framing.kind) {
    case 'none':
      return COMPLETE
    case 'length':
      return framing.bytes === 0 ? COMPLETE : new LengthTracker(framing.bytes)
    case 'chunked': {
      const scanner = createChunkedScanner()
      let lastFrom = 0
      return {
        consume: (bytes, from) => ((lastFrom = from), scanner.scan(bytes, from)),
        get isComplete() {
          return scanner.isComplete
        },
        endsAtClose: false,
        get trailerCut() {
          return scanner.wasInTrailer ? lastFrom : scanner.trailerFrom
        },
      }
    }
    case 'close':
      return { consume: () => -1, isComplete: false, endsAtClose: true, trailerCut: -1 }
  }
}

/** A class, not a closure: one small object per message on the hot path. */
class LengthTracker implements BodyTracker {
  readonly endsAtClose = false
  readonly trailerCut = -1
  constructor(private remaining: number) {}

  consume(bytes: Uint8Array, from: number): number {
    const available = bytes.length - from
    if (available < this.remaining) {
      this.remaining -= available
      return -1
    }
    const end = from + this.remaining
    this.remaining = 0
    return end
  }

  get isComplete(): boolean {
    return this.remaining === 0
  }
}
