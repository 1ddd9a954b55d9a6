/**
 * @module One HTTPS request over a fresh TLS connection with a chosen SNI (and, if given, a chosen loopback
 * source address), reporting the certificate seen.
 */
import { connect } from 'node:tls'

export interface TlsResult {
  readonly status: number
  readonly body: string
  readonly fingerprint: string
}

export function httpsRequest(port: number, servername: string, path = '/', timeoutMs = 5_000, localAddress?: string): Promise<TlsResult> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ...(localAddress ? { localAddress } : {}) } as Parameters<typeof connect>[0])
    const chunks: Buffer[] = []
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('timeout'))), timeoutMs)
    let fingerprint = ''
    socket.once('secureConnect', () => {
      fingerprint = socket.getPeerCertificate().fingerprint256 ?? ''
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.once('error', (error) => (clearTimeout(timer), reject(error)))
    socket.once('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4), fingerprint })
    })
  })
}
