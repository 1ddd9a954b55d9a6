/** @module A public plain-TCP listener (HTTP, or the PROXY-fed HTTPS one) over the listener kind's handlers. */
import type { SocketHandler, TCPSocketListener } from 'bun'
import { describeBindError } from '../lib/index.ts'
import type { Connection } from './connection.ts'

export interface Dispatcher {
  readonly port: number
  stop(): void
}

export function startDispatcher(handlers: SocketHandler<Connection>, options: { readonly hostname: string; readonly port: number; readonly setting: string }): Dispatcher {
  let listener: TCPSocketListener<Connection>
  try {
    listener = Bun.listen<Connection>({ hostname: options.hostname, port: options.port, allowHalfOpen: true, socket: handlers })
  } catch (error) {
    throw describeBindError(options.setting, options.hostname, options.port, error)
  }
  return {
    port: listener.port,
    stop: () => listener.stop(true),
  }
}
