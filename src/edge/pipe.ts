/**
 * @module Byte pipes between a public connection and a loopback listener (a proxy instance's full HTTP
 * server, or the TLS terminator), with backpressure both ways: bytes that cannot be written yet wait,
 * and the other side stops reading until they are gone. The client behind the loopback connection is
 * recorded in the hand-off under that connection's ports (DESIGN §3.2).
 */
import type { Socket } from 'bun'
import type { ClientInfo, Deadlines } from '../proxy/index.ts'
import type { Handoff } from './handoff.ts'

/** One direction of a pipe: the socket written to, and what could not be written to it yet. */
export interface Side {
  socket: Socket<unknown> | null
  pending: Uint8Array | null
  endWhenFlushed: boolean
}

export interface Pipe {
  readonly toClient: Side
  readonly toLoopback: Side
  loopbackPort: number
  targetPort: number
  /** When the loopback side last sent bytes (the deadlines' clock), for the client connection's idle timeout. */
  lastActivityMs: number
}

export const newSide = (socket: Socket<unknown> | null): Side => ({ socket, pending: null, endWhenFlushed: false })

/** Writes to one side; on a short write keeps the rest and pauses the source until drain. */
export function send(side: Side, source: Socket<unknown> | null, bytes: Uint8Array): void {
  if (side.pending) {
    side.pending = concat(side.pending, bytes)
    return
  }
  const written = side.socket!.write(bytes)
  if (written < bytes.length) {
    // A copy (Buffer#slice would be a view): the runtime may reuse the buffer it handed to the callback.
    side.pending = new Uint8Array(bytes.subarray(Math.max(written, 0)))
    source?.pause()
  }
}

/** On drain: writes what waited, then lets the source read again (or ends the side if asked to). */
export function flush(side: Side, source: Socket<unknown> | null): void {
  if (!side.pending || !side.socket) return
  const bytes = side.pending
  const written = side.socket.write(bytes)
  if (written < bytes.length) {
    side.pending = bytes.subarray(Math.max(written, 0))
    return
  }
  side.pending = null
  if (side.endWhenFlushed) side.socket.end()
  else source?.resume()
}

/** Ends a side once whatever still waits for it has been written. */
export function endSide(side: Side): void {
  if (side.pending) side.endWhenFlushed = true
  else side.socket?.end()
}

export interface PipeEvents {
  /** The loopback connection closed or failed: the pair is over. */
  readonly onClose: () => void
  /** Sees what the loopback side sends, before it goes to the client. */
  readonly fromServer?: (bytes: Uint8Array) => void
}

/**
 * Connects to 127.0.0.1:targetPort and records the client in the hand-off; from then on the caller
 * passes the client's bytes with send(pipe.toLoopback, client, bytes).
 */
export async function openPipe(client: Socket<unknown>, targetPort: number, clientInfo: ClientInfo, handoff: Handoff, deadlines: Deadlines, events: PipeEvents): Promise<Pipe> {
  const pipe: Pipe = { toClient: newSide(client), toLoopback: newSide(null), loopbackPort: 0, targetPort, lastActivityMs: deadlines.nowMs }
  const loopback = await Bun.connect<Pipe>({
    hostname: '127.0.0.1',
    port: targetPort,
    data: pipe,
    socket: {
      data(socket, bytes) {
        socket.data.lastActivityMs = deadlines.nowMs
        events.fromServer?.(bytes)
        send(socket.data.toClient, socket as Socket<unknown>, bytes)
      },
      drain(socket) {
        flush(socket.data.toLoopback, client)
      },
      end(socket) {
        endSide(socket.data.toClient)
      },
      close: () => events.onClose(),
      error: () => events.onClose(),
    },
  })
  pipe.toLoopback.socket = loopback as Socket<unknown>
  pipe.loopbackPort = loopback.localPort
  handoff.record(loopback.localPort, targetPort, clientInfo)
  return pipe
}

/** Always a fresh copy: the runtime may reuse the buffer it handed to the data callback. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length)
  joined.set(a)
  joined.set(b, a.length)
  return joined
}
