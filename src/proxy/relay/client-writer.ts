/**
 * @module Writing to the client socket with backpressure: what the socket does not take waits here
 * (copied), the backend stops being read until it is gone, and an end asked for meanwhile waits for
 * it too. pause() and resume() of the client's reads are system calls (the socket's epoll
 * registration), so they are made only when they change something.
 */
import type { Socket } from 'bun'
import type { Deadlines } from '../deadlines.ts'
import { assemble, copyRange } from './buffers.ts'

export class ClientWriter {
  private pending: Buffer | null = null
  private isEndWhenFlushed = false
  private isPaused = false
  /** The client was sent our end of the connection. */
  isEndSent = false
  /** When bytes last moved either way (the deadlines' coarse clock): the idle timeout counts from it. */
  lastActivityMs: number

  constructor(
    private readonly socket: Socket<unknown>,
    private readonly deadlines: Deadlines,
    /** The socket's buffer is full: stop reading the backend until flush() says so. */
    private readonly onBackpressure: () => void,
  ) {
    this.lastActivityMs = deadlines.nowMs
  }

  get hasPending(): boolean {
    return this.pending !== null
  }

  /** Writes bytes[start, end). */
  write(bytes: Buffer, start = 0, end = bytes.length): void {
    this.lastActivityMs = this.deadlines.nowMs
    if (this.pending) {
      this.pending = Buffer.concat([this.pending, copyRange(bytes, start, end)])
      return
    }
    const written = this.socket.write(bytes, start, end - start)
    if (written < end - start) {
      this.pending = copyRange(bytes, start + Math.max(written, 0), end)
      this.onBackpressure()
    }
  }

  /** Writes `head`, then bytes[start, end), in one write. */
  writeWithHead(head: string, bytes: Buffer, start: number, end: number): void {
    this.write(assemble(head, bytes, start, end), 0, head.length + end - start)
  }

  /** Ends the connection once whatever waits has been written. */
  end(): void {
    if (this.pending) {
      this.isEndWhenFlushed = true
      return
    }
    this.isEndSent = true
    this.socket.end()
  }

  /** On drain: writes what waited. True when nothing waits any more and the connection is still open for more. */
  flush(): boolean {
    const pending = this.pending
    if (!pending) return !this.isEndSent
    const written = this.socket.write(pending)
    if (written < pending.length) {
      this.pending = pending.subarray(Math.max(written, 0))
      return false
    }
    this.pending = null
    if (!this.isEndWhenFlushed) return true
    this.isEndSent = true
    this.socket.end()
    return false
  }

  get isReadingPaused(): boolean {
    return this.isPaused
  }

  pauseReading(): void {
    if (!this.isPaused) this.socket.pause()
    this.isPaused = true
  }

  resumeReading(): void {
    if (this.isPaused) this.socket.resume()
    this.isPaused = false
  }
}
