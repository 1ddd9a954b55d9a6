/**
 * @module A load loop of keep-alive clients on raw TCP, each sending its next GET as soon as the last
 * answer is complete, that tells apart how requests end: answered, a connection refused, a fresh
 * connection reset before any answer (a listener closed with it still queued), and a request that
 * failed on a connection the server had taken (in flight). What a shutdown or a killed process does to
 * traffic is told by those counts.
 */
import { connect, type Socket } from 'node:net'

export interface LoadTally {
  /** Complete 200 answers. */
  ok: number
  /** Answers with `connection: close` (the server ends the connection after them). */
  closedByServer: number
  /** Connections refused (ECONNREFUSED): nothing listens. */
  refused: number
  /** The first request of a fresh connection got no byte before the connection failed. */
  freshReset: number
  /** A request failed after the server had answered on its connection before, or mid-answer, or with another status. */
  inFlightFailed: number
  /** The first few failures, for the report. */
  readonly details: string[]
}

export interface LoadLoop {
  readonly tally: LoadTally
  /** Ends every client after its current request; resolves when all have ended. */
  stop(): Promise<void>
}

export interface LoadOptions {
  readonly port: number
  readonly host: string
  readonly path: string
  readonly clients: number
  /** A client refused or failed waits this long before it connects again. */
  readonly retryMs?: number
}

export function startKeepAliveLoad(options: LoadOptions): LoadLoop {
  const tally: LoadTally = { ok: 0, closedByServer: 0, refused: 0, freshReset: 0, inFlightFailed: 0, details: [] }
  let isStopping = false
  const note = (detail: string) => void (tally.details.length < 10 && tally.details.push(detail))
  const request = `GET ${options.path} HTTP/1.1\r\nhost: ${options.host}\r\n\r\n`

  const runClient = async () => {
    let socket: Socket | null = null
    let answered = 0
    while (!isStopping) {
      if (!socket) {
        try {
          socket = await open(options.port)
          answered = 0
        } catch (error) {
          tally.refused++
          if ((error as { code?: string }).code !== 'ECONNREFUSED') note(`connect: ${String(error)}`)
          await Bun.sleep(options.retryMs ?? 50)
          continue
        }
      }
      const reply = await exchange(socket, request)
      if (reply.kind === 'answer' && reply.status === 200) {
        tally.ok++
        answered++
        if (!reply.keepsOpen) {
          tally.closedByServer++
          socket.destroy()
          socket = null
        }
        continue
      }
      socket.destroy()
      socket = null
      if (reply.kind === 'failed' && reply.bytes === 0 && answered === 0) tally.freshReset++
      else {
        tally.inFlightFailed++
        note(reply.kind === 'answer' ? `status ${reply.status}` : `${reply.why} after ${reply.bytes} bytes, ${answered} answers on the connection`)
      }
      await Bun.sleep(options.retryMs ?? 50)
    }
    socket?.destroy()
  }

  const clients = Array.from({ length: options.clients }, () => runClient())
  return {
    tally,
    async stop() {
      isStopping = true
      await Promise.all(clients)
    },
  }
}

type Reply = { kind: 'answer'; status: number; keepsOpen: boolean } | { kind: 'failed'; why: string; bytes: number }

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.removeAllListeners('error')
      // A reset between requests must not throw: the next exchange sees the close.
      socket.on('error', () => {})
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

/** Writes one request and reads its answer (Content-Length framing: the load's backend always sends one). */
function exchange(socket: Socket, request: string): Promise<Reply> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0)
    const finish = (reply: Reply) => {
      socket.removeListener('data', onData)
      socket.removeListener('close', onClose)
      socket.removeListener('error', onError)
      resolve(reply)
    }
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const text = received.toString('latin1')
      const headEnd = text.indexOf('\r\n\r\n')
      if (headEnd === -1) return
      const head = text.slice(0, headEnd).toLowerCase()
      const length = Number(/\r\ncontent-length: *(\d+)/.exec(head)?.[1] ?? NaN)
      if (!(received.length >= headEnd + 4 + length)) return
      const status = Number(/^http\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
      finish({ kind: 'answer', status, keepsOpen: !/\r\nconnection: *close/.test(head) })
    }
    const onClose = () => finish({ kind: 'failed', why: 'closed', bytes: received.length })
    const onError = (error: Error) => finish({ kind: 'failed', why: String(error), bytes: received.length })
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.once('error', onError)
    socket.write(request)
  })
}
