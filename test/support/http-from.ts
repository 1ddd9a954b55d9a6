/**
 * @module One HTTP request over a fresh connection from a chosen loopback source address (127.0.0.x),
 * so that a server on 127.0.0.1 sees that many different clients: what per-address limits count.
 */
import { once } from 'node:events'
import { connect } from 'node:net'

export interface HttpReply {
  readonly status: number
  /** Lower-case names; a repeated field keeps its last value. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export interface HttpFromOptions {
  readonly method?: string
  readonly path: string
  /** The Host header; default 127.0.0.1:<port>. */
  readonly host?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
  /** HTTP/1.0 reaches the edge's hand-over server; 1.1 (default) its relay. */
  readonly version?: '1.0' | '1.1'
}

export async function httpFrom(localAddress: string, port: number, options: HttpFromOptions): Promise<HttpReply> {
  const socket = connect({ host: '127.0.0.1', port, localAddress })
  socket.on('error', () => {})
  await once(socket, 'connect')
  const fields: Record<string, string> = { host: options.host ?? `127.0.0.1:${port}`, ...options.headers, connection: 'close' }
  if (options.body !== undefined) fields['content-length'] = String(Buffer.byteLength(options.body))
  const head = `${options.method ?? 'GET'} ${options.path} HTTP/${options.version ?? '1.1'}\r\n${Object.entries(fields).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`
  socket.write(head + (options.body ?? ''))
  const chunks: Buffer[] = []
  try {
    for await (const chunk of socket) chunks.push(chunk as Buffer)
  } catch {
    // A reset ends the reply too.
  }
  return parseReply(Buffer.concat(chunks).toString('latin1'))
}

function parseReply(text: string): HttpReply {
  const headEnd = text.indexOf('\r\n\r\n')
  if (headEnd === -1) return { status: 0, headers: {}, body: '' }
  const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  let body = text.slice(headEnd + 4)
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') body = unchunk(body)
  return { status: Number(statusLine.split(' ')[1]), headers, body: Buffer.from(body, 'latin1').toString('utf8') }
}

/** RFC 9112 §7.1 chunked coding, for the small bodies these tests read. */
function unchunk(text: string): string {
  let out = ''
  let at = 0
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at)
    if (lineEnd === -1) return out
    const size = parseInt(text.slice(at, lineEnd), 16)
    if (!(size > 0)) return out
    out += text.slice(lineEnd + 2, lineEnd + 2 + size)
    at = lineEnd + 2 + size + 2
  }
}
