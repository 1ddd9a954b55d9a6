/** @module A public plain-TCP listener (HTTP, or the PROXY-fed HTTPS one) over the listener kind's handlers. */
import type { SocketHandler, TCPSocketListener, TCPSocketListenOptions } from 'bun'
import { describeBindError } from '../lib/index.ts'
import type { Connection } from './connection.ts'

export interface Dispatcher {
  readonly port: number
  /** No new connections; the open ones go on (a shutdown's drain). */
  stopAccepting(): void
  /** No new connections, and the open ones are closed. */
  stop(): void
}

export interface DispatcherOptions {
  readonly hostname: string
  readonly port: number
  readonly setting: string
  /** SO_REUSEPORT: several processes (workers) listen on the port, and the kernel spreads connections over them. */
  readonly reusePort?: boolean
}

export function startDispatcher(handlers: SocketHandler<Connection>, options: DispatcherOptions): Dispatcher {
  let listener: TCPSocketListener<Connection>
  try {
    // Bun.listen honours reusePort (checked on 1.4.5: a second process binds and gets connections), though its typings name it only for connect.
    const listenOptions: TCPSocketListenOptions<Connection> & { readonly reusePort: boolean } = { hostname: options.hostname, port: options.port, allowHalfOpen: true, reusePort: options.reusePort === true, socket: handlers }
    listener = Bun.listen<Connection>(listenOptions)
  } catch (error) {
    throw describeBindError(options.setting, options.hostname, options.port, error)
  }
  return {
    port: listener.port,
    stopAccepting: () => listener.stop(false),
    stop: () => listener.stop(true),
  }
}
