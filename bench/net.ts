/**
 * @module Loopback helpers for the benchmark: free ports, polling, process RSS, and a one-request
 * HTTP probe on a fresh connection (fetch would reuse a connection the dispatcher already routed to
 * another hostname).
 */
import { readFileSync } from 'node:fs'
import { connect } from 'node:tls'

// Ports and polling are the tests' own helpers: one implementation for both.
export { freePort, waitFor } from '../test/support/ports.ts'

/** Resident set size of a process, from /proc/<pid>/status. */
export function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`)
  return Number(match[1]) / 1024
}

/**
 * GET / with the given Host on a new connection (Connection: close); resolves with the response's
 * status code, or 0 when the connection is refused or closed without a status line.
 */
export function statusThrough(port: number, host: string, timeoutMs = 5_000): Promise<number> {
  return statusOfRequest(port, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, timeoutMs)
}

/** Like statusThrough, for a request head given whole (e.g. HTTP/1.0, which the relay hands over). */
export function statusOfRequest(port: number, head: string, timeoutMs = 5_000): Promise<number> {
  return new Promise((resolve) => {
    let response = ''
    let settled = false
    const finish = (status: number) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(status)
    }
    const timer = setTimeout(() => finish(0), timeoutMs)
    Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open: (socket) => void socket.write(head),
        data(socket, bytes) {
          response += new TextDecoder().decode(bytes)
          const status = /^HTTP\/1\.[01] (\d{3})/.exec(response)
          if (status) {
            finish(Number(status[1]))
            socket.end()
          }
        },
        close: () => finish(0),
        error: () => finish(0),
      },
    }).catch(() => finish(0))
  })
}

/** Like statusThrough, over TLS with the hostname as SNI (certificates are not checked: they are self-signed). */
export function statusThroughTls(port: number, servername: string, timeoutMs = 5_000): Promise<number> {
  return new Promise((resolve) => {
    let head = ''
    const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false })
    const finish = (status: number) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(status)
    }
    const timer = setTimeout(() => finish(0), timeoutMs)
    socket.once('secureConnect', () => socket.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`))
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1')
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)
      if (status) finish(Number(status[1]))
    })
    socket.once('error', () => finish(0))
    socket.once('close', () => finish(0))
  })
}

/** Runs work over items with at most `concurrency` in flight; results keep the items' order. */
export async function mapConcurrently<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  return results
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
